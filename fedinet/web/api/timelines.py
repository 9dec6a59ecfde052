"""Timelines: home (fan-out on write) and public."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import timelines as timelines_db
from fedinet.runtime import Runtime
from fedinet.web.api.auth import optional_user, require_scope
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.render import statuses_json

__all__ = ["routes"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "on", "yes")


async def home(request: Request) -> Response:
    me = await require_scope(request, "read:statuses")
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    # one connection for the page and what it shows (each pool round trip costs a reset)
    async with runtime.pool.acquire() as conn:
        rows = await timelines_db.home_timeline(
            conn,
            me.actor.id,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda s: s.id)
        shown = await statuses_json(conn, runtime.settings, rows, me.actor)
    response = JSONResponse(shown)
    set_link_header(response, request, page, [s.id for s in rows])
    return response


async def public(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    local, remote = _flag(request, "local"), _flag(request, "remote")
    async with runtime.pool.acquire() as conn:
        rows = await timelines_db.public_timeline(
            conn,
            local_only=local and not remote,
            remote_only=remote and not local,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda s: s.id)
        viewer = me.actor if me else None
        shown = await statuses_json(conn, runtime.settings, rows, viewer)
    response = JSONResponse(shown)
    set_link_header(response, request, page, [s.id for s in rows])
    return response


routes: list[BaseRoute] = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
]
