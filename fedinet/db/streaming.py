"""The stream-event channel (raised by migration 0011's triggers) and the queries the
live streams need to route and render an event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fedinet.db.types import Connection, Executor
from fedinet.models import Notification

__all__ = [
    "STREAM_CHANNEL",
    "get_notification_by_id",
    "listen",
    "ping",
    "unlisten",
]

STREAM_CHANNEL: Final = "fedinet_stream"
"""Payloads are small JSON objects: ``{"e": "home", "o": owner, "s": status}``,
``{"e": "notification", "o": recipient, "n": notification}``, ``{"e": "public", "s":
status, "l": is_local}``, ``{"e": "delete", "s": status}``, ``{"e": "edit", "s": status}``."""

Listener = Callable[[Any, int, str, object], None]


async def listen(conn: Connection, callback: Listener) -> None:
    await conn.add_listener(STREAM_CHANNEL, callback)


async def unlisten(conn: Connection, callback: Listener) -> None:
    await conn.remove_listener(STREAM_CHANNEL, callback)


async def ping(conn: Connection) -> None:
    await conn.fetchval("SELECT 1")


async def get_notification_by_id(db: Executor, notification_id: int) -> Notification | None:
    row = await db.fetchrow(
        """
        SELECT id, recipient_id, notification_type, from_actor_id, status_id, created_at
        FROM notifications WHERE id = $1
        """,
        notification_id,
    )
    return None if row is None else Notification(**dict(row))
