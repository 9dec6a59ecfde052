"""Lists: create, read, change and delete them; add and remove their accounts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import lists as lists_db
from fedinet.services import lists
from fedinet.web.api.args import flag, id_list, path_id, runtime_of
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.follows import account_by_id
from fedinet.web.api.member_entities import list_to_mastodon
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.params import first, read_params

__all__ = ["routes"]


async def index(request: Request) -> Response:
    me = await require_scope(request, "read:lists")
    found = await lists_db.list_lists(runtime_of(request).pool, me.actor.id)
    return JSONResponse([list_to_mastodon(item) for item in found])


async def create(request: Request) -> Response:
    me = await require_scope(request, "write:lists")
    params = await read_params(request)
    async with runtime_of(request).pool.acquire() as conn:
        made = await lists.create_list(
            conn,
            me.actor,
            title=first(params, "title"),
            replies_policy=first(params, "replies_policy") or "list",
            exclusive=flag(params, "exclusive"),
        )
    return JSONResponse(list_to_mastodon(made))


async def show(request: Request) -> Response:
    me = await require_scope(request, "read:lists")
    async with runtime_of(request).pool.acquire() as conn:
        found = await lists.own_list(conn, me.actor, path_id(request))
    return JSONResponse(list_to_mastodon(found))


async def update(request: Request) -> Response:
    me = await require_scope(request, "write:lists")
    params = await read_params(request)
    async with runtime_of(request).pool.acquire() as conn:
        changed = await lists.update_list(
            conn,
            me.actor,
            path_id(request),
            title=first(params, "title"),
            replies_policy=first(params, "replies_policy"),
            exclusive=flag(params, "exclusive") if "exclusive" in params else None,
        )
    return JSONResponse(list_to_mastodon(changed))


async def delete(request: Request) -> Response:
    me = await require_scope(request, "write:lists")
    async with runtime_of(request).pool.acquire() as conn:
        found = await lists.own_list(conn, me.actor, path_id(request))
        await lists_db.delete_list(conn, found.id)
    return JSONResponse({})


async def accounts(request: Request) -> Response:
    """The list's accounts, paged; ``limit=0`` gives all of them, as in Mastodon."""
    me = await require_scope(request, "read:lists")
    runtime = runtime_of(request)
    everything = request.query_params.get("limit") == "0"
    page = parse_page(request.query_params, default_limit=40)
    async with runtime.pool.acquire() as conn:
        found = await lists.own_list(conn, me.actor, path_id(request))
        rows = await lists_db.list_list_accounts(
            conn,
            found.id,
            limit=None if everything else page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda r: r[0])
        loaded = await load_accounts(conn, runtime.settings, [a for _, a in rows])
    response = JSONResponse([loaded[actor.id] for _, actor in rows])
    if not everything:
        set_link_header(response, request, page, [page_id for page_id, _ in rows])
    return response


async def add_accounts(request: Request) -> Response:
    me = await require_scope(request, "write:lists")
    runtime = runtime_of(request)
    params = await read_params(request)
    ids = id_list(params, "account_ids")
    for account_id in ids:
        await account_by_id(runtime, str(account_id))
    async with runtime.pool.acquire() as conn:
        await lists.add_accounts(conn, me.actor, path_id(request), ids)
    return JSONResponse({})


async def remove_accounts(request: Request) -> Response:
    me = await require_scope(request, "write:lists")
    params = await read_params(request)
    async with runtime_of(request).pool.acquire() as conn:
        await lists.remove_accounts(
            conn, me.actor, path_id(request), id_list(params, "account_ids")
        )
    return JSONResponse({})


async def lists_of_account(request: Request) -> Response:
    """``GET /api/v1/accounts/:id/lists``: the member's lists holding that account."""
    me = await require_scope(request, "read:lists")
    runtime = runtime_of(request)
    target = await account_by_id(runtime, request.path_params["id"])
    found = await lists_db.list_lists_with_account(runtime.pool, me.actor.id, target.id)
    return JSONResponse([list_to_mastodon(item) for item in found])


routes: list[BaseRoute] = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT"]),
    Route("/api/v1/lists/{id}", delete, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", accounts, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_accounts, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_accounts, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/lists", lists_of_account, methods=["GET"]),
]
