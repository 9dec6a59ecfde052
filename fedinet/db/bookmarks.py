"""Named queries for bookmarks, pinned statuses, and the lists of statuses a member
bookmarked or favourited (paged by the bookmark's or favourite's id, as Mastodon pages them).
"""

from __future__ import annotations

from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor, Record
from fedinet.models import Status

__all__ = [
    "count_pins",
    "delete_bookmark",
    "delete_pin",
    "insert_bookmark",
    "insert_pin",
    "list_bookmarked",
    "list_favourited",
    "list_pinned",
]


async def insert_bookmark(db: Executor, actor_id: int, status_id: int) -> None:
    await db.execute(
        "INSERT INTO bookmarks (actor_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        actor_id,
        status_id,
    )


async def delete_bookmark(db: Executor, actor_id: int, status_id: int) -> None:
    await db.execute(
        "DELETE FROM bookmarks WHERE actor_id = $1 AND status_id = $2", actor_id, status_id
    )


async def list_bookmarked(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Status]]:
    """(bookmark id, status) pairs: newest bookmark first, oldest above ``min_id`` first."""
    rows = await db.fetch(
        """
        SELECT b.id AS page_id, s.* FROM bookmarks b JOIN statuses s ON s.id = b.status_id
        WHERE b.actor_id = $1 AND s.deleted_at IS NULL
          AND ($3::bigint IS NULL OR b.id < $3)
          AND ($4::bigint IS NULL OR b.id > $4)
          AND ($5::bigint IS NULL OR b.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -b.id ELSE b.id END
        LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    return [(row["page_id"], _status(row)) for row in rows]


async def list_favourited(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Status]]:
    """(favourite id, status) pairs, paged like :func:`list_bookmarked`."""
    rows = await db.fetch(
        """
        SELECT f.id AS page_id, s.* FROM favourites f JOIN statuses s ON s.id = f.status_id
        WHERE f.actor_id = $1 AND s.deleted_at IS NULL
          AND ($3::bigint IS NULL OR f.id < $3)
          AND ($4::bigint IS NULL OR f.id > $4)
          AND ($5::bigint IS NULL OR f.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -f.id ELSE f.id END
        LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    return [(row["page_id"], _status(row)) for row in rows]


def _status(row: Record) -> Status:
    values = dict(row)
    values.pop("page_id", None)
    return Status(**values)


async def insert_pin(db: Executor, actor_id: int, status_id: int) -> bool:
    """True when new."""
    value = await db.fetchval(
        """
        INSERT INTO status_pins (actor_id, status_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        actor_id,
        status_id,
    )
    return value is not None


async def delete_pin(db: Executor, actor_id: int, status_id: int) -> bool:
    value = await db.fetchval(
        "DELETE FROM status_pins WHERE actor_id = $1 AND status_id = $2 RETURNING id",
        actor_id,
        status_id,
    )
    return value is not None


async def count_pins(db: Executor, actor_id: int) -> int:
    value = await db.fetchval(
        """
        SELECT count(*) FROM status_pins p JOIN statuses s ON s.id = p.status_id
        WHERE p.actor_id = $1 AND s.deleted_at IS NULL
        """,
        actor_id,
    )
    return int(value or 0)


async def list_pinned(db: Executor, actor_id: int) -> list[Status]:
    """The member's pinned statuses, the latest pinned first."""
    rows = await db.fetch(
        """
        SELECT s.* FROM status_pins p JOIN statuses s ON s.id = p.status_id
        WHERE p.actor_id = $1 AND s.deleted_at IS NULL
        ORDER BY p.id DESC
        """,
        actor_id,
    )
    return [status_from_row(row) for row in rows]
