"""Follow: a remote actor asks to follow a local member."""

from __future__ import annotations

from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity, NotFound
from fedinet.federation.handlers._common import activity_actor, local_actor, required_object_id
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime
from fedinet.services.follows import receive_follow

__all__ = ["handle_follow"]


@handles("Follow")
async def handle_follow(runtime: Runtime, item: InboxItem) -> None:
    follower = await activity_actor(runtime, item)
    if item.activity_id is None:
        raise BadActivity("a Follow must have an id (it is what Accept refers to)")
    async with runtime.pool.acquire() as conn:
        target = await local_actor(conn, required_object_id(item.body))
        if target is None or target.is_gone:
            raise NotFound("the Follow's object is not a member of this server")
        await receive_follow(conn, runtime.settings, follower, target, item.activity_id)
