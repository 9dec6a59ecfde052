"""Blocking: no follows either way, no statuses in either home feed, no interactions."""

from __future__ import annotations

from fedinet.ap.activities import block_activity, undo_activity
from fedinet.config import Settings
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db.types import Connection
from fedinet.errors import ValidationError
from fedinet.models import Actor
from fedinet.services.follows import unfollow
from fedinet.services.outbox import mint_activity_uri, publish

__all__ = ["apply_block", "block", "unblock"]


async def apply_block(conn: Connection, actor: Actor, target: Actor, uri: str) -> None:
    """The local effects of ``actor`` blocking ``target`` (whoever is local)."""
    await interactions_db.insert_block(conn, uri=uri, actor_id=actor.id, target_id=target.id)
    await follows_db.delete_follow(conn, target.id, actor.id)
    await follows_db.delete_follow(conn, actor.id, target.id)
    await interactions_db.remove_from_home_feeds_of(conn, actor.id, target.id)
    await interactions_db.remove_from_home_feeds_of(conn, target.id, actor.id)


async def block(conn: Connection, settings: Settings, actor: Actor, target: Actor) -> None:
    if actor.id == target.id:
        raise ValidationError("you cannot block yourself")
    async with conn.transaction():
        if await interactions_db.get_block(conn, actor.id, target.id) is not None:
            return
        # Withdraw our own follow properly (an Undo the other server understands).
        await unfollow(conn, settings, actor, target)
        uri = await mint_activity_uri(conn, settings)
        await apply_block(conn, actor, target, uri)
        if not target.is_local:
            await publish(
                conn,
                settings,
                actor,
                lambda activity_id: block_activity(activity_id, actor.uri, target.uri),
                object_uri=target.uri,
                inboxes=[target.inbox_uri] if target.inbox_uri else [],
                uri=uri,
            )


async def unblock(conn: Connection, settings: Settings, actor: Actor, target: Actor) -> None:
    async with conn.transaction():
        uri = await interactions_db.delete_block(conn, actor.id, target.id)
        if uri is None or target.is_local:
            return
        inner = {"id": uri, "type": "Block", "actor": actor.uri, "object": target.uri}
        await publish(
            conn,
            settings,
            actor,
            lambda activity_id: undo_activity(activity_id, actor.uri, inner),
            object_uri=uri,
            inboxes=[target.inbox_uri] if target.inbox_uri else [],
        )
