"""Named queries for mutes, a member's own domain blocks, and the lists of accounts a
member blocks or mutes (paged by the block's or mute's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor, Record
from fedinet.models import Actor

__all__ = [
    "Mute",
    "delete_account_domain_block",
    "delete_mute",
    "get_mute",
    "hidden_authors",
    "insert_account_domain_block",
    "list_account_domain_blocks",
    "list_blocked_accounts",
    "list_muted_accounts",
    "muting_flags",
    "upsert_mute",
]


@dataclass(frozen=True, slots=True)
class Mute:
    id: int
    target_id: int
    hide_notifications: bool
    expires_at: datetime | None


async def upsert_mute(
    db: Executor,
    actor_id: int,
    target_id: int,
    *,
    hide_notifications: bool,
    expires_at: datetime | None,
) -> None:
    await db.execute(
        """
        INSERT INTO mutes (actor_id, target_id, hide_notifications, expires_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (actor_id, target_id) DO UPDATE
            SET hide_notifications = EXCLUDED.hide_notifications,
                expires_at = EXCLUDED.expires_at
        """,
        actor_id,
        target_id,
        hide_notifications,
        expires_at,
    )


async def delete_mute(db: Executor, actor_id: int, target_id: int) -> None:
    await db.execute(
        "DELETE FROM mutes WHERE actor_id = $1 AND target_id = $2", actor_id, target_id
    )


async def get_mute(db: Executor, actor_id: int, target_id: int) -> Mute | None:
    """The mute still running, if any."""
    row = await db.fetchrow(
        """
        SELECT id, target_id, hide_notifications, expires_at FROM mutes
        WHERE actor_id = $1 AND target_id = $2 AND (expires_at IS NULL OR expires_at > now())
        """,
        actor_id,
        target_id,
    )
    return None if row is None else Mute(**dict(row))


async def muting_flags(
    db: Executor, actor_id: int, target_ids: list[int]
) -> dict[int, tuple[bool, bool, bool]]:
    """For each target: (muting, muting notifications, its domain blocked by the member)."""
    rows = await db.fetch(
        """
        SELECT t.id,
               m.id IS NOT NULL AS muting,
               coalesce(m.hide_notifications, false) AS muting_notifications,
               EXISTS (SELECT 1 FROM account_domain_blocks d JOIN actors a ON a.domain = d.domain
                       WHERE d.actor_id = $1 AND a.id = t.id) AS domain_blocking
        FROM unnest($2::bigint[]) AS t(id)
        LEFT JOIN mutes m ON m.actor_id = $1 AND m.target_id = t.id
            AND (m.expires_at IS NULL OR m.expires_at > now())
        """,
        actor_id,
        target_ids,
    )
    return {
        int(row["id"]): (row["muting"], row["muting_notifications"], row["domain_blocking"])
        for row in rows
    }


def _paged(row: Record) -> tuple[int, Actor]:
    values = dict(row)
    page_id = int(values.pop("page_id"))
    values.pop("expires", None)
    return page_id, actor_from_row(values)


async def list_blocked_accounts(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(block id, account) pairs, newest block first (oldest above ``min_id`` first)."""
    rows = await db.fetch(
        """
        SELECT b.id AS page_id, a.* FROM blocks b JOIN actors a ON a.id = b.target_id
        WHERE b.actor_id = $1
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
    return [_paged(row) for row in rows]


async def list_muted_accounts(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor, datetime | None]]:
    """(mute id, account, expiry) for running mutes, paged like the blocks."""
    rows = await db.fetch(
        """
        SELECT m.id AS page_id, m.expires_at AS expires, a.* FROM mutes m
        JOIN actors a ON a.id = m.target_id
        WHERE m.actor_id = $1 AND (m.expires_at IS NULL OR m.expires_at > now())
          AND ($3::bigint IS NULL OR m.id < $3)
          AND ($4::bigint IS NULL OR m.id > $4)
          AND ($5::bigint IS NULL OR m.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -m.id ELSE m.id END
        LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    result = []
    for row in rows:
        page_id, actor = _paged(row)
        result.append((page_id, actor, row["expires"]))
    return result


async def insert_account_domain_block(db: Executor, actor_id: int, domain: str) -> None:
    await db.execute(
        """
        INSERT INTO account_domain_blocks (actor_id, domain) VALUES ($1, $2)
        ON CONFLICT DO NOTHING
        """,
        actor_id,
        domain,
    )


async def delete_account_domain_block(db: Executor, actor_id: int, domain: str) -> None:
    await db.execute(
        "DELETE FROM account_domain_blocks WHERE actor_id = $1 AND domain = $2", actor_id, domain
    )


async def list_account_domain_blocks(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, str]]:
    rows = await db.fetch(
        """
        SELECT id, domain FROM account_domain_blocks
        WHERE actor_id = $1
          AND ($3::bigint IS NULL OR id < $3)
          AND ($4::bigint IS NULL OR id > $4)
          AND ($5::bigint IS NULL OR id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -id ELSE id END
        LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    return [(int(row["id"]), str(row["domain"])) for row in rows]


async def hidden_authors(db: Executor, viewer_id: int, author_ids: list[int]) -> set[int]:
    """Which of ``author_ids`` the viewer blocks, is blocked by, mutes or hides by domain."""
    rows = await db.fetch(
        "SELECT a.id FROM unnest($2::bigint[]) AS a(id) WHERE fedinet_hides($1, a.id)",
        viewer_id,
        author_ids,
    )
    return {int(row["id"]) for row in rows}
