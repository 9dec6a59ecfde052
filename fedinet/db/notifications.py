"""Named queries for reading and removing a member's notifications (they are made in
``db.interactions.insert_notification``).

Notifications from accounts the member blocks, mutes (with notifications) or whose domain
they block are left out when read, as are those about deleted statuses.
"""

from __future__ import annotations

from fedinet.db.types import Executor, Record
from fedinet.models import Notification

__all__ = [
    "clear_notifications",
    "count_unread_notifications",
    "dismiss_notification",
    "get_notification",
    "list_notifications_page",
    "notify_subscribers",
    "notify_update",
    "set_subscription",
    "subscribed_to",
]

_PAGE_DESC = """
    SELECT n.* FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
    WHERE n.recipient_id = $1
      AND ($3::text[] IS NULL OR n.notification_type = ANY($3::text[]))
      AND NOT (n.notification_type = ANY($4::text[]))
      AND ($5::bigint IS NULL OR n.from_actor_id = $5)
      AND ($6::bigint IS NULL OR n.id < $6)
      AND ($7::bigint IS NULL OR n.id > $7)
      AND (n.status_id IS NULL OR s.deleted_at IS NULL)
      AND NOT fedinet_hides_notifications(n.recipient_id, n.from_actor_id)
    ORDER BY n.id DESC
    LIMIT $2
"""

_PAGE_ASC = """
    SELECT n.* FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
    WHERE n.recipient_id = $1
      AND ($3::text[] IS NULL OR n.notification_type = ANY($3::text[]))
      AND NOT (n.notification_type = ANY($4::text[]))
      AND ($5::bigint IS NULL OR n.from_actor_id = $5)
      AND ($6::bigint IS NULL OR n.id < $6)
      AND n.id > $7
      AND (n.status_id IS NULL OR s.deleted_at IS NULL)
      AND NOT fedinet_hides_notifications(n.recipient_id, n.from_actor_id)
    ORDER BY n.id ASC
    LIMIT $2
"""


def _notification(row: Record) -> Notification:
    return Notification(**dict(row))


async def list_notifications_page(
    db: Executor,
    recipient_id: int,
    *,
    limit: int,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    account_id: int | None = None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Notification]:
    """Newest first; with ``min_id``, the oldest just above it first. ``types`` None: all."""
    excluded = exclude_types or []
    if min_id is not None:
        rows = await db.fetch(
            _PAGE_ASC, recipient_id, limit, types, excluded, account_id, max_id, min_id
        )
    else:
        rows = await db.fetch(
            _PAGE_DESC, recipient_id, limit, types, excluded, account_id, max_id, since_id
        )
    return [_notification(row) for row in rows]


async def get_notification(
    db: Executor, recipient_id: int, notification_id: int
) -> Notification | None:
    row = await db.fetchrow(
        """
        SELECT n.* FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
        WHERE n.id = $2 AND n.recipient_id = $1
          AND (n.status_id IS NULL OR s.deleted_at IS NULL)
        """,
        recipient_id,
        notification_id,
    )
    return None if row is None else _notification(row)


async def dismiss_notification(db: Executor, recipient_id: int, notification_id: int) -> bool:
    value = await db.fetchval(
        "DELETE FROM notifications WHERE id = $2 AND recipient_id = $1 RETURNING id",
        recipient_id,
        notification_id,
    )
    return value is not None


async def clear_notifications(db: Executor, recipient_id: int) -> None:
    await db.execute("DELETE FROM notifications WHERE recipient_id = $1", recipient_id)


async def count_unread_notifications(
    db: Executor, recipient_id: int, *, after_id: int, limit: int
) -> int:
    """Notifications newer than ``after_id`` (the notifications marker), up to ``limit``."""
    value = await db.fetchval(
        """
        SELECT count(*) FROM (
            SELECT 1 FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id
            WHERE n.recipient_id = $1 AND n.id > $2
              AND (n.status_id IS NULL OR s.deleted_at IS NULL)
              AND NOT fedinet_hides_notifications(n.recipient_id, n.from_actor_id)
            LIMIT $3
        ) AS unread
        """,
        recipient_id,
        after_id,
        limit,
    )
    return int(value or 0)


async def notify_update(db: Executor, status_id: int, author_id: int) -> None:
    """Tell the local members who boosted ``status_id`` that its author edited it."""
    await db.execute(
        """
        INSERT INTO notifications (recipient_id, notification_type, from_actor_id, status_id)
        SELECT DISTINCT b.actor_id, 'update', $2::bigint, $1::bigint
        FROM statuses b JOIN actors a ON a.id = b.actor_id
        WHERE b.reblog_of_id = $1 AND b.deleted_at IS NULL AND a.is_local
          AND b.actor_id <> $2
        """,
        status_id,
        author_id,
    )


async def set_subscription(db: Executor, actor_id: int, target_id: int, on: bool) -> None:
    """Whether ``actor_id`` is told of each new post of ``target_id`` (follow's notify)."""
    if on:
        await db.execute(
            "INSERT INTO account_subscriptions (actor_id, target_id) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            actor_id,
            target_id,
        )
    else:
        await db.execute(
            "DELETE FROM account_subscriptions WHERE actor_id = $1 AND target_id = $2",
            actor_id,
            target_id,
        )


async def subscribed_to(db: Executor, actor_id: int, target_ids: list[int]) -> set[int]:
    rows = await db.fetch(
        "SELECT target_id FROM account_subscriptions "
        "WHERE actor_id = $1 AND target_id = ANY($2::bigint[])",
        actor_id,
        target_ids,
    )
    return {int(row["target_id"]) for row in rows}


async def notify_subscribers(db: Executor, status_id: int, author_id: int) -> None:
    """A ``status`` notification to each local member who follows ``author_id`` (accepted)
    with notify on, and may see the status (followers-only ones go to followers)."""
    await db.execute(
        """
        INSERT INTO notifications (recipient_id, notification_type, from_actor_id, status_id)
        SELECT s.actor_id, 'status', $2::bigint, $1::bigint
        FROM account_subscriptions s
        JOIN actors a ON a.id = s.actor_id AND a.is_local
        JOIN follows f ON f.follower_id = s.actor_id AND f.followee_id = $2
            AND f.state = 'accepted'
        WHERE s.target_id = $2 AND s.actor_id <> $2
        """,
        status_id,
        author_id,
    )
