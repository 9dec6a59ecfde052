"""Notifications: list (filtered by type and account, paged), one, clear, dismiss, and
the unread count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import markers as markers_db
from fedinet.db import notifications as notifications_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Executor
from fedinet.errors import NotFound, ValidationError
from fedinet.models import Actor, Notification
from fedinet.web.api.args import path_id, runtime_of, string_list
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.member_entities import notification_to_mastodon
from fedinet.web.api.pagination import parse_page, set_link_header
from fedinet.web.api.params import first, read_params
from fedinet.web.api.render import statuses_json

__all__ = ["notifications_json", "routes"]

TYPES: Final = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "severed_relationships",
    "moderation_warning",
)
_WITH_STATUS: Final = ("mention", "status", "reblog", "favourite", "poll", "update")


def _types(params: dict[str, Any], key: str) -> list[str]:
    values = string_list(params, key)
    for value in values:
        if value not in TYPES:
            raise ValidationError(f"{key} holds an unknown notification type", field=key)
    return values


async def notifications_json(
    db: Executor, settings: Settings, notifications: Sequence[Notification], viewer: Actor
) -> list[dict[str, Any]]:
    """Notification entities in order, with their accounts and statuses loaded."""
    actors = await actors_db.get_actors_by_ids(db, list({n.from_actor_id for n in notifications}))
    accounts = await load_accounts(db, settings, list(actors.values()))
    status_ids = [
        n.status_id
        for n in notifications
        if n.status_id is not None and n.notification_type in _WITH_STATUS
    ]
    found = await statuses_db.get_statuses_by_ids(db, status_ids) if status_ids else {}
    ordered = list(found.values())
    rendered = await statuses_json(db, settings, ordered, viewer, context="notifications")
    by_id = {status.id: entity for status, entity in zip(ordered, rendered, strict=True)}
    result = []
    for notification in notifications:
        account = accounts.get(notification.from_actor_id)
        if account is None:
            continue
        status = by_id.get(notification.status_id or 0)
        if notification.notification_type in _WITH_STATUS and status is None:
            continue
        result.append(notification_to_mastodon(notification, account, status))
    return result


async def list_notifications(request: Request) -> Response:
    me = await require_scope(request, "read:notifications")
    runtime = runtime_of(request)
    params = await read_params(request)
    page = parse_page(request.query_params, default_limit=40)
    types = _types(params, "types")
    account = first(params, "account_id")
    if account is not None and not account.isdigit():
        raise ValidationError("account_id must be an id", field="account_id")
    async with runtime.pool.acquire() as conn:
        rows = await notifications_db.list_notifications_page(
            conn,
            me.actor.id,
            limit=page.limit,
            types=types or None,
            exclude_types=_types(params, "exclude_types"),
            account_id=int(account) if account else None,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda n: n.id)
        body = await notifications_json(conn, runtime.settings, rows, me.actor)
    response = JSONResponse(body)
    set_link_header(response, request, page, [n.id for n in rows])
    return response


async def get_notification(request: Request) -> Response:
    me = await require_scope(request, "read:notifications")
    runtime = runtime_of(request)
    async with runtime.pool.acquire() as conn:
        found = await notifications_db.get_notification(conn, me.actor.id, path_id(request))
        body = await notifications_json(conn, runtime.settings, [found], me.actor) if found else []
    if not body:
        raise NotFound("Record not found")
    return JSONResponse(body[0])


async def clear(request: Request) -> Response:
    me = await require_scope(request, "write:notifications")
    await notifications_db.clear_notifications(runtime_of(request).pool, me.actor.id)
    return JSONResponse({})


async def dismiss(request: Request) -> Response:
    me = await require_scope(request, "write:notifications")
    if not await notifications_db.dismiss_notification(
        runtime_of(request).pool, me.actor.id, path_id(request)
    ):
        raise NotFound("Record not found")
    return JSONResponse({})


async def unread_count(request: Request) -> Response:
    me = await require_scope(request, "read:notifications")
    runtime = runtime_of(request)
    raw = request.query_params.get("limit", "")
    limit = max(1, min(int(raw), 1000)) if raw.isdigit() else 100
    async with runtime.pool.acquire() as conn:
        markers = await markers_db.get_markers(conn, me.actor.id, ["notifications"])
        marker = markers.get("notifications")
        count = await notifications_db.count_unread_notifications(
            conn,
            me.actor.id,
            after_id=marker.last_read_id if marker else 0,
            limit=limit,
        )
    return JSONResponse({"count": count})


routes: list[BaseRoute] = [
    Route("/api/v1/notifications", list_notifications, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v1/notifications/{id}", get_notification, methods=["GET"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
