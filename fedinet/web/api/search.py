"""``GET /api/v2/search``: accounts by handle or URL, statuses by URL, resolving remote
ones through WebFinger and signed fetches when ``resolve=true``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.errors import ValidationError
from fedinet.federation.lookup import resolve_acct, resolve_url
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime
from fedinet.web.api.auth import optional_user
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.render import statuses_json

__all__ = ["routes"]


async def search(request: Request) -> Response:
    me = await optional_user(request, "read:search")
    runtime: Runtime = request.app.state.runtime
    query = (request.query_params.get("q") or "").strip()
    if not query:
        raise ValidationError("q is required", field="q")
    kind = request.query_params.get("type")
    # Only signed-in members may make fedinet ask other servers, as in Mastodon.
    resolve = me is not None and request.query_params.get("resolve", "").lower() in (
        "1",
        "true",
    )
    found: Actor | Status | None = None
    if query.startswith(("http://", "https://")):
        found = await resolve_url(runtime, query, resolve=resolve)
    elif "@" in query.lstrip("@") or kind in (None, "accounts"):
        found = await resolve_acct(runtime, query, resolve=resolve)
    accounts: list[Actor] = (
        [found] if isinstance(found, Actor) and kind in (None, "accounts") else []
    )
    statuses: list[Status] = (
        [found] if isinstance(found, Status) and kind in (None, "statuses") else []
    )
    viewer = me.actor if me else None
    loaded = await load_accounts(runtime.pool, runtime.settings, accounts)
    return JSONResponse(
        {
            "accounts": [loaded[a.id] for a in accounts],
            "statuses": await statuses_json(runtime.pool, runtime.settings, statuses, viewer),
            "hashtags": [],
        }
    )


routes: list[BaseRoute] = [Route("/api/v2/search", search, methods=["GET"])]
