"""Announce (a boost): the boosted status is fetched from its server when unknown."""

from __future__ import annotations

from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity
from fedinet.federation.handlers._common import activity_actor, required_object_id
from fedinet.federation.notes import fetch_remote_status
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime

__all__ = ["handle_announce"]


@handles("Announce")
async def handle_announce(runtime: Runtime, item: InboxItem) -> None:
    booster = await activity_actor(runtime, item)
    if item.activity_id is None:
        raise BadActivity("an Announce must have an id")
    original = await fetch_remote_status(runtime, required_object_id(item.body))
    if original.deleted_at is not None or original.visibility not in ("public", "unlisted"):
        return
    async with runtime.pool.acquire() as conn, conn.transaction():
        if await statuses_db.get_status_by_uri(conn, item.activity_id) is not None:
            return
        if await statuses_db.get_reblog(conn, booster.id, original.id) is not None:
            return
        boost = await statuses_db.insert_status(
            conn,
            uri=item.activity_id,
            actor_id=booster.id,
            is_local=False,
            visibility="public",
            reblog_of_id=original.id,
        )
        owners = await follows_db.list_local_follower_ids(conn, booster.id)
        await interactions_db.add_to_home_feeds(conn, boost.id, owners)
        if original.is_local and original.actor_id != booster.id:
            await interactions_db.insert_notification(
                conn,
                recipient_id=original.actor_id,
                notification_type="reblog",
                from_actor_id=booster.id,
                status_id=original.id,
            )
