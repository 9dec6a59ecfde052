"""Named queries for favourites, blocks, home feeds, notifications and reports."""

from __future__ import annotations

from typing import Any

from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor
from fedinet.models import Notification, Status

__all__ = [
    "add_to_home_feeds",
    "delete_block",
    "delete_favourite",
    "delete_favourite_by_uri",
    "get_block",
    "get_favourite",
    "insert_block",
    "insert_favourite",
    "insert_notification",
    "insert_report",
    "is_blocked_either_way",
    "list_home_feed",
    "list_notifications",
    "remove_from_home_feeds_of",
]


async def insert_favourite(db: Executor, *, uri: str, actor_id: int, status_id: int) -> bool:
    """True when new."""
    value = await db.fetchval(
        """
        INSERT INTO favourites (uri, actor_id, status_id) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        uri,
        actor_id,
        status_id,
    )
    return value is not None


async def get_favourite(db: Executor, actor_id: int, status_id: int) -> str | None:
    """The uri of ``actor_id``'s Like of ``status_id``, when there is one."""
    value = await db.fetchval(
        "SELECT uri FROM favourites WHERE actor_id = $1 AND status_id = $2", actor_id, status_id
    )
    return None if value is None else str(value)


async def delete_favourite(db: Executor, actor_id: int, status_id: int) -> str | None:
    value = await db.fetchval(
        "DELETE FROM favourites WHERE actor_id = $1 AND status_id = $2 RETURNING uri",
        actor_id,
        status_id,
    )
    return None if value is None else str(value)


async def delete_favourite_by_uri(db: Executor, uri: str, actor_id: int) -> bool:
    value = await db.fetchval(
        "DELETE FROM favourites WHERE uri = $1 AND actor_id = $2 RETURNING id", uri, actor_id
    )
    return value is not None


async def insert_block(db: Executor, *, uri: str, actor_id: int, target_id: int) -> None:
    await db.execute(
        """
        INSERT INTO blocks (uri, actor_id, target_id) VALUES ($1, $2, $3)
        ON CONFLICT (actor_id, target_id) DO UPDATE SET uri = EXCLUDED.uri
        """,
        uri,
        actor_id,
        target_id,
    )


async def get_block(db: Executor, actor_id: int, target_id: int) -> str | None:
    value = await db.fetchval(
        "SELECT uri FROM blocks WHERE actor_id = $1 AND target_id = $2", actor_id, target_id
    )
    return None if value is None else str(value)


async def delete_block(db: Executor, actor_id: int, target_id: int) -> str | None:
    value = await db.fetchval(
        "DELETE FROM blocks WHERE actor_id = $1 AND target_id = $2 RETURNING uri",
        actor_id,
        target_id,
    )
    return None if value is None else str(value)


async def is_blocked_either_way(db: Executor, a: int, b: int) -> bool:
    value = await db.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM blocks WHERE (actor_id = $1 AND target_id = $2)
                                            OR (actor_id = $2 AND target_id = $1))
        """,
        a,
        b,
    )
    return bool(value)


async def add_to_home_feeds(db: Executor, status_id: int, owner_ids: list[int]) -> None:
    """Put a status into local members' home feeds, except where a block stands between
    the member and the status's author."""
    await db.execute(
        """
        INSERT INTO home_feed (owner_id, status_id)
        SELECT o.id, $1 FROM unnest($2::bigint[]) AS o(id)
        WHERE NOT EXISTS (
            SELECT 1 FROM blocks b, statuses s
            WHERE s.id = $1 AND ((b.actor_id = o.id AND b.target_id = s.actor_id)
                              OR (b.actor_id = s.actor_id AND b.target_id = o.id))
        )
        ON CONFLICT DO NOTHING
        """,
        status_id,
        owner_ids,
    )


async def remove_from_home_feeds_of(db: Executor, owner_id: int, author_id: int) -> None:
    """Drop ``author_id``'s statuses from ``owner_id``'s feed (unfollow, block)."""
    await db.execute(
        """
        DELETE FROM home_feed h USING statuses s
        WHERE h.owner_id = $1 AND h.status_id = s.id AND s.actor_id = $2
        """,
        owner_id,
        author_id,
    )


async def list_home_feed(
    db: Executor, owner_id: int, *, limit: int, max_id: int | None = None
) -> list[Status]:
    rows = await db.fetch(
        """
        SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id
        WHERE h.owner_id = $1 AND s.deleted_at IS NULL AND ($3::bigint IS NULL OR h.status_id < $3)
        ORDER BY h.status_id DESC LIMIT $2
        """,
        owner_id,
        limit,
        max_id,
    )
    return [status_from_row(row) for row in rows]


async def insert_notification(
    db: Executor,
    *,
    recipient_id: int,
    notification_type: str,
    from_actor_id: int,
    status_id: int | None = None,
) -> None:
    """Notify a member, unless the actor is on a blocked (silenced) domain and the member
    does not follow them: a limited domain reaches only its people's followers."""
    await db.execute(
        """
        INSERT INTO notifications (recipient_id, notification_type, from_actor_id, status_id)
        SELECT $1, $2, $3, $4
        WHERE NOT EXISTS (
            SELECT 1 FROM actors a
            WHERE a.id = $3 AND NOT a.is_local
              AND fedinet_domain_block_severity(a.domain) IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM follows f
                  WHERE f.follower_id = $1 AND f.followee_id = $3 AND f.state = 'accepted'
              )
        )
        """,
        recipient_id,
        notification_type,
        from_actor_id,
        status_id,
    )


async def list_notifications(db: Executor, recipient_id: int, *, limit: int) -> list[Notification]:
    rows = await db.fetch(
        "SELECT * FROM notifications WHERE recipient_id = $1 ORDER BY id DESC LIMIT $2",
        recipient_id,
        limit,
    )
    return [Notification(**dict(row)) for row in rows]


async def insert_report(
    db: Executor,
    *,
    uri: str | None,
    reporter_actor_id: int | None,
    target_actor_id: int,
    status_uris: list[str],
    comment: str,
    raw: dict[str, Any] | None,
) -> None:
    await db.execute(
        """
        INSERT INTO reports (uri, reporter_actor_id, target_actor_id, status_uris, comment, raw)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (uri) DO NOTHING
        """,
        uri,
        reporter_actor_id,
        target_actor_id,
        status_uris,
        comment,
        raw,
    )
