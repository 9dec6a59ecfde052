"""Named queries for statuses (posts and boosts), their mentions, tags and edits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fedinet.db.types import Executor, Record
from fedinet.models import Status

__all__ = [
    "add_status_audience",
    "count_statuses",
    "delete_stale_remote_statuses",
    "get_reblog",
    "get_status_by_id",
    "get_status_by_uri",
    "get_statuses_by_ids",
    "insert_status",
    "list_mentioned_actor_ids",
    "list_status_audience",
    "list_status_tags",
    "list_statuses_by_actor",
    "mark_status_deleted",
    "set_mentions",
    "set_tags",
    "update_status_content",
]


def status_from_row(row: Record) -> Status:
    return Status(**row)  # a Record unpacks by name, without the copy into a dict


async def insert_status(db: Executor, **values: Any) -> Status:
    """Insert a status; ``id`` may be given (pre-minted), else it is minted from
    ``published``. Returns None-safe: a status whose uri exists is returned unchanged."""
    row = await db.fetchrow(
        """
        INSERT INTO statuses (
            id, uri, url, actor_id, is_local, object_type, visibility, in_reply_to_uri,
            in_reply_to_id, in_reply_to_actor_id, reblog_of_id, content, source_text,
            summary, sensitive, language, attachments, raw, published
        ) VALUES (
            coalesce($1, fedinet_id(coalesce($19, now()))), $2, $3, $4, $5, $6, $7, $8,
            $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, coalesce($19, now())
        )
        ON CONFLICT (uri) DO UPDATE SET uri = EXCLUDED.uri
        RETURNING *
        """,
        values.get("id"),
        values["uri"],
        values.get("url"),
        values["actor_id"],
        values["is_local"],
        values.get("object_type", "Note"),
        values["visibility"],
        values.get("in_reply_to_uri"),
        values.get("in_reply_to_id"),
        values.get("in_reply_to_actor_id"),
        values.get("reblog_of_id"),
        values.get("content", ""),
        values.get("source_text"),
        values.get("summary", ""),
        values.get("sensitive", False),
        values.get("language"),
        values.get("attachments", []),
        values.get("raw"),
        values.get("published"),
    )
    assert row is not None
    return status_from_row(row)


async def get_status_by_id(db: Executor, status_id: int) -> Status | None:
    row = await db.fetchrow("SELECT * FROM statuses WHERE id = $1", status_id)
    return None if row is None else status_from_row(row)


async def get_status_by_uri(db: Executor, uri: str) -> Status | None:
    row = await db.fetchrow("SELECT * FROM statuses WHERE uri = $1", uri)
    return None if row is None else status_from_row(row)


async def get_reblog(db: Executor, actor_id: int, reblog_of_id: int) -> Status | None:
    row = await db.fetchrow(
        "SELECT * FROM statuses WHERE actor_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL",
        actor_id,
        reblog_of_id,
    )
    return None if row is None else status_from_row(row)


async def update_status_content(
    db: Executor,
    status_id: int,
    *,
    content: str,
    source_text: str | None,
    summary: str,
    sensitive: bool,
    language: str | None,
    attachments: list[dict[str, Any]],
    raw: dict[str, Any] | None,
    edited_at: datetime,
) -> Status | None:
    """Keep the current version in ``status_edits``, then apply the edit."""
    await db.execute(
        """
        INSERT INTO status_edits (status_id, content, summary, sensitive, attachments)
        SELECT id, content, summary, sensitive, attachments FROM statuses WHERE id = $1
        """,
        status_id,
    )
    row = await db.fetchrow(
        """
        UPDATE statuses SET content = $2, source_text = $3, summary = $4, sensitive = $5,
            language = $6, attachments = $7, raw = $8, edited_at = $9
        WHERE id = $1 AND deleted_at IS NULL
        RETURNING *
        """,
        status_id,
        content,
        source_text,
        summary,
        sensitive,
        language,
        attachments,
        raw,
        edited_at,
    )
    return None if row is None else status_from_row(row)


async def mark_status_deleted(db: Executor, status_id: int) -> Status | None:
    """Soft-delete: the row stays as a tombstone; its content, feeds and boosts go."""
    row = await db.fetchrow(
        """
        UPDATE statuses SET deleted_at = now(), content = '', source_text = NULL,
            summary = '', attachments = '[]'::jsonb, raw = NULL
        WHERE id = $1 AND deleted_at IS NULL
        RETURNING *
        """,
        status_id,
    )
    if row is None:
        return None
    await db.execute("DELETE FROM home_feed WHERE status_id = $1", status_id)
    await db.execute(
        "UPDATE statuses SET deleted_at = now() WHERE reblog_of_id = $1 AND deleted_at IS NULL",
        status_id,
    )
    await db.execute(
        "DELETE FROM home_feed WHERE status_id IN "
        "(SELECT id FROM statuses WHERE reblog_of_id = $1)",
        status_id,
    )
    return status_from_row(row)


async def set_mentions(db: Executor, status_id: int, actor_ids: list[int]) -> None:
    await db.execute(
        "DELETE FROM mentions WHERE status_id = $1 AND NOT (actor_id = ANY($2::bigint[]))",
        status_id,
        actor_ids,
    )
    await db.execute(
        """
        INSERT INTO mentions (status_id, actor_id)
        SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING
        """,
        status_id,
        actor_ids,
    )


async def set_tags(db: Executor, status_id: int, tags: list[str]) -> None:
    await db.execute(
        "DELETE FROM status_tags WHERE status_id = $1 AND NOT (tag = ANY($2::text[]))",
        status_id,
        tags,
    )
    await db.execute(
        """
        INSERT INTO status_tags (status_id, tag)
        SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING
        """,
        status_id,
        tags,
    )


async def list_mentioned_actor_ids(db: Executor, status_id: int) -> list[int]:
    rows = await db.fetch(
        "SELECT actor_id FROM mentions WHERE status_id = $1 ORDER BY actor_id", status_id
    )
    return [row["actor_id"] for row in rows]


async def list_status_tags(db: Executor, status_id: int) -> list[str]:
    rows = await db.fetch(
        "SELECT tag FROM status_tags WHERE status_id = $1 ORDER BY tag", status_id
    )
    return [row["tag"] for row in rows]


async def list_statuses_by_actor(
    db: Executor, actor_id: int, *, limit: int, max_id: int | None = None
) -> list[Status]:
    rows = await db.fetch(
        """
        SELECT * FROM statuses
        WHERE actor_id = $1 AND deleted_at IS NULL AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
    )
    return [status_from_row(row) for row in rows]


async def count_statuses(db: Executor, actor_id: int) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM statuses WHERE actor_id = $1 AND deleted_at IS NULL", actor_id
    )
    return int(value or 0)


async def get_statuses_by_ids(db: Executor, status_ids: list[int]) -> dict[int, Status]:
    rows = await db.fetch("SELECT * FROM statuses WHERE id = ANY($1::bigint[])", status_ids)
    return {row["id"]: status_from_row(row) for row in rows}


async def add_status_audience(db: Executor, status_id: int, inbox_uri: str) -> None:
    await db.execute(
        "INSERT INTO status_audiences (status_id, inbox_uri) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        status_id,
        inbox_uri,
    )


async def list_status_audience(db: Executor, status_id: int) -> list[str]:
    """Inboxes of servers that fetched ``status_id`` or hold a boost of it."""
    rows = await db.fetch(
        """
        SELECT inbox_uri FROM status_audiences WHERE status_id = $1
        UNION
        SELECT coalesce(a.shared_inbox_uri, a.inbox_uri)
        FROM statuses b JOIN actors a ON a.id = b.actor_id
        WHERE b.reblog_of_id = $1 AND NOT a.is_local
          AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL
        ORDER BY 1
        """,
        status_id,
    )
    return [row[0] for row in rows]


async def delete_stale_remote_statuses(db: Executor, older_than: timedelta, *, limit: int) -> int:
    """Delete up to ``limit`` remote statuses stored more than ``older_than`` ago that no
    local member touched: not favourited, boosted, replied to or mentioning a member, and
    not boosted by anyone since. Home-feed entries and remote boosts of them go with them
    (cascade). Returns how many went; call again until it returns less than ``limit``."""
    value = await db.fetchval(
        """
        WITH stale AS (
            SELECT s.id FROM statuses AS s
            WHERE NOT s.is_local AND s.created_at < now() - $1::interval
              AND NOT EXISTS (
                  SELECT 1 FROM favourites AS f JOIN actors AS a ON a.id = f.actor_id
                  WHERE f.status_id = s.id AND a.is_local)
              AND NOT EXISTS (
                  SELECT 1 FROM statuses AS r
                  WHERE r.reblog_of_id = s.id
                    AND (r.is_local OR r.created_at >= now() - $1::interval))
              AND NOT EXISTS (
                  SELECT 1 FROM statuses AS r WHERE r.in_reply_to_id = s.id AND r.is_local)
              AND NOT EXISTS (
                  SELECT 1 FROM mentions AS m JOIN actors AS a ON a.id = m.actor_id
                  WHERE m.status_id = s.id AND a.is_local)
            ORDER BY s.id
            LIMIT $2
        ),
        gone AS (DELETE FROM statuses WHERE id IN (SELECT id FROM stale) RETURNING 1)
        SELECT count(*) FROM gone
        """,
        older_than,
        limit,
    )
    return int(value or 0)
