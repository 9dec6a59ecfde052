"""``GET /api/v1/directory``: people to meet, by motive, interest and region."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.db.directory import list_directory
from fedinet.runtime import Runtime
from fedinet.vocabulary import normalize_motives
from fedinet.web.api.auth import optional_user
from fedinet.web.api.entities import load_accounts

__all__ = ["routes"]

MAX_LIMIT = 80


def _int(raw: str | None, default: int, top: int) -> int:
    if raw is None or not raw.isdigit():
        return default
    return max(0, min(int(raw), top))


async def directory(request: Request) -> Response:
    me = await optional_user(request, "read:accounts")
    runtime: Runtime = request.app.state.runtime
    query = request.query_params
    motives = normalize_motives(query.getlist("motive") + query.getlist("motive[]"))
    interests = [
        tag
        for tag in (
            normalize_hashtag(v) for v in query.getlist("interest") + query.getlist("interest[]")
        )
        if tag
    ]
    region = (query.get("region") or "").strip() or None
    if query.get("near_me", "").lower() in ("1", "true") and me is not None:
        region = me.actor.region
    found = await list_directory(
        runtime.pool,
        viewer_id=me.actor.id if me else None,
        motives=motives,
        interests=interests,
        region=region,
        local_only=query.get("local", "").lower() in ("1", "true"),
        order_new=query.get("order") == "new",
        limit=_int(query.get("limit"), 40, MAX_LIMIT) or 40,
        offset=_int(query.get("offset"), 0, 10_000),
    )
    accounts = await load_accounts(runtime.pool, runtime.settings, [a for a, _ in found])
    return JSONResponse([accounts[actor.id] for actor, _ in found])


routes: list[BaseRoute] = [Route("/api/v1/directory", directory, methods=["GET"])]
