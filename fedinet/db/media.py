"""Named queries for uploaded media attachments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.types import Executor, Record

__all__ = [
    "MediaAttachment",
    "attach_media",
    "delete_unattached_media",
    "get_media_by_id",
    "insert_media",
    "list_media_for_edit",
    "list_media_for_status",
    "list_unattached_media",
    "set_status_media",
    "update_media",
]


@dataclass(frozen=True, slots=True)
class MediaAttachment:
    id: int
    actor_id: int
    status_id: int | None
    kind: str
    file_name: str
    content_type: str
    file_size: int
    width: int | None
    height: int | None
    description: str | None
    focus_x: float
    focus_y: float
    created_at: datetime


def _from_row(row: Record) -> MediaAttachment:
    return MediaAttachment(**dict(row))


async def insert_media(
    db: Executor,
    *,
    id: int,
    actor_id: int,
    kind: str,
    file_name: str,
    content_type: str,
    file_size: int,
    width: int | None,
    height: int | None,
    description: str | None,
    focus_x: float,
    focus_y: float,
) -> MediaAttachment:
    row = await db.fetchrow(
        """
        INSERT INTO media_attachments (id, actor_id, kind, file_name, content_type, file_size,
            width, height, description, focus_x, focus_y)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING *
        """,
        id,
        actor_id,
        kind,
        file_name,
        content_type,
        file_size,
        width,
        height,
        description,
        focus_x,
        focus_y,
    )
    assert row is not None
    return _from_row(row)


async def get_media_by_id(db: Executor, media_id: int) -> MediaAttachment | None:
    row = await db.fetchrow("SELECT * FROM media_attachments WHERE id = $1", media_id)
    return None if row is None else _from_row(row)


async def update_media(
    db: Executor, media_id: int, *, description: str | None, focus_x: float, focus_y: float
) -> MediaAttachment | None:
    row = await db.fetchrow(
        """
        UPDATE media_attachments SET description = $2, focus_x = $3, focus_y = $4
        WHERE id = $1 RETURNING *
        """,
        media_id,
        description,
        focus_x,
        focus_y,
    )
    return None if row is None else _from_row(row)


async def list_unattached_media(
    db: Executor, actor_id: int, media_ids: list[int]
) -> list[MediaAttachment]:
    """Those of ``media_ids`` that ``actor_id`` uploaded and no status uses yet, locked
    for the caller's transaction."""
    rows = await db.fetch(
        """
        SELECT * FROM media_attachments
        WHERE id = ANY($2::bigint[]) AND actor_id = $1 AND status_id IS NULL
        FOR UPDATE
        """,
        actor_id,
        media_ids,
    )
    return [_from_row(row) for row in rows]


async def list_media_for_edit(
    db: Executor, actor_id: int, status_id: int, media_ids: list[int]
) -> list[MediaAttachment]:
    """Those of ``media_ids`` that ``actor_id`` uploaded and that are either unattached or
    already on ``status_id``, locked for the caller's transaction."""
    rows = await db.fetch(
        """
        SELECT * FROM media_attachments
        WHERE id = ANY($3::bigint[]) AND actor_id = $1
          AND (status_id IS NULL OR status_id = $2)
        FOR UPDATE
        """,
        actor_id,
        status_id,
        media_ids,
    )
    return [_from_row(row) for row in rows]


async def set_status_media(db: Executor, status_id: int, media_ids: list[int]) -> None:
    """Make ``media_ids`` exactly the uploads attached to ``status_id`` (others are let go
    and become unattached uploads again)."""
    await db.execute(
        "UPDATE media_attachments SET status_id = NULL "
        "WHERE status_id = $1 AND NOT (id = ANY($2::bigint[]))",
        status_id,
        media_ids,
    )
    await attach_media(db, status_id, media_ids)


async def attach_media(db: Executor, status_id: int, media_ids: list[int]) -> None:
    await db.execute(
        "UPDATE media_attachments SET status_id = $1 WHERE id = ANY($2::bigint[])",
        status_id,
        media_ids,
    )


async def list_media_for_status(db: Executor, status_id: int) -> list[MediaAttachment]:
    rows = await db.fetch(
        "SELECT * FROM media_attachments WHERE status_id = $1 ORDER BY id", status_id
    )
    return [_from_row(row) for row in rows]


async def delete_unattached_media(db: Executor, actor_id: int, media_id: int) -> str | None:
    """Delete an upload no status uses; its file name, or None if nothing was deleted."""
    value = await db.fetchval(
        "DELETE FROM media_attachments WHERE id = $1 AND actor_id = $2 AND status_id IS NULL "
        "RETURNING file_name",
        media_id,
        actor_id,
    )
    return None if value is None else str(value)
