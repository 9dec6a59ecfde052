"""Following: requests, acceptance, refusal, unfollowing — local or across servers."""

from __future__ import annotations

from typing import Any

from fedinet.ap.activities import (
    accept_activity,
    follow_activity,
    reject_activity,
    undo_activity,
)
from fedinet.config import Settings
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound, PermissionDenied, ValidationError
from fedinet.models import Actor, Follow
from fedinet.services.outbox import mint_activity_uri, publish

__all__ = [
    "accept_follow_request",
    "follow",
    "follow_object",
    "receive_follow",
    "reject_follow_request",
    "unfollow",
]


def follow_object(follow: Follow, follower: Actor, followee: Actor) -> dict[str, Any]:
    """The Follow activity as embedded in Accept, Reject and Undo."""
    return {
        "id": follow.uri,
        "type": "Follow",
        "actor": follower.uri,
        "object": followee.uri,
    }


async def _notify_follow(conn: Connection, follow: Follow, follower: Actor) -> None:
    await interactions_db.insert_notification(
        conn,
        recipient_id=follow.followee_id,
        notification_type="follow" if follow.state == "accepted" else "follow_request",
        from_actor_id=follower.id,
    )


async def follow(conn: Connection, settings: Settings, follower: Actor, target: Actor) -> Follow:
    """``follower`` (a local member) asks to follow ``target``. Following someone who
    does not approve followers by hand, on this server, is accepted at once; a remote
    target answers with Accept or Reject later."""
    if follower.id == target.id:
        raise ValidationError("you cannot follow yourself")
    if target.is_gone:
        raise NotFound(f"{target.acct} is no longer here")
    if await interactions_db.is_blocked_either_way(conn, follower.id, target.id):
        raise PermissionDenied(f"you cannot follow {target.acct}")
    existing = await follows_db.get_follow(conn, follower.id, target.id)
    if existing is not None and existing.state == "accepted":
        return existing
    async with conn.transaction():
        uri = existing.uri if existing is not None else await mint_activity_uri(conn, settings)
        if target.is_local:
            accepted = not target.manually_approves_followers
            made = await follows_db.insert_follow(
                conn, uri=uri, follower_id=follower.id, followee_id=target.id, accepted=accepted
            )
            if existing is None:
                await _notify_follow(conn, made, follower)
            return made
        made = await follows_db.insert_follow(
            conn, uri=uri, follower_id=follower.id, followee_id=target.id, accepted=False
        )
        await publish(
            conn,
            settings,
            follower,
            lambda activity_id: follow_activity(activity_id, follower.uri, target.uri),
            object_uri=target.uri,
            inboxes=[target.inbox_uri] if target.inbox_uri else [],
            uri=uri,
        )
        return made


async def receive_follow(
    conn: Connection, settings: Settings, follower: Actor, target: Actor, follow_uri: str
) -> Follow | None:
    """A remote ``follower`` asked to follow a local ``target`` with the activity
    ``follow_uri``. Returns the follow, or None when it was refused (block)."""
    if await interactions_db.is_blocked_either_way(conn, follower.id, target.id):
        await publish(
            conn,
            settings,
            target,
            lambda activity_id: reject_activity(
                activity_id,
                target.uri,
                {"id": follow_uri, "type": "Follow", "actor": follower.uri, "object": target.uri},
            ),
            object_uri=follow_uri,
            inboxes=[follower.inbox_uri] if follower.inbox_uri else [],
        )
        return None
    existing = await follows_db.get_follow(conn, follower.id, target.id)
    made = await follows_db.insert_follow(
        conn,
        uri=follow_uri,
        follower_id=follower.id,
        followee_id=target.id,
        accepted=not target.manually_approves_followers,
    )
    if made.state == "accepted":
        await _send_accept(conn, settings, made, follower, target)
    if existing is None:
        await _notify_follow(conn, made, follower)
    return made


async def _send_accept(
    conn: Connection, settings: Settings, made: Follow, follower: Actor, followee: Actor
) -> None:
    if follower.is_local:
        return
    embedded = follow_object(made, follower, followee)
    await publish(
        conn,
        settings,
        followee,
        lambda activity_id: accept_activity(activity_id, followee.uri, embedded),
        object_uri=made.uri,
        inboxes=[follower.inbox_uri] if follower.inbox_uri else [],
    )


async def accept_follow_request(
    conn: Connection, settings: Settings, followee: Actor, follower: Actor
) -> Follow:
    async with conn.transaction():
        pending = await follows_db.get_follow(conn, follower.id, followee.id)
        if pending is None:
            raise NotFound(f"there is no follow request from {follower.acct}")
        if pending.state == "accepted":
            return pending
        accepted = await follows_db.accept_follow(conn, pending.id)
        assert accepted is not None
        await _send_accept(conn, settings, accepted, follower, followee)
        return accepted


async def reject_follow_request(
    conn: Connection,
    settings: Settings,
    followee: Actor,
    follower: Actor,
    *,
    reason: str | None = None,
) -> None:
    async with conn.transaction():
        pending = await follows_db.delete_follow(conn, follower.id, followee.id)
        if pending is None:
            raise NotFound(f"there is no follow request from {follower.acct}")
        if follower.is_local:
            return
        embedded = follow_object(pending, follower, followee)
        await publish(
            conn,
            settings,
            followee,
            lambda activity_id: reject_activity(
                activity_id, followee.uri, embedded, content=reason
            ),
            object_uri=pending.uri,
            inboxes=[follower.inbox_uri] if follower.inbox_uri else [],
        )


async def unfollow(conn: Connection, settings: Settings, follower: Actor, target: Actor) -> None:
    """Stop following (or withdraw a pending request); idempotent."""
    async with conn.transaction():
        removed = await follows_db.delete_follow(conn, follower.id, target.id)
        await interactions_db.remove_from_home_feeds_of(conn, follower.id, target.id)
        if removed is None or target.is_local:
            return
        inner = follow_object(removed, follower, target)
        await publish(
            conn,
            settings,
            follower,
            lambda activity_id: undo_activity(activity_id, follower.uri, inner),
            object_uri=removed.uri,
            inboxes=[target.inbox_uri] if target.inbox_uri else [],
        )
