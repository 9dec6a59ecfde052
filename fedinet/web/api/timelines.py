"""Timelines: home (fan-out on write), public, a hashtag's and a list's."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.db import oauth as oauth_db
from fedinet.db import statuses as statuses_db
from fedinet.db import timelines as timelines_db
from fedinet.db.types import Connection
from fedinet.runtime import Runtime
from fedinet.services import lists
from fedinet.web.api.args import path_id, string_list
from fedinet.web.api.auth import (
    UserCredentials,
    confirm,
    optional_user,
    remembered_user,
    require_scope,
)
from fedinet.web.api.pagination import Page, parse_page, set_link_header
from fedinet.web.api.params import Params, read_params
from fedinet.web.api.render import statuses_json
from fedinet.web.api.status_cache import render_page, status_cache

__all__ = ["routes"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "on", "yes")


async def _home_page(
    request: Request, conn: Connection, page: Page
) -> tuple[UserCredentials, timelines_db.HomePage]:
    """The member and their page, in one round trip when this process has read their
    token before (the page's statement checks it is unchanged), else in two."""

    async def read(me: UserCredentials, token_id: int | None) -> timelines_db.HomePage:
        return await timelines_db.home_page(
            conn,
            me.actor.id,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
            token_id=token_id,
        )

    remembered = remembered_user(request, "read:statuses")
    if remembered is not None:
        token_id = remembered.credentials.token.id
        found = await read(remembered, token_id)
        version = found.credentials_version
        if not found.entries:  # no row to carry it (a poll with nothing new, often)
            version = await oauth_db.credentials_version(conn, token_id)
        if confirm(request, remembered, version):
            return remembered, found
    me = await require_scope(request, "read:statuses", db=conn)
    return me, await read(me, None)


async def home(request: Request) -> Response:
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    # one connection for the token, the page and what it shows
    async with runtime.pool.acquire() as conn:
        me, found = await _home_page(request, conn, page)
        entries = page.newest_first(found.entries, key=lambda e: e.status.id)
        body = await render_page(
            conn,
            runtime.settings,
            status_cache(request),
            replace(found, entries=entries),
            me.actor,
            context="home",
        )
    response = Response(body, media_type="application/json")
    set_link_header(response, request, page, [e.status.id for e in entries])
    return response


async def public(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    local, remote = _flag(request, "local"), _flag(request, "remote")
    viewer = me.actor if me else None
    async with runtime.pool.acquire() as conn:
        rows = await timelines_db.public_timeline(
            conn,
            local_only=local and not remote,
            remote_only=remote and not local,
            limit=page.limit,
            viewer_id=viewer.id if viewer else None,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda s: s.id)
        shown = await statuses_json(conn, runtime.settings, rows, viewer, context="public")
    response = JSONResponse(shown)
    set_link_header(response, request, page, [s.id for s in rows])
    return response


def _tags(params: Params, key: str) -> list[str]:
    return [t for t in (normalize_hashtag(v.lstrip("#")) for v in string_list(params, key)) if t]


async def tag(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    params = await read_params(request)
    name = normalize_hashtag(request.path_params["hashtag"].lstrip("#"))
    local, remote = _flag(request, "local"), _flag(request, "remote")
    viewer = me.actor if me else None
    if not name:
        return JSONResponse([])
    rows = await timelines_db.tag_timeline(
        runtime.pool,
        [name, *_tags(params, "any")],
        limit=page.limit,
        local_only=local and not remote,
        remote_only=remote and not local,
        only_media=_flag(request, "only_media"),
        none_tags=_tags(params, "none"),
        viewer_id=viewer.id if viewer else None,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
    )
    wanted_all = _tags(params, "all")
    if wanted_all:
        async with runtime.pool.acquire() as conn:
            kept = []
            for status in rows:
                tags = set(await statuses_db.list_status_tags(conn, status.id))
                if all(t in tags for t in wanted_all):
                    kept.append(status)
            rows = kept
    rows = page.newest_first(rows, key=lambda s: s.id)
    response = JSONResponse(
        await statuses_json(runtime.pool, runtime.settings, rows, viewer, context="public")
    )
    set_link_header(response, request, page, [s.id for s in rows])
    return response


async def list_timeline(request: Request) -> Response:
    me = await require_scope(request, "read:lists")
    runtime = _runtime(request)
    page = parse_page(request.query_params)
    async with runtime.pool.acquire() as conn:
        found = await lists.own_list(conn, me.actor, path_id(request))
        rows = await timelines_db.list_timeline(
            conn,
            found.id,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda s: s.id)
        body = await statuses_json(conn, runtime.settings, rows, me.actor, context="home")
    response = JSONResponse(body)
    set_link_header(response, request, page, [s.id for s in rows])
    return response


routes: list[BaseRoute] = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
    Route("/api/v1/timelines/list/{id}", list_timeline, methods=["GET"]),
]
