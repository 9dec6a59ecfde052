"""Named queries for reports (``reports``): Flags from other servers and members' reports,
as moderators read and resolve them. Reports arrive through
:func:`fedinet.db.interactions.insert_report`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fedinet.db.types import Executor, Record

__all__ = ["Report", "Resolution", "get_report", "list_reports", "resolve_report"]

Resolution = Literal["dismissed", "suspended"]


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    uri: str | None
    reporter_actor_id: int | None
    target_actor_id: int
    status_uris: list[str]
    comment: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    resolved_by_actor_id: int | None
    target_uri: str
    target_username: str
    target_domain: str
    target_is_local: bool
    target_suspended: bool
    reporter_uri: str | None
    reporter_username: str | None
    reporter_domain: str | None

    @property
    def target_acct(self) -> str:
        return f"{self.target_username}@{self.target_domain}"

    @property
    def reporter_acct(self) -> str | None:
        if self.reporter_username is None:
            return None
        return f"{self.reporter_username}@{self.reporter_domain}"


def _from_row(row: Record) -> Report:
    values = dict(row)
    values["status_uris"] = list(values["status_uris"])
    return Report(**values)


async def list_reports(db: Executor, *, include_resolved: bool, limit: int = 100) -> list[Report]:
    """Open reports oldest first (the queue to work through); with ``include_resolved``,
    every report, newest first."""
    rows = await db.fetch(
        """
        SELECT
            r.id, r.uri, r.reporter_actor_id, r.target_actor_id, r.status_uris, r.comment,
            r.created_at, r.resolved_at, r.resolution, r.resolved_by_actor_id,
            t.uri AS target_uri, t.username AS target_username, t.domain AS target_domain,
            t.is_local AS target_is_local, t.suspended_at IS NOT NULL AS target_suspended,
            p.uri AS reporter_uri, p.username AS reporter_username, p.domain AS reporter_domain
        FROM reports r
        JOIN actors t ON t.id = r.target_actor_id
        LEFT JOIN actors p ON p.id = r.reporter_actor_id
        WHERE $1 OR r.resolved_at IS NULL
        ORDER BY CASE WHEN $1 THEN -r.id ELSE r.id END
        LIMIT $2
        """,
        include_resolved,
        limit,
    )
    return [_from_row(row) for row in rows]


async def get_report(db: Executor, report_id: int) -> Report | None:
    row = await db.fetchrow(
        """
        SELECT
            r.id, r.uri, r.reporter_actor_id, r.target_actor_id, r.status_uris, r.comment,
            r.created_at, r.resolved_at, r.resolution, r.resolved_by_actor_id,
            t.uri AS target_uri, t.username AS target_username, t.domain AS target_domain,
            t.is_local AS target_is_local, t.suspended_at IS NOT NULL AS target_suspended,
            p.uri AS reporter_uri, p.username AS reporter_username, p.domain AS reporter_domain
        FROM reports r
        JOIN actors t ON t.id = r.target_actor_id
        LEFT JOIN actors p ON p.id = r.reporter_actor_id
        WHERE r.id = $1
        """,
        report_id,
    )
    return None if row is None else _from_row(row)


async def resolve_report(
    db: Executor, report_id: int, *, resolution: Resolution, by_actor_id: int | None
) -> bool:
    """Mark an open report resolved; ``False`` when it was already (or does not exist)."""
    value = await db.fetchval(
        """
        UPDATE reports SET resolved_at = now(), resolution = $2, resolved_by_actor_id = $3
        WHERE id = $1 AND resolved_at IS NULL
        RETURNING id
        """,
        report_id,
        resolution,
        by_actor_id,
    )
    return value is not None
