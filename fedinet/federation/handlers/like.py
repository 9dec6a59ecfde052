"""Like of a status."""

from __future__ import annotations

from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity, NotFound
from fedinet.federation.handlers._common import activity_actor, required_object_id
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime

__all__ = ["handle_like"]


@handles("Like")
async def handle_like(runtime: Runtime, item: InboxItem) -> None:
    actor = await activity_actor(runtime, item)
    if item.activity_id is None:
        raise BadActivity("a Like must have an id")
    async with runtime.pool.acquire() as conn, conn.transaction():
        status = await statuses_db.get_status_by_uri(conn, required_object_id(item.body))
        if status is None or status.deleted_at is not None:
            raise NotFound("the liked status is not known here")
        if await interactions_db.is_blocked_either_way(conn, actor.id, status.actor_id):
            return
        added = await interactions_db.insert_favourite(
            conn, uri=item.activity_id, actor_id=actor.id, status_id=status.id
        )
        if added and status.is_local:
            await interactions_db.insert_notification(
                conn,
                recipient_id=status.actor_id,
                notification_type="favourite",
                from_actor_id=actor.id,
                status_id=status.id,
            )
