"""Named queries for timeline markers (how far a member has read home and notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.types import Executor

__all__ = ["Marker", "get_markers", "set_marker"]


@dataclass(frozen=True, slots=True)
class Marker:
    timeline: str
    last_read_id: int
    version: int
    updated_at: datetime


async def get_markers(db: Executor, actor_id: int, timelines: list[str]) -> dict[str, Marker]:
    rows = await db.fetch(
        """
        SELECT timeline, last_read_id, version, updated_at FROM markers
        WHERE actor_id = $1 AND timeline = ANY($2::text[])
        """,
        actor_id,
        timelines,
    )
    return {row["timeline"]: Marker(**dict(row)) for row in rows}


async def set_marker(db: Executor, actor_id: int, timeline: str, last_read_id: int) -> Marker:
    """Set the marker; each change raises ``version`` by one."""
    row = await db.fetchrow(
        """
        INSERT INTO markers (actor_id, timeline, last_read_id) VALUES ($1, $2, $3)
        ON CONFLICT (actor_id, timeline) DO UPDATE
            SET last_read_id = EXCLUDED.last_read_id, version = markers.version + 1,
                updated_at = now()
        RETURNING timeline, last_read_id, version, updated_at
        """,
        actor_id,
        timeline,
        last_read_id,
    )
    assert row is not None
    return Marker(**dict(row))
