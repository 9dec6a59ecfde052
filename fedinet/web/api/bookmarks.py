"""The statuses a member bookmarked or favourited, paged by when they did it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import bookmarks as bookmarks_db
from fedinet.models import Status
from fedinet.web.api.args import runtime_of
from fedinet.web.api.auth import require_scope
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.render import statuses_json

__all__ = ["routes"]

Lister = Callable[..., Awaitable[list[tuple[int, Status]]]]


def _statuses_of(lister: Lister, scope: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        me = await require_scope(request, scope)
        runtime = runtime_of(request)
        page = parse_page(request.query_params)
        async with runtime.pool.acquire() as conn:
            rows = await lister(
                conn,
                me.actor.id,
                limit=page.limit,
                max_id=page.max_id,
                since_id=page.since_id,
                min_id=page.min_id,
            )
            rows = page.newest_first(rows, key=lambda r: r[0])
            body = await statuses_json(conn, runtime.settings, [s for _, s in rows], me.actor)
        response = JSONResponse(body)
        set_link_header(response, request, page, [page_id for page_id, _ in rows])
        return response

    return endpoint


routes: list[BaseRoute] = [
    Route(
        "/api/v1/bookmarks",
        _statuses_of(bookmarks_db.list_bookmarked, "read:bookmarks"),
        methods=["GET"],
    ),
    Route(
        "/api/v1/favourites",
        _statuses_of(bookmarks_db.list_favourited, "read:favourites"),
        methods=["GET"],
    ),
]
