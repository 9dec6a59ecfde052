"""Named queries for follow relationships."""

from __future__ import annotations

from datetime import datetime

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor, Record
from fedinet.models import Actor, Follow

__all__ = [
    "accept_follow",
    "count_followers",
    "count_following",
    "delete_follow",
    "get_follow",
    "get_follow_by_uri",
    "get_relationships",
    "insert_follow",
    "list_awaiting_from",
    "list_expired_awaiting",
    "list_followed_by_both",
    "list_followed_by_both_many",
    "list_followee_inboxes",
    "list_follower_inboxes",
    "list_followers",
    "list_following",
    "list_local_follower_ids",
    "list_pending_requests",
    "mark_reminded",
    "oldest_request_since",
    "set_follow_note",
]


def _from_row(row: Record) -> Follow:
    return Follow(**dict(row))


async def insert_follow(
    db: Executor, *, uri: str, follower_id: int, followee_id: int, accepted: bool
) -> Follow:
    """Create or refresh the follow of ``follower_id`` → ``followee_id``.

    A repeated Follow (a new activity id for the same pair) replaces the stored id; an
    accepted follow stays accepted.
    """
    row = await db.fetchrow(
        """
        INSERT INTO follows (uri, follower_id, followee_id, state, accepted_at)
        VALUES ($1, $2, $3, CASE WHEN $4 THEN 'accepted' ELSE 'pending' END,
                CASE WHEN $4 THEN now() END)
        ON CONFLICT (follower_id, followee_id) DO UPDATE SET
            uri = EXCLUDED.uri,
            state = CASE WHEN follows.state = 'accepted' OR $4 THEN 'accepted'
                         ELSE 'pending' END,
            accepted_at = coalesce(follows.accepted_at, EXCLUDED.accepted_at)
        RETURNING *
        """,
        uri,
        follower_id,
        followee_id,
        accepted,
    )
    assert row is not None
    return _from_row(row)


async def get_follow(db: Executor, follower_id: int, followee_id: int) -> Follow | None:
    row = await db.fetchrow(
        "SELECT * FROM follows WHERE follower_id = $1 AND followee_id = $2",
        follower_id,
        followee_id,
    )
    return None if row is None else _from_row(row)


async def get_follow_by_uri(db: Executor, uri: str) -> Follow | None:
    row = await db.fetchrow("SELECT * FROM follows WHERE uri = $1", uri)
    return None if row is None else _from_row(row)


async def accept_follow(db: Executor, follow_id: int) -> Follow | None:
    row = await db.fetchrow(
        """
        UPDATE follows SET state = 'accepted', accepted_at = coalesce(accepted_at, now())
        WHERE id = $1 RETURNING *
        """,
        follow_id,
    )
    return None if row is None else _from_row(row)


async def delete_follow(db: Executor, follower_id: int, followee_id: int) -> Follow | None:
    row = await db.fetchrow(
        "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING *",
        follower_id,
        followee_id,
    )
    return None if row is None else _from_row(row)


async def list_follower_inboxes(db: Executor, followee_id: int) -> list[str]:
    """Distinct inboxes of remote accepted followers, preferring shared inboxes: one
    delivery per server that has one, not one per follower."""
    rows = await db.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox_uri, a.inbox_uri) AS inbox
        FROM follows f JOIN actors a ON a.id = f.follower_id
        WHERE f.followee_id = $1 AND f.state = 'accepted' AND NOT a.is_local
          AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL
        ORDER BY 1
        """,
        followee_id,
    )
    return [row["inbox"] for row in rows]


async def list_local_follower_ids(db: Executor, followee_id: int) -> list[int]:
    rows = await db.fetch(
        """
        SELECT f.follower_id FROM follows f JOIN actors a ON a.id = f.follower_id
        WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.is_local
        """,
        followee_id,
    )
    return [row["follower_id"] for row in rows]


async def list_pending_requests(db: Executor, followee_id: int) -> list[tuple[Follow, Actor]]:
    """Pending requests to ``followee_id``, newest first, each with its requester."""
    follows = [
        _from_row(row)
        for row in await db.fetch(
            "SELECT * FROM follows WHERE followee_id = $1 AND state = 'pending' ORDER BY id DESC",
            followee_id,
        )
    ]
    rows = await db.fetch(
        "SELECT * FROM actors WHERE id = ANY($1::bigint[])", [f.follower_id for f in follows]
    )
    actors = {row["id"]: actor_from_row(row) for row in rows}
    return [(f, actors[f.follower_id]) for f in follows if f.follower_id in actors]


async def list_followers(
    db: Executor, followee_id: int, *, limit: int, offset: int = 0
) -> list[str]:
    rows = await db.fetch(
        """
        SELECT a.uri FROM follows f JOIN actors a ON a.id = f.follower_id
        WHERE f.followee_id = $1 AND f.state = 'accepted'
        ORDER BY f.id DESC LIMIT $2 OFFSET $3
        """,
        followee_id,
        limit,
        offset,
    )
    return [row["uri"] for row in rows]


async def list_following(
    db: Executor, follower_id: int, *, limit: int, offset: int = 0
) -> list[str]:
    rows = await db.fetch(
        """
        SELECT a.uri FROM follows f JOIN actors a ON a.id = f.followee_id
        WHERE f.follower_id = $1 AND f.state = 'accepted'
        ORDER BY f.id DESC LIMIT $2 OFFSET $3
        """,
        follower_id,
        limit,
        offset,
    )
    return [row["uri"] for row in rows]


async def count_followers(db: Executor, followee_id: int) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM follows WHERE followee_id = $1 AND state = 'accepted'",
        followee_id,
    )
    return int(value or 0)


async def count_following(db: Executor, follower_id: int) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM follows WHERE follower_id = $1 AND state = 'accepted'",
        follower_id,
    )
    return int(value or 0)


async def get_relationships(db: Executor, viewer_id: int, target_ids: list[int]) -> list[Record]:
    """Per target: following, requested, followed_by, requested_by, blocking, blocked_by."""
    return list(
        await db.fetch(
            """
            SELECT t.id,
                EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1
                        AND f.followee_id = t.id AND f.state = 'accepted') AS following,
                EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1
                        AND f.followee_id = t.id AND f.state = 'pending') AS requested,
                EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = t.id
                        AND f.followee_id = $1 AND f.state = 'accepted') AS followed_by,
                EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = t.id
                        AND f.followee_id = $1 AND f.state = 'pending') AS requested_by,
                EXISTS (SELECT 1 FROM blocks b WHERE b.actor_id = $1
                        AND b.target_id = t.id) AS blocking,
                EXISTS (SELECT 1 FROM blocks b WHERE b.actor_id = t.id
                        AND b.target_id = $1) AS blocked_by
            FROM unnest($2::bigint[]) AS t(id)
            """,
            viewer_id,
            target_ids,
        )
    )


async def oldest_request_since(db: Executor, follower_id: int, since: datetime) -> datetime | None:
    """When the oldest follow request ``follower_id`` sent since ``since`` was made."""
    value = await db.fetchval(
        "SELECT min(created_at) FROM request_notes WHERE follower_id = $1 AND created_at >= $2",
        follower_id,
        since,
    )
    return value if isinstance(value, datetime) else None


async def set_follow_note(
    db: Executor,
    follow_id: int,
    *,
    note: str | None,
    motive: str | None,
    state: str,
    connect_link_id: int | None = None,
) -> Follow | None:
    """Record a follow's note, motive and state (``awaiting_note`` starts the wait)."""
    row = await db.fetchrow(
        """
        UPDATE follows SET note = $2, motive = $3, state = $4,
            awaiting_since = CASE WHEN $4 = 'awaiting_note' THEN coalesce(awaiting_since, now())
                                  ELSE NULL END,
            accepted_at = CASE WHEN $4 = 'accepted' THEN coalesce(accepted_at, now())
                               ELSE accepted_at END,
            connect_link_id = coalesce($5, connect_link_id)
        WHERE id = $1 RETURNING *
        """,
        follow_id,
        note,
        motive,
        state,
        connect_link_id,
    )
    return None if row is None else _from_row(row)


async def mark_reminded(db: Executor, follow_id: int) -> None:
    await db.execute("UPDATE follows SET reminded = true WHERE id = $1", follow_id)


async def list_awaiting_from(db: Executor, follower_id: int) -> list[Follow]:
    rows = await db.fetch(
        "SELECT * FROM follows WHERE follower_id = $1 AND state = 'awaiting_note' ORDER BY id",
        follower_id,
    )
    return [_from_row(row) for row in rows]


async def list_expired_awaiting(db: Executor, before: datetime, *, limit: int) -> list[Follow]:
    rows = await db.fetch(
        """
        SELECT * FROM follows WHERE state = 'awaiting_note' AND awaiting_since < $1
        ORDER BY awaiting_since LIMIT $2
        """,
        before,
        limit,
    )
    return [_from_row(row) for row in rows]


async def list_followed_by_both(db: Executor, a: int, b: int, *, limit: int) -> list[str]:
    """``user@domain`` of accounts both ``a`` and ``b`` follow."""
    rows = await db.fetch(
        """
        SELECT t.username || '@' || t.domain AS acct
        FROM follows f1
        JOIN follows f2 ON f2.followee_id = f1.followee_id
        JOIN actors t ON t.id = f1.followee_id
        WHERE f1.follower_id = $1 AND f2.follower_id = $2
          AND f1.state = 'accepted' AND f2.state = 'accepted'
        ORDER BY f1.id DESC LIMIT $3
        """,
        a,
        b,
        limit,
    )
    return [row["acct"] for row in rows]


async def list_followed_by_both_many(
    db: Executor, a: int, others: list[int], *, limit: int
) -> dict[int, list[str]]:
    """:func:`list_followed_by_both` of ``a`` with each of ``others``, in one query."""
    rows = await db.fetch(
        """
        SELECT o.id AS other, m.acct
        FROM unnest($2::bigint[]) AS o(id)
        CROSS JOIN LATERAL (
            SELECT t.username || '@' || t.domain AS acct
            FROM follows f1
            JOIN follows f2 ON f2.followee_id = f1.followee_id
            JOIN actors t ON t.id = f1.followee_id
            WHERE f1.follower_id = $1 AND f2.follower_id = o.id
              AND f1.state = 'accepted' AND f2.state = 'accepted'
            ORDER BY f1.id DESC LIMIT $3
        ) m
        """,
        a,
        others,
        limit,
    )
    found: dict[int, list[str]] = {other: [] for other in others}
    for row in rows:
        found[int(row["other"])].append(row["acct"])
    return found


async def list_followee_inboxes(db: Executor, follower_id: int) -> list[str]:
    """Distinct inboxes of the remote actors ``follower_id`` follows or asked to follow
    (shared inboxes preferred): the servers that hold a follow of theirs."""
    rows = await db.fetch(
        """
        SELECT DISTINCT coalesce(a.shared_inbox_uri, a.inbox_uri) AS inbox
        FROM follows f JOIN actors a ON a.id = f.followee_id
        WHERE f.follower_id = $1 AND NOT a.is_local
          AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL
        ORDER BY 1
        """,
        follower_id,
    )
    return [row["inbox"] for row in rows]
