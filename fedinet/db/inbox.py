"""Named queries for the inbox queue (``inbox_items``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fedinet.db.types import Executor, Record

__all__ = [
    "INBOX_CHANNEL",
    "InboxItem",
    "claim_inbox_items",
    "count_inbox_items",
    "delete_processed_inbox_items",
    "get_inbox_item_by_activity_id",
    "insert_inbox_item",
    "mark_inbox_item",
    "retry_inbox_item",
]

INBOX_CHANNEL = "fedinet_inbox"


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    activity_id: str | None
    activity_type: str
    actor_uri: str
    recipient_actor_id: int | None
    key_id: str
    body: dict[str, Any]
    received_at: datetime
    state: str
    attempts: int
    available_at: datetime
    locked_until: datetime | None
    processed_at: datetime | None
    error: str | None


def _from_row(row: Record) -> InboxItem:
    return InboxItem(**dict(row))


async def insert_inbox_item(
    db: Executor,
    *,
    activity_id: str | None,
    activity_type: str,
    actor_uri: str,
    recipient_actor_id: int | None,
    key_id: str,
    body_json: str,
) -> bool:
    """Store a verified activity and wake the workers. False when this activity id was
    stored before (a replay): it is then not stored again."""
    # body_json is the received JSON text; PostgreSQL parses it once into jsonb.
    inserted = await db.fetchval(
        """
        WITH stored AS (
            INSERT INTO inbox_items
                (activity_id, activity_type, actor_uri, recipient_actor_id, key_id, body)
            VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)
            ON CONFLICT (activity_id) WHERE activity_id IS NOT NULL DO NOTHING
            RETURNING id
        )
        SELECT count(*) FROM (
            SELECT pg_notify($7, ''), id FROM stored
        ) AS notified
        """,
        activity_id,
        activity_type,
        actor_uri,
        recipient_actor_id,
        key_id,
        body_json,
        INBOX_CHANNEL,
    )
    return bool(inserted)


async def claim_inbox_items(db: Executor, *, limit: int, lease: timedelta) -> list[InboxItem]:
    """Claim up to ``limit`` pending items for ``lease``; other workers skip them."""
    rows = await db.fetch(
        """
        UPDATE inbox_items
        SET locked_until = now() + $2::interval, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM inbox_items
            WHERE state = 'pending'
              AND available_at <= now()
              AND (locked_until IS NULL OR locked_until < now())
            ORDER BY available_at, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING *
        """,
        limit,
        lease,
    )
    return sorted((_from_row(row) for row in rows), key=lambda item: item.id)


async def mark_inbox_item(db: Executor, item_id: int, state: str, error: str | None = None) -> None:
    """Finish an item: ``done``, ``ignored`` or ``failed``."""
    await db.execute(
        """
        UPDATE inbox_items
        SET state = $2, error = $3, processed_at = now(), locked_until = NULL
        WHERE id = $1
        """,
        item_id,
        state,
        error,
    )


async def retry_inbox_item(db: Executor, item_id: int, delay: timedelta, error: str) -> None:
    await db.execute(
        """
        UPDATE inbox_items
        SET available_at = now() + $2::interval, error = $3, locked_until = NULL
        WHERE id = $1
        """,
        item_id,
        delay,
        error,
    )


async def get_inbox_item_by_activity_id(db: Executor, activity_id: str) -> InboxItem | None:
    row = await db.fetchrow("SELECT * FROM inbox_items WHERE activity_id = $1", activity_id)
    return None if row is None else _from_row(row)


async def count_inbox_items(db: Executor, state: str | None = None) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM inbox_items WHERE $1::text IS NULL OR state = $1", state
    )
    return int(value or 0)


async def delete_processed_inbox_items(db: Executor, older_than: timedelta) -> int:
    """Delete items processed (done, ignored or failed) that arrived more than
    ``older_than`` ago; returns how many. Replays of such old activities are refused by the
    signature's date check anyway."""
    value = await db.fetchval(
        """
        WITH gone AS (
            DELETE FROM inbox_items
            WHERE state <> 'pending' AND received_at < now() - $1::interval
            RETURNING 1
        )
        SELECT count(*) FROM gone
        """,
        older_than,
    )
    return int(value or 0)
