"""Bookmarking and pinning statuses.

Bookmarks are private. Pins are public: a member pins up to ``MAX_PINS`` of their own
statuses (not direct messages, not boosts); the pinned ones make up the member's
ActivityPub ``featured`` collection, and each pin or unpin of a public or unlisted status
is sent to the member's followers as an ``Add`` or ``Remove`` on that collection.
"""

from __future__ import annotations

from typing import Final

from fedinet.ap.activities import featured_activity
from fedinet.config import Settings
from fedinet.db import bookmarks as bookmarks_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound, ValidationError
from fedinet.models import Actor, Status
from fedinet.services.outbox import audience_inboxes, publish
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


async def bookmark(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    status = await _visible(conn, actor, status_id)
    await bookmarks_db.insert_bookmark(conn, actor.id, status.id)
    return status


async def unbookmark(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    status = await _visible(conn, actor, status_id)
    await bookmarks_db.delete_bookmark(conn, actor.id, status.id)
    return status


async def _announce(
    conn: Connection, settings: Settings, actor: Actor, status: Status, kind: str
) -> None:
    if status.visibility not in ("public", "unlisted") or actor.featured_uri is None:
        return
    featured = actor.featured_uri
    await publish(
        conn,
        settings,
        actor,
        lambda activity_id: featured_activity(kind, activity_id, actor.uri, status.uri, featured),
        object_uri=status.uri,
        inboxes=await audience_inboxes(conn, actor, "public"),
    )


async def pin(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
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
        if await bookmarks_db.insert_pin(conn, actor.id, status.id):
            await _announce(conn, settings, actor, status, "Add")
    return status


async def unpin(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status = await statuses_db.get_status_by_id(conn, status_id)
        if status is None or not await visible_to(conn, status, actor):
            raise NotFound("Record not found")
        if await bookmarks_db.delete_pin(conn, actor.id, status.id):
            await _announce(conn, settings, actor, status, "Remove")
    return status
