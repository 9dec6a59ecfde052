"""Bookmarking and pinning statuses.

Bookmarks are private. Pins are public: a member pins up to ``MAX_PINS`` of their own
statuses (not direct messages, not boosts), and the pinned ones make up the member's
ActivityPub ``featured`` collection.
"""

from __future__ import annotations

from typing import Final

from fedinet.db import bookmarks as bookmarks_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound, ValidationError
from fedinet.models import Actor, Status
from fedinet.services.statuses import visible_to

__all__ = ["MAX_PINS", "bookmark", "pin", "unbookmark", "unpin"]

MAX_PINS: Final = 5


async def _visible(conn: Connection, actor: Actor, status_id: int) -> Status:
    status = await statuses_db.get_status_by_id(conn, status_id)
    if status is None or not await visible_to(conn, status, actor):
        raise NotFound("Record not found")
    if status.reblog_of_id is not None:
        original = await statuses_db.get_status_by_id(conn, status.reblog_of_id)
        if original is None or not await visible_to(conn, original, actor):
            raise NotFound("Record not found")
        return original
    return status


async def bookmark(conn: Connection, actor: Actor, status_id: int) -> Status:
    status = await _visible(conn, actor, status_id)
    await bookmarks_db.insert_bookmark(conn, actor.id, status.id)
    return status


async def unbookmark(conn: Connection, actor: Actor, status_id: int) -> Status:
    status = await _visible(conn, actor, status_id)
    await bookmarks_db.delete_bookmark(conn, actor.id, status.id)
    return status


async def pin(conn: Connection, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status = await statuses_db.get_status_by_id(conn, status_id)
        if status is None or not await visible_to(conn, status, actor):
            raise NotFound("Record not found")
        if status.actor_id != actor.id or status.reblog_of_id is not None:
            raise ValidationError("Validation failed: Status must be yours", field="status")
        if status.visibility == "direct":
            raise ValidationError(
                "Validation failed: Direct messages cannot be pinned", field="status"
            )
        if await bookmarks_db.count_pins(conn, actor.id) >= MAX_PINS:
            raise ValidationError(
                f"Validation failed: You cannot pin more than {MAX_PINS} posts", field="status"
            )
        await bookmarks_db.insert_pin(conn, actor.id, status.id)
    return status


async def unpin(conn: Connection, actor: Actor, status_id: int) -> Status:
    status = await statuses_db.get_status_by_id(conn, status_id)
    if status is None or not await visible_to(conn, status, actor):
        raise NotFound("Record not found")
    await bookmarks_db.delete_pin(conn, actor.id, status.id)
    return status
