"""Timeline markers (``home``, ``notifications``) and the member's preferences."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import markers as markers_db
from fedinet.errors import ValidationError
from fedinet.web.api.args import read_document, runtime_of, string_list
from fedinet.web.api.auth import require_scope
from fedinet.web.api.member_entities import marker_to_mastodon, preferences_to_mastodon
from fedinet.web.api.params import read_params

__all__ = ["routes"]

TIMELINES: Final = ("home", "notifications")


async def get_markers(request: Request) -> Response:
    me = await require_scope(request, "read:statuses")
    params = await read_params(request)
    wanted = [t for t in string_list(params, "timeline") if t in TIMELINES]
    found = await markers_db.get_markers(runtime_of(request).pool, me.actor.id, wanted)
    return JSONResponse({name: marker_to_mastodon(marker) for name, marker in found.items()})


async def set_markers(request: Request) -> Response:
    me = await require_scope(request, "write:statuses")
    document = await read_document(request)
    changes: dict[str, int] = {}
    for timeline in TIMELINES:
        value = document.get(timeline)
        if value is None:
            continue
        raw = value.get("last_read_id") if isinstance(value, dict) else None
        if not isinstance(raw, str | int) or not str(raw).isdigit() or len(str(raw)) > 19:
            raise ValidationError(
                f"{timeline}[last_read_id] must be an id", field=f"{timeline}[last_read_id]"
            )
        changes[timeline] = int(raw)
    if not changes:
        raise ValidationError("give home[last_read_id] or notifications[last_read_id]")
    runtime = runtime_of(request)
    result = {}
    async with runtime.pool.acquire() as conn, conn.transaction():
        for timeline, last_read_id in changes.items():
            marker = await markers_db.set_marker(conn, me.actor.id, timeline, last_read_id)
            result[timeline] = marker_to_mastodon(marker)
    return JSONResponse(result)


async def preferences(request: Request) -> Response:
    me = await require_scope(request, "read:accounts")
    return JSONResponse(preferences_to_mastodon(me.user))


routes: list[BaseRoute] = [
    Route("/api/v1/markers", get_markers, methods=["GET"]),
    Route("/api/v1/markers", set_markers, methods=["POST"]),
    Route("/api/v1/preferences", preferences, methods=["GET"]),
]
