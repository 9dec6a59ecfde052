"""Update of a Note (an edit) or of the sender's own actor (a profile change)."""

from __future__ import annotations

from datetime import UTC, datetime

from fedinet.ap.actors import ap_to_actor
from fedinet.db import notifications as notifications_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import ActorMismatch, BadActivity
from fedinet.federation.actors import store_remote_actor
from fedinet.federation.handlers._common import activity_actor
from fedinet.federation.handlers.create import SUPPORTED
from fedinet.federation.notes import known_actors, parse_note_of, store_remote_status
from fedinet.federation.processing import handles
from fedinet.runtime import Runtime

__all__ = ["handle_update"]

ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")


@handles("Update")
async def handle_update(runtime: Runtime, item: InboxItem) -> None:
    actor = await activity_actor(runtime, item)
    obj = item.body.get("object")
    if not isinstance(obj, dict):
        raise BadActivity("an Update must embed the updated object")
    if obj.get("type") in ACTOR_TYPES or (
        isinstance(obj.get("type"), list) and set(obj["type"]) & set(ACTOR_TYPES)
    ):
        if obj.get("id") != actor.uri:
            raise ActorMismatch(f"{actor.uri} may only update its own profile")
        await store_remote_actor(runtime, ap_to_actor(obj, fetched_from=actor.uri))
        return
    if obj.get("type") not in SUPPORTED:
        raise BadActivity(f"Update of a {obj.get('type')} is not supported")
    note = parse_note_of(actor, obj, activity=item.body)  # attributedTo must be the sender
    async with runtime.pool.acquire() as conn, conn.transaction():
        status = await statuses_db.get_status_by_uri(conn, note.uri)
        if status is None:
            await store_remote_status(conn, actor, note)
            return
        if status.actor_id != actor.id:
            raise ActorMismatch(f"{actor.uri} may only edit its own statuses")
        await statuses_db.update_status_content(
            conn,
            status.id,
            content=note.content,
            source_text=None,
            summary=note.summary,
            sensitive=note.sensitive,
            language=note.language,
            attachments=[dict(a) for a in note.attachments],
            raw=note.raw,
            edited_at=note.updated or datetime.now(UTC),
        )
        await statuses_db.set_tags(conn, status.id, list(note.hashtags))
        await notifications_db.notify_update(conn, status.id, actor.id)
        # Like Mastodon: whom the new version mentions is added; earlier mentions stay.
        previous = await statuses_db.list_mentioned_actor_ids(conn, status.id)
        mentioned = await known_actors(conn, note.mentions)
        await statuses_db.set_mentions(
            conn, status.id, list(dict.fromkeys([*previous, *(m.id for m in mentioned)]))
        )
