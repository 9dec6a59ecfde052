"""Block of a local member by a remote actor."""

from __future__ import annotations

from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity, NotFound
from fedinet.federation.handlers._common import activity_actor, local_actor, required_object_id
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime
from fedinet.services.blocks import apply_block

__all__ = ["handle_block"]


@handles("Block")
async def handle_block(runtime: Runtime, item: InboxItem) -> None:
    actor = await activity_actor(runtime, item)
    if item.activity_id is None:
        raise BadActivity("a Block must have an id")
    async with runtime.pool.acquire() as conn, conn.transaction():
        target = await local_actor(conn, required_object_id(item.body))
        if target is None:
            raise NotFound("the blocked account is not a member of this server")
        await apply_block(conn, actor, target, item.activity_id)
