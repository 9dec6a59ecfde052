"""Accept and Reject of a follow request a local member sent."""

from __future__ import annotations

from typing import Any

from fedinet.ap.activities import object_id
from fedinet.ap.sanitize import html_to_text, sanitize_html
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db.inbox import InboxItem
from fedinet.db.types import Connection
from fedinet.errors import ActorMismatch, BadActivity
from fedinet.federation.handlers._common import activity_actor, local_actor
from fedinet.federation.processing import handles
from fedinet.models import Actor, Follow
from fedinet.runtime import Runtime
from fedinet.services.follows import record_refusal

__all__ = ["handle_accept", "handle_reject"]


async def _our_follow(conn: Connection, answerer: Actor, obj: Any) -> Follow | None:
    """The follow an Accept/Reject answers: by the Follow's id, or (as some servers
    send) by its embedded actor and object."""
    follow_uri = object_id(obj)
    follow = await follows_db.get_follow_by_uri(conn, follow_uri) if follow_uri else None
    if follow is None and isinstance(obj, dict) and obj.get("type") == "Follow":
        follower = await local_actor(conn, object_id(obj.get("actor")))
        if follower is not None:
            follow = await follows_db.get_follow(conn, follower.id, answerer.id)
    if follow is not None and follow.followee_id != answerer.id:
        raise ActorMismatch(f"{answerer.uri} may only answer follow requests made to it")
    return follow


@handles("Accept")
async def handle_accept(runtime: Runtime, item: InboxItem) -> None:
    answerer = await activity_actor(runtime, item)
    obj = item.body.get("object")
    if isinstance(obj, dict) and obj.get("type") not in (None, "Follow"):
        raise BadActivity(f"Accept of a {obj.get('type')} is not supported")
    async with runtime.pool.acquire() as conn:
        follow = await _our_follow(conn, answerer, obj)
        if follow is None:
            raise BadActivity("this Accept answers no follow request of ours")
        await follows_db.accept_follow(conn, follow.id)


@handles("Reject")
async def handle_reject(runtime: Runtime, item: InboxItem) -> None:
    answerer = await activity_actor(runtime, item)
    async with runtime.pool.acquire() as conn, conn.transaction():
        follow = await _our_follow(conn, answerer, item.body.get("object"))
        if follow is None:
            raise BadActivity("this Reject answers no follow request of ours")
        await follows_db.delete_follow(conn, follow.follower_id, follow.followee_id)
        await interactions_db.remove_from_home_feeds_of(conn, follow.follower_id, answerer.id)
        follower = await actors_db.get_actor_by_id(conn, follow.follower_id)
        if follower is not None and follower.is_local:
            content = item.body.get("content")
            reason = item.body.get("refusalReason")
            await record_refusal(
                conn,
                runtime.settings,
                follower,
                answerer,
                reason=reason if isinstance(reason, str) else None,
                message=html_to_text(sanitize_html(content)) if isinstance(content, str) else "",
            )
