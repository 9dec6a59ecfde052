"""Blocked and muted accounts, muting and unmuting, and the member's own domain blocks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import mutes as mutes_db
from fedinet.errors import ValidationError
from fedinet.services import mutes
from fedinet.web.api.args import flag, runtime_of
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import iso_time, load_accounts
from fedinet.web.api.follows import account_by_id
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.params import first, read_params
from fedinet.web.api.render import relationships_json

__all__ = ["routes"]


async def blocks(request: Request) -> Response:
    me = await require_scope(request, "read:blocks", "follow")
    runtime = runtime_of(request)
    page = parse_page(request.query_params, default_limit=40)
    async with runtime.pool.acquire() as conn:
        rows = await mutes_db.list_blocked_accounts(
            conn,
            me.actor.id,
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


async def muted(request: Request) -> Response:
    me = await require_scope(request, "read:mutes", "follow")
    runtime = runtime_of(request)
    page = parse_page(request.query_params, default_limit=40)
    async with runtime.pool.acquire() as conn:
        rows = await mutes_db.list_muted_accounts(
            conn,
            me.actor.id,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda r: r[0])
        accounts = await load_accounts(conn, runtime.settings, [a for _, a, _ in rows])
    body = [
        {**accounts[actor.id], "mute_expires_at": iso_time(expires)} for _, actor, expires in rows
    ]
    response = JSONResponse(body)
    set_link_header(response, request, page, [page_id for page_id, _, _ in rows])
    return response


async def mute(request: Request) -> Response:
    me = await require_scope(request, "write:mutes", "follow")
    runtime = runtime_of(request)
    target = await account_by_id(runtime, request.path_params["id"])
    params = await read_params(request)
    raw_duration = (first(params, "duration") or "0").strip() or "0"
    if not raw_duration.isdigit():
        raise ValidationError("duration must be a number of seconds", field="duration")
    async with runtime.pool.acquire() as conn:
        await mutes.mute(
            conn,
            me.actor,
            target,
            notifications=flag(params, "notifications", True),
            duration=int(raw_duration),
        )
        return JSONResponse((await relationships_json(conn, me.actor, [target.id]))[0])


async def unmute(request: Request) -> Response:
    me = await require_scope(request, "write:mutes", "follow")
    runtime = runtime_of(request)
    target = await account_by_id(runtime, request.path_params["id"])
    async with runtime.pool.acquire() as conn:
        await mutes.unmute(conn, me.actor, target)
        return JSONResponse((await relationships_json(conn, me.actor, [target.id]))[0])


async def domain_blocks(request: Request) -> Response:
    me = await require_scope(request, "read:blocks", "follow")
    runtime = runtime_of(request)
    page = parse_page(request.query_params, default_limit=100)
    rows = await mutes_db.list_account_domain_blocks(
        runtime.pool,
        me.actor.id,
        limit=page.limit,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
    )
    rows = page.newest_first(rows, key=lambda r: r[0])
    response = JSONResponse([domain for _, domain in rows])
    set_link_header(response, request, page, [page_id for page_id, _ in rows])
    return response


async def block_domain(request: Request) -> Response:
    me = await require_scope(request, "write:blocks", "follow")
    runtime = runtime_of(request)
    params = await read_params(request)
    async with runtime.pool.acquire() as conn:
        await mutes.block_domain(conn, runtime.settings, me.actor, first(params, "domain") or "")
    return JSONResponse({})


async def unblock_domain(request: Request) -> Response:
    me = await require_scope(request, "write:blocks", "follow")
    runtime = runtime_of(request)
    params = await read_params(request)
    async with runtime.pool.acquire() as conn:
        await mutes.unblock_domain(conn, runtime.settings, me.actor, first(params, "domain") or "")
    return JSONResponse({})


routes: list[BaseRoute] = [
    Route("/api/v1/blocks", blocks, methods=["GET"]),
    Route("/api/v1/mutes", muted, methods=["GET"]),
    Route("/api/v1/accounts/{id}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"]),
    Route("/api/v1/domain_blocks", domain_blocks, methods=["GET"]),
    Route("/api/v1/domain_blocks", block_domain, methods=["POST"]),
    Route("/api/v1/domain_blocks", unblock_domain, methods=["DELETE"]),
]
