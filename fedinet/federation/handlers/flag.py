"""Flag: a report from another server's moderators, kept for ours."""

from __future__ import annotations

from fedinet.ap.activities import as_list, object_id
from fedinet.db import actors as actors_db
from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity
from fedinet.federation.handlers._common import activity_actor
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime

__all__ = ["handle_flag"]


@handles("Flag")
async def handle_flag(runtime: Runtime, item: InboxItem) -> None:
    reporter = await activity_actor(runtime, item)
    objects = [o for o in (object_id(v) for v in as_list(item.body.get("object"))) if o]
    async with runtime.pool.acquire() as conn:
        target = None
        status_uris: list[str] = []
        for uri in objects:
            actor = await actors_db.get_actor_by_uri(conn, uri)
            if actor is not None and actor.is_local:
                target = target or actor
                continue
            status = await statuses_db.get_status_by_uri(conn, uri)
            if status is not None and status.is_local:
                status_uris.append(uri)
                if target is None:
                    target = await actors_db.get_actor_by_id(conn, status.actor_id)
        if target is None:
            raise BadActivity("the report names no member of this server")
        content = item.body.get("content")
        await interactions_db.insert_report(
            conn,
            uri=item.activity_id,
            reporter_actor_id=reporter.id,
            target_actor_id=target.id,
            status_uris=status_uris,
            comment=content if isinstance(content, str) else "",
            raw=item.body,
        )
