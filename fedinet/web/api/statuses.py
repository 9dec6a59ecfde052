"""Posting, reading, editing and deleting statuses; favourites and boosts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import statuses as statuses_db
from fedinet.errors import NotFound, ValidationError
from fedinet.federation.lookup import resolve_acct
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime
from fedinet.services import idempotency, statuses
from fedinet.web.api.auth import optional_user, require_scope
from fedinet.web.api.params import first, many, read_params
from fedinet.web.api.render import status_json

__all__ = ["routes"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _status_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit():
        raise NotFound("Record not found")
    return int(raw)


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "on", "yes")


async def _visible(runtime: Runtime, status_id: int, viewer: Actor | None) -> Status:
    async with runtime.pool.acquire() as conn:
        status = await statuses_db.get_status_by_id(conn, status_id)
        if status is None or not await statuses.visible_to(conn, status, viewer):
            raise NotFound("Record not found")
    return status


async def create_status(request: Request) -> Response:
    me = await require_scope(request, "write:statuses")
    runtime = _runtime(request)
    params = await read_params(request)
    text = first(params, "status") or ""
    reply_to = first(params, "in_reply_to_id")
    if reply_to is not None and reply_to != "" and not reply_to.isdigit():
        raise ValidationError("in_reply_to_id is not a status id", field="in_reply_to_id")

    async def resolve(acct: str) -> Actor | None:
        return await resolve_acct(runtime, acct, resolve=True)

    async with runtime.pool.acquire() as conn:

        async def post() -> Status:
            return await statuses.post_status(
                conn,
                runtime.settings,
                me.actor,
                text=text,
                resolve=resolve,
                visibility=first(params, "visibility") or "public",
                spoiler_text=first(params, "spoiler_text") or "",
                sensitive=_flag(first(params, "sensitive")),
                language=first(params, "language") or None,
                in_reply_to_id=int(reply_to) if reply_to else None,
                media_ids=many(params, "media_ids"),
            )

        status = await idempotency.post_once(
            conn, me.credentials.token.id, request.headers.get("idempotency-key"), post
        )
        return JSONResponse(await status_json(conn, runtime.settings, status, me.actor))


async def get_status(request: Request) -> Response:
    me = await optional_user(request, "read:statuses")
    runtime = _runtime(request)
    viewer = me.actor if me else None
    status = await _visible(runtime, _status_id(request), viewer)
    return JSONResponse(await status_json(runtime.pool, runtime.settings, status, viewer))


async def edit_status(request: Request) -> Response:
    me = await require_scope(request, "write:statuses")
    runtime = _runtime(request)
    params = await read_params(request)
    async with runtime.pool.acquire() as conn:
        status = await statuses.edit_status(
            conn,
            runtime.settings,
            me.actor,
            _status_id(request),
            text=first(params, "status") or "",
            spoiler_text=first(params, "spoiler_text") or "",
            sensitive=_flag(first(params, "sensitive")),
            language=first(params, "language") or None,
            media_ids=many(params, "media_ids") if "media_ids" in params else None,
        )
        return JSONResponse(await status_json(conn, runtime.settings, status, me.actor))


async def delete_status(request: Request) -> Response:
    me = await require_scope(request, "write:statuses")
    runtime = _runtime(request)
    async with runtime.pool.acquire() as conn:
        status = await statuses_db.get_status_by_id(conn, _status_id(request))
        if status is None or status.deleted_at is not None:
            raise NotFound("Record not found")
        entity = await status_json(conn, runtime.settings, status, me.actor)
        await statuses.delete_status(conn, runtime.settings, me.actor, status.id)
    if status.source_text is not None:
        entity["text"] = status.source_text  # Mastodon returns the source for redrafting
    return JSONResponse(entity)


Action = Callable[..., Awaitable[Status]]


def _interaction(action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        me = await require_scope(request, "write:favourites", "write:statuses")
        runtime = _runtime(request)
        async with runtime.pool.acquire() as conn:
            status = await action(conn, runtime.settings, me.actor, _status_id(request))
            if status.reblog_of_id is None:
                status = await _visible(runtime, status.id, me.actor)
            return JSONResponse(await status_json(conn, runtime.settings, status, me.actor))

    return endpoint


routes: list[BaseRoute] = [
    Route("/api/v1/statuses", create_status, methods=["POST"]),
    Route("/api/v1/statuses/{id}", get_status, methods=["GET"]),
    Route("/api/v1/statuses/{id}", edit_status, methods=["PUT"]),
    Route("/api/v1/statuses/{id}", delete_status, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}/favourite", _interaction(statuses.favourite), methods=["POST"]),
    Route(
        "/api/v1/statuses/{id}/unfavourite", _interaction(statuses.unfavourite), methods=["POST"]
    ),
    Route("/api/v1/statuses/{id}/reblog", _interaction(statuses.reblog), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unreblog", _interaction(statuses.unreblog), methods=["POST"]),
]
