"""Storing statuses that arrive from other servers (Create, Update, Announce)."""

from __future__ import annotations

from typing import Any

from fedinet.ap.notes import ParsedNote, ap_to_note
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import notifications as notifications_db
from fedinet.db import statuses as statuses_db
from fedinet.db.types import Connection
from fedinet.errors import BadActivity
from fedinet.federation.actors import ActorResolver
from fedinet.federation.fetch import fetch_json
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime

__all__ = ["fetch_remote_status", "known_actors", "parse_note_of", "store_remote_status"]


def parse_note_of(author: Actor, obj: Any, *, activity: dict[str, Any] | None = None) -> ParsedNote:
    """Parse a Note attributed to ``author``; the wrapping activity lends its addressing
    when the object has none."""
    if not isinstance(obj, dict):
        raise BadActivity("the activity's object must be an embedded object")
    return ap_to_note(
        obj, actor_uri=author.uri, followers_uri=author.followers_uri, activity=activity
    )


async def known_actors(conn: Connection, uris: tuple[str, ...]) -> list[Actor]:
    found = []
    for uri in dict.fromkeys(uris):
        actor = await actors_db.get_actor_by_uri(conn, uri)
        if actor is not None:
            found.append(actor)
    return found


async def store_remote_status(conn: Connection, author: Actor, note: ParsedNote) -> Status:
    """Store a remote status (idempotent by uri), fan it out to local home feeds and
    notify mentioned local members."""
    existing = await statuses_db.get_status_by_uri(conn, note.uri)
    if existing is not None:
        if existing.actor_id != author.id:
            raise BadActivity(f"{note.uri} already belongs to another actor")
        return existing
    parent = (
        await statuses_db.get_status_by_uri(conn, note.in_reply_to) if note.in_reply_to else None
    )
    mentions = await known_actors(conn, note.mentions)
    async with conn.transaction():
        status = await statuses_db.insert_status(
            conn,
            uri=note.uri,
            url=note.url,
            actor_id=author.id,
            is_local=False,
            object_type=note.object_type,
            visibility=note.visibility,
            in_reply_to_uri=note.in_reply_to,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_actor_id=parent.actor_id if parent else None,
            content=note.content,
            summary=note.summary,
            sensitive=note.sensitive,
            language=note.language,
            attachments=[dict(a) for a in note.attachments],
            raw=note.raw,
            published=note.published,
        )
        await statuses_db.set_mentions(conn, status.id, [m.id for m in mentions])
        await statuses_db.set_tags(conn, status.id, list(note.hashtags))
        owners: list[int] = []
        if status.visibility != "direct":
            owners += await follows_db.list_local_follower_ids(conn, author.id)
        owners += [m.id for m in mentions if m.is_local]
        await interactions_db.add_to_home_feeds(conn, status.id, list(dict.fromkeys(owners)))
        answers_another = status.in_reply_to_uri is not None and (
            parent is None or parent.actor_id != author.id
        )
        if status.visibility != "direct" and not answers_another:
            await notifications_db.notify_subscribers(conn, status.id, author.id)
        for mentioned in mentions:
            if mentioned.is_local and not await interactions_db.is_blocked_either_way(
                conn, mentioned.id, author.id
            ):
                await interactions_db.insert_notification(
                    conn,
                    recipient_id=mentioned.id,
                    notification_type="mention",
                    from_actor_id=author.id,
                    status_id=status.id,
                )
    return status


async def fetch_remote_status(runtime: Runtime, uri: str) -> Status:
    """A status by uri: from the database, else fetched from its server (with its
    author) and stored."""
    known = await statuses_db.get_status_by_uri(runtime.pool, uri)
    if known is not None:
        return known
    resolver = ActorResolver(runtime)
    fetched = await fetch_json(
        runtime.http,
        uri,
        signer=await resolver.signer(),
        allow_private=runtime.settings.allow_private_networks,
    )
    attributed = fetched.document.get("attributedTo")
    if isinstance(attributed, list):
        attributed = attributed[0] if attributed else None
    if isinstance(attributed, dict):
        attributed = attributed.get("id")
    if not isinstance(attributed, str):
        raise BadActivity(f"the object at {uri} has no attributedTo")
    author = await resolver.get_actor(attributed)
    note = parse_note_of(author, fetched.document)
    async with runtime.pool.acquire() as conn:
        return await store_remote_status(conn, author, note)
