"""Named queries around one status: its thread, its earlier versions, who favourited or
boosted it, and the Idempotency-Key it was posted with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedinet.db.actors import actor_from_row
from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor
from fedinet.models import Actor, Status

__all__ = [
    "StatusEdit",
    "get_idempotent_status",
    "list_ancestors",
    "list_descendants",
    "list_favouriters",
    "list_rebloggers",
    "list_status_edits",
    "remember_idempotency_key",
]

MAX_THREAD = 4096


@dataclass(frozen=True, slots=True)
class StatusEdit:
    """An earlier version of a status; ``created_at`` is when it was replaced."""

    content: str
    summary: str
    sensitive: bool
    attachments: list[dict[str, Any]]
    created_at: datetime


async def list_ancestors(db: Executor, status_id: int, *, limit: int = 40) -> list[Status]:
    """The statuses ``status_id`` replies to, the thread's first post first."""
    rows = await db.fetch(
        """
        WITH RECURSIVE up(id, depth) AS (
            SELECT in_reply_to_id, 1 FROM statuses WHERE id = $1 AND in_reply_to_id IS NOT NULL
            UNION ALL
            SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id
            WHERE s.in_reply_to_id IS NOT NULL AND up.depth < $2
        )
        SELECT s.* FROM up JOIN statuses s ON s.id = up.id ORDER BY up.depth DESC
        """,
        status_id,
        limit,
    )
    return [status_from_row(row) for row in rows]


async def list_descendants(db: Executor, status_id: int) -> list[Status]:
    """Replies to ``status_id`` and their replies, depth first in the order they came."""
    rows = await db.fetch(
        """
        WITH RECURSIVE down(id, path) AS (
            SELECT id, ARRAY[id] FROM statuses WHERE in_reply_to_id = $1
            UNION ALL
            SELECT s.id, down.path || s.id FROM statuses s JOIN down ON s.in_reply_to_id = down.id
            WHERE cardinality(down.path) < 64
        )
        SELECT s.* FROM down JOIN statuses s ON s.id = down.id
        WHERE s.deleted_at IS NULL
        ORDER BY down.path
        LIMIT $2
        """,
        status_id,
        MAX_THREAD,
    )
    return [status_from_row(row) for row in rows]


async def list_status_edits(db: Executor, status_id: int) -> list[StatusEdit]:
    """The versions before the current one, oldest first."""
    rows = await db.fetch(
        """
        SELECT content, summary, sensitive, attachments, created_at FROM status_edits
        WHERE status_id = $1 ORDER BY id
        """,
        status_id,
    )
    return [StatusEdit(**dict(row)) for row in rows]


async def list_favouriters(
    db: Executor,
    status_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(favourite id, account) pairs, the latest favourite first."""
    rows = await db.fetch(
        """
        SELECT f.id AS page_id, a.* FROM favourites f JOIN actors a ON a.id = f.actor_id
        WHERE f.status_id = $1 AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND ($3::bigint IS NULL OR f.id < $3)
          AND ($4::bigint IS NULL OR f.id > $4)
          AND ($5::bigint IS NULL OR f.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -f.id ELSE f.id END
        LIMIT $2
        """,
        status_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    return [_paged(dict(row)) for row in rows]


async def list_rebloggers(
    db: Executor,
    status_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(boost id, account) pairs, the latest boost first."""
    rows = await db.fetch(
        """
        SELECT b.id AS page_id, a.* FROM statuses b JOIN actors a ON a.id = b.actor_id
        WHERE b.reblog_of_id = $1 AND b.deleted_at IS NULL
          AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND ($3::bigint IS NULL OR b.id < $3)
          AND ($4::bigint IS NULL OR b.id > $4)
          AND ($5::bigint IS NULL OR b.id > $5)
        ORDER BY CASE WHEN $5::bigint IS NULL THEN -b.id ELSE b.id END
        LIMIT $2
        """,
        status_id,
        limit,
        max_id,
        since_id,
        min_id,
    )
    return [_paged(dict(row)) for row in rows]


def _paged(values: dict[str, Any]) -> tuple[int, Actor]:
    page_id = int(values.pop("page_id"))
    return page_id, actor_from_row(values)


async def get_idempotent_status(db: Executor, token_id: int, key: str) -> int | None:
    """The status posted with ``key`` by this token within the last hour."""
    value = await db.fetchval(
        """
        SELECT status_id FROM status_idempotency_keys
        WHERE token_id = $1 AND key = $2 AND created_at > now() - interval '1 hour'
        """,
        token_id,
        key,
    )
    return None if value is None else int(value)


async def remember_idempotency_key(db: Executor, token_id: int, key: str, status_id: int) -> None:
    await db.execute(
        """
        INSERT INTO status_idempotency_keys (token_id, key, status_id) VALUES ($1, $2, $3)
        ON CONFLICT (token_id, key) DO UPDATE
            SET status_id = EXCLUDED.status_id, created_at = now()
        """,
        token_id,
        key,
        status_id,
    )
