"""More about one status: its thread, its source and history, who favourited or boosted
it; bookmarking and pinning it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import mutes as mutes_db
from fedinet.db import statuses as statuses_db
from fedinet.db import threads as threads_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound
from fedinet.models import Actor, Status
from fedinet.services import bookmarks
from fedinet.services.statuses import visible_to
from fedinet.web.api.args import path_id, runtime_of
from fedinet.web.api.auth import optional_user, require_scope
from fedinet.web.api.entities import load_account, load_accounts
from fedinet.web.api.member_entities import status_history_to_mastodon, status_source_to_mastodon
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.render import status_json, statuses_json

__all__ = ["routes"]


async def _visible(conn: Connection, status_id: int, viewer: Actor | None) -> Status:
    status = await statuses_db.get_status_by_id(conn, status_id)
    if status is None or not await visible_to(conn, status, viewer):
        raise NotFound("Record not found")
    return status


async def _only_visible(
    conn: Connection, statuses: Sequence[Status], viewer: Actor | None
) -> list[Status]:
    """What ``viewer`` may see, less what they hide (blocks, mutes, domains)."""
    hidden = (
        await mutes_db.hidden_authors(conn, viewer.id, list({s.actor_id for s in statuses}))
        if viewer is not None and statuses
        else set()
    )
    return [s for s in statuses if s.actor_id not in hidden and await visible_to(conn, s, viewer)]


async def context(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    viewer = me.actor if me else None
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        status = await _visible(conn, path_id(request), viewer)
        ancestors = await _only_visible(
            conn, await threads_db.list_ancestors(conn, status.id), viewer
        )
        descendants = await _only_visible(
            conn, await threads_db.list_descendants(conn, status.id), viewer
        )
        rendered = await statuses_json(
            conn, runtime.settings, [*ancestors, *descendants], viewer, context="thread"
        )
    return JSONResponse(
        {"ancestors": rendered[: len(ancestors)], "descendants": rendered[len(ancestors) :]}
    )


async def source(request: Request) -> Response:
    me = await require_scope(request, "read:statuses")
    async with runtime_of(request).pool.acquire() as conn:
        status = await _visible(conn, path_id(request), me.actor)
    return JSONResponse(status_source_to_mastodon(status))


async def history(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        status = await _visible(conn, path_id(request), me.actor if me else None)
        author = await actors_db.get_actor_by_id(conn, status.actor_id)
        assert author is not None
        account = await load_account(conn, runtime.settings, author)
        edits = await threads_db.list_status_edits(conn, status.id)
    return JSONResponse(status_history_to_mastodon(status, edits, account))


Lister = Callable[..., Awaitable[list[tuple[int, Actor]]]]


def _accounts_of(lister: Lister) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        me = await optional_user(request, "read:accounts")
        runtime = runtime_of(request)
        page = parse_page(request.query_params, default_limit=40)
        async with runtime.pool.acquire() as conn:
            status = await _visible(conn, path_id(request), me.actor if me else None)
            rows = await lister(
                conn,
                status.id,
                limit=page.limit,
                max_id=page.max_id,
                since_id=page.since_id,
                min_id=page.min_id,
            )
            rows = page.newest_first(rows, key=lambda r: r[0])
            accounts = await load_accounts(conn, runtime.settings, [a for _, a in rows])
        response = JSONResponse([accounts[actor.id] for _, actor in rows])
        set_link_header(response, request, page, [page_id for page_id, _ in rows])
        return response

    return endpoint


Action = Callable[[Connection, Settings, Actor, int], Awaitable[Status]]


def _status_action(action: Action, *scopes: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        me = await require_scope(request, *scopes)
        runtime = runtime_of(request)
        async with runtime.pool.acquire() as conn:
            status = await action(conn, runtime.settings, me.actor, path_id(request))
            return JSONResponse(await status_json(conn, runtime.settings, status, me.actor))

    return endpoint


routes: list[BaseRoute] = [
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route(
        "/api/v1/statuses/{id}/favourited_by",
        _accounts_of(threads_db.list_favouriters),
        methods=["GET"],
    ),
    Route(
        "/api/v1/statuses/{id}/reblogged_by",
        _accounts_of(threads_db.list_rebloggers),
        methods=["GET"],
    ),
    Route(
        "/api/v1/statuses/{id}/bookmark",
        _status_action(bookmarks.bookmark, "write:bookmarks"),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unbookmark",
        _status_action(bookmarks.unbookmark, "write:bookmarks"),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/pin",
        _status_action(bookmarks.pin, "write:accounts"),
        methods=["POST"],
    ),
    Route(
        "/api/v1/statuses/{id}/unpin",
        _status_action(bookmarks.unpin, "write:accounts"),
        methods=["POST"],
    ),
]
