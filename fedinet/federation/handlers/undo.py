"""Undo of a Follow, Like, Announce or Block — only by the actor who did it."""

from __future__ import annotations

from typing import Any

from fedinet.ap.activities import object_id
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.db.types import Connection
from fedinet.errors import ActorMismatch, BadActivity
from fedinet.federation.handlers._common import activity_actor, local_actor
from fedinet.federation.processing import handles
from fedinet.models import Actor
from fedinet.runtime import Runtime

__all__ = ["handle_undo"]


async def _undo_follow(conn: Connection, actor: Actor, inner_id: str | None, inner: Any) -> bool:
    follow = await follows_db.get_follow_by_uri(conn, inner_id) if inner_id else None
    if follow is None and isinstance(inner, dict):
        target = await local_actor(conn, object_id(inner.get("object")))
        if target is not None:
            follow = await follows_db.get_follow(conn, actor.id, target.id)
    if follow is None:
        return False
    if follow.follower_id != actor.id:
        raise ActorMismatch(f"{actor.uri} may only undo its own follows")
    await follows_db.delete_follow(conn, follow.follower_id, follow.followee_id)
    await interactions_db.remove_from_home_feeds_of(conn, follow.followee_id, actor.id)
    return True


async def _undo_like(conn: Connection, actor: Actor, inner_id: str | None, inner: Any) -> bool:
    if inner_id is not None and await interactions_db.delete_favourite_by_uri(
        conn, inner_id, actor.id
    ):
        return True
    status_uri = object_id(inner.get("object")) if isinstance(inner, dict) else None
    status = await statuses_db.get_status_by_uri(conn, status_uri) if status_uri else None
    if status is None:
        return False
    return await interactions_db.delete_favourite(conn, actor.id, status.id) is not None


async def _undo_announce(conn: Connection, actor: Actor, inner_id: str | None, inner: Any) -> bool:
    boost = await statuses_db.get_status_by_uri(conn, inner_id) if inner_id else None
    if boost is None or boost.reblog_of_id is None:
        return False
    if boost.actor_id != actor.id:
        raise ActorMismatch(f"{actor.uri} may only undo its own boosts")
    await statuses_db.mark_status_deleted(conn, boost.id)
    return True


async def _undo_block(conn: Connection, actor: Actor, inner_id: str | None, inner: Any) -> bool:
    target = (
        await local_actor(conn, object_id(inner.get("object"))) if isinstance(inner, dict) else None
    )
    if target is None:
        return False
    return await interactions_db.delete_block(conn, actor.id, target.id) is not None


_UNDOERS = {
    "Follow": _undo_follow,
    "Like": _undo_like,
    "Announce": _undo_announce,
    "Block": _undo_block,
}


@handles("Undo")
async def handle_undo(runtime: Runtime, item: InboxItem) -> None:
    actor = await activity_actor(runtime, item)
    inner = item.body.get("object")
    inner_id = object_id(inner)
    if inner_id is None:
        raise BadActivity("the Undo has no object")
    if isinstance(inner, dict):
        if object_id(inner.get("actor")) not in (None, actor.uri):
            raise ActorMismatch(f"{actor.uri} may only undo its own activities")
        inner_type = inner.get("type")
        undoers = [_UNDOERS[inner_type]] if inner_type in _UNDOERS else []
        if not undoers:
            raise BadActivity(f"Undo of a {inner_type} is not supported")
    else:
        undoers = list(_UNDOERS.values())  # only an id: whatever we stored under it
    async with runtime.pool.acquire() as conn, conn.transaction():
        for undo in undoers:
            if await undo(conn, actor, inner_id, inner):
                return
