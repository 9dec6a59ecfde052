"""Working through reports: list them, resolve one (dismissed, or with the reported
account suspended)."""

from __future__ import annotations

from fedinet.db import actors as actors_db
from fedinet.db import reports as reports_db
from fedinet.db.reports import Report
from fedinet.db.types import Connection, Executor
from fedinet.errors import Conflict, NotFound
from fedinet.models import Actor
from fedinet.services.admin.members import suspend_actor

__all__ = ["list_reports", "resolve_report"]


async def list_reports(db: Executor, *, include_resolved: bool = False) -> list[Report]:
    return await reports_db.list_reports(db, include_resolved=include_resolved)


async def resolve_report(
    conn: Connection, report_id: int, *, suspend: bool = False, by: Actor | None = None
) -> Report:
    """Resolve an open report; with ``suspend``, suspend its target first (a member as
    :func:`~fedinet.services.admin.members.suspend_member` does, a remote account by
    cutting it off from this instance)."""
    async with conn.transaction():
        report = await reports_db.get_report(conn, report_id)
        if report is None:
            raise NotFound(f"there is no report #{report_id}", reason="no_report")
        if report.resolved_at is not None:
            raise Conflict(f"report #{report_id} is already resolved", reason="resolved")
        if suspend:
            target = await actors_db.get_actor_by_id(conn, report.target_actor_id)
            assert target is not None  # the foreign key cascades
            if target.suspended_at is None and target.deleted_at is None:
                await suspend_actor(conn, target)
        await reports_db.resolve_report(
            conn,
            report_id,
            resolution="suspended" if suspend else "dismissed",
            by_actor_id=by.id if by is not None else None,
        )
        resolved = await reports_db.get_report(conn, report_id)
    assert resolved is not None
    return resolved
