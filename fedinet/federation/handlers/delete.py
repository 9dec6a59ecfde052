"""Delete of a status (by its author) or of the sender's own account."""

from __future__ import annotations

from fedinet.db import actors as actors_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import ActorMismatch
from fedinet.federation.handlers._common import activity_actor, required_object_id
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime

__all__ = ["handle_delete"]


@handles("Delete")
async def handle_delete(runtime: Runtime, item: InboxItem) -> None:
    actor = await activity_actor(runtime, item)
    target = required_object_id(item.body)
    async with runtime.pool.acquire() as conn, conn.transaction():
        if target == actor.uri:
            await actors_db.mark_remote_actor_deleted(conn, actor.id)
            return
        status = await statuses_db.get_status_by_uri(conn, target)
        if status is None:
            return  # never stored here: nothing to delete
        if status.actor_id != actor.id:
            raise ActorMismatch(f"{actor.uri} may only delete its own statuses")
        await statuses_db.mark_status_deleted(conn, status.id)
