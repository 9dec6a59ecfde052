"""Publishing what local members do: one stored activity, one delivery row per inbox.

Everything here runs inside the caller's transaction, so the change that caused an
activity and the deliveries announcing it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fedinet.ap.ids import activity_uri
from fedinet.config import Settings
from fedinet.db import follows as follows_db
from fedinet.db.deliveries import enqueue_deliveries, insert_activity
from fedinet.db.ids import next_id
from fedinet.db.types import Connection
from fedinet.models import Activity, Actor

__all__ = ["audience_inboxes", "mint_activity_uri", "publish"]


async def mint_activity_uri(conn: Connection, settings: Settings) -> str:
    return activity_uri(settings.url, await next_id(conn))


async def audience_inboxes(
    conn: Connection, author: Actor, visibility: str, also: Iterable[Actor] = ()
) -> list[str]:
    """Inboxes of everyone who should receive an activity of ``author``: remote
    followers (shared inboxes, one per server) unless it is direct, plus ``also``."""
    inboxes: list[str] = []
    if visibility != "direct":
        inboxes.extend(await follows_db.list_follower_inboxes(conn, author.id))
    for actor in also:
        if actor.is_local or actor.is_gone:
            continue
        inbox = actor.inbox_uri or actor.shared_inbox_uri
        if inbox:
            inboxes.append(inbox)
    return list(dict.fromkeys(inboxes))


async def publish(
    conn: Connection,
    settings: Settings,
    author: Actor,
    build: Callable[[str], dict[str, Any]],
    *,
    object_uri: str | None,
    visibility: str = "public",
    inboxes: Iterable[str] = (),
    uri: str | None = None,
) -> Activity:
    """Store the activity ``build(uri)`` authored by ``author`` and queue its delivery
    to ``inboxes`` (remote ones; local recipients are handled by the caller)."""
    uri = uri or await mint_activity_uri(conn, settings)
    body = build(uri)
    activity = await insert_activity(
        conn,
        uri=uri,
        actor_id=author.id,
        activity_type=str(body["type"]),
        object_uri=object_uri,
        visibility=visibility,
        body=body,
    )
    targets = list(dict.fromkeys(inboxes))
    if targets:
        await enqueue_deliveries(conn, activity.id, targets)
    return activity
