"""Named queries for a member's filters (Mastodon's v2 filters: a title, contexts, an
action, keywords and statuses; the v1 API shows each keyword as one filter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fedinet.db.types import Executor, Record

__all__ = [
    "Filter",
    "FilterKeyword",
    "FilterStatus",
    "add_filter_status",
    "delete_filter",
    "delete_filter_keyword",
    "delete_filter_status",
    "get_filter",
    "get_filter_keyword",
    "get_filter_status",
    "insert_filter",
    "insert_filter_keyword",
    "list_filters",
    "update_filter",
    "update_filter_keyword",
]


@dataclass(frozen=True, slots=True)
class FilterKeyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True, slots=True)
class FilterStatus:
    id: int
    filter_id: int
    status_id: int


@dataclass(frozen=True, slots=True)
class Filter:
    id: int
    owner_id: int
    title: str
    contexts: list[str]
    filter_action: str
    expires_at: datetime | None
    keywords: list[FilterKeyword] = field(default_factory=list)
    statuses: list[FilterStatus] = field(default_factory=list)


async def _complete(db: Executor, rows: list[Record]) -> list[Filter]:
    if not rows:  # most members have no filters, and every timeline page asks
        return []
    ids = [row["id"] for row in rows]
    keywords = await db.fetch(
        "SELECT id, filter_id, keyword, whole_word FROM filter_keywords "
        "WHERE filter_id = ANY($1::bigint[]) ORDER BY id",
        ids,
    )
    statuses = await db.fetch(
        "SELECT id, filter_id, status_id FROM filter_statuses "
        "WHERE filter_id = ANY($1::bigint[]) ORDER BY id",
        ids,
    )
    return [
        Filter(
            id=row["id"],
            owner_id=row["owner_id"],
            title=row["title"],
            contexts=list(row["contexts"]),
            filter_action=row["filter_action"],
            expires_at=row["expires_at"],
            keywords=[FilterKeyword(**dict(k)) for k in keywords if k["filter_id"] == row["id"]],
            statuses=[FilterStatus(**dict(s)) for s in statuses if s["filter_id"] == row["id"]],
        )
        for row in rows
    ]


async def list_filters(db: Executor, owner_id: int, *, active_only: bool = False) -> list[Filter]:
    """The member's filters with their keywords and statuses; ``active_only``: those not
    expired."""
    rows = await db.fetch(
        """
        SELECT id, owner_id, title, contexts, filter_action, expires_at FROM filters
        WHERE owner_id = $1 AND (NOT $2 OR expires_at IS NULL OR expires_at > now())
        ORDER BY id
        """,
        owner_id,
        active_only,
    )
    return await _complete(db, list(rows))


async def get_filter(db: Executor, owner_id: int, filter_id: int) -> Filter | None:
    rows = await db.fetch(
        "SELECT id, owner_id, title, contexts, filter_action, expires_at FROM filters "
        "WHERE id = $2 AND owner_id = $1",
        owner_id,
        filter_id,
    )
    found = await _complete(db, list(rows))
    return found[0] if found else None


async def insert_filter(
    db: Executor,
    owner_id: int,
    *,
    title: str,
    contexts: list[str],
    filter_action: str,
    expires_at: datetime | None,
) -> int:
    value = await db.fetchval(
        """
        INSERT INTO filters (owner_id, title, contexts, filter_action, expires_at)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        owner_id,
        title,
        contexts,
        filter_action,
        expires_at,
    )
    return int(value)


async def update_filter(
    db: Executor,
    filter_id: int,
    *,
    title: str,
    contexts: list[str],
    filter_action: str,
    expires_at: datetime | None,
) -> None:
    await db.execute(
        """
        UPDATE filters SET title = $2, contexts = $3, filter_action = $4, expires_at = $5
        WHERE id = $1
        """,
        filter_id,
        title,
        contexts,
        filter_action,
        expires_at,
    )


async def delete_filter(db: Executor, filter_id: int) -> None:
    await db.execute("DELETE FROM filters WHERE id = $1", filter_id)


async def insert_filter_keyword(
    db: Executor, filter_id: int, keyword: str, whole_word: bool
) -> FilterKeyword:
    row = await db.fetchrow(
        """
        INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES ($1, $2, $3)
        RETURNING id, filter_id, keyword, whole_word
        """,
        filter_id,
        keyword,
        whole_word,
    )
    assert row is not None
    return FilterKeyword(**dict(row))


async def get_filter_keyword(db: Executor, owner_id: int, keyword_id: int) -> FilterKeyword | None:
    row = await db.fetchrow(
        """
        SELECT k.id, k.filter_id, k.keyword, k.whole_word
        FROM filter_keywords k JOIN filters f ON f.id = k.filter_id
        WHERE k.id = $2 AND f.owner_id = $1
        """,
        owner_id,
        keyword_id,
    )
    return None if row is None else FilterKeyword(**dict(row))


async def update_filter_keyword(
    db: Executor, keyword_id: int, keyword: str, whole_word: bool
) -> FilterKeyword:
    row = await db.fetchrow(
        """
        UPDATE filter_keywords SET keyword = $2, whole_word = $3 WHERE id = $1
        RETURNING id, filter_id, keyword, whole_word
        """,
        keyword_id,
        keyword,
        whole_word,
    )
    assert row is not None
    return FilterKeyword(**dict(row))


async def delete_filter_keyword(db: Executor, keyword_id: int) -> None:
    await db.execute("DELETE FROM filter_keywords WHERE id = $1", keyword_id)


async def add_filter_status(db: Executor, filter_id: int, status_id: int) -> FilterStatus | None:
    """None when the status is already in the filter."""
    row = await db.fetchrow(
        """
        INSERT INTO filter_statuses (filter_id, status_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING id, filter_id, status_id
        """,
        filter_id,
        status_id,
    )
    return None if row is None else FilterStatus(**dict(row))


async def get_filter_status(db: Executor, owner_id: int, entry_id: int) -> FilterStatus | None:
    row = await db.fetchrow(
        """
        SELECT s.id, s.filter_id, s.status_id
        FROM filter_statuses s JOIN filters f ON f.id = s.filter_id
        WHERE s.id = $2 AND f.owner_id = $1
        """,
        owner_id,
        entry_id,
    )
    return None if row is None else FilterStatus(**dict(row))


async def delete_filter_status(db: Executor, entry_id: int) -> None:
    await db.execute("DELETE FROM filter_statuses WHERE id = $1", entry_id)
