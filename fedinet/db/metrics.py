"""What ``/metrics`` reads from PostgreSQL when scraped: the state of the two queues.

One statement, using only the partial indexes on pending rows, so a scrape stays cheap
however many finished rows the tables hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.db.types import Executor

__all__ = ["QueueGauges", "queue_gauges"]


@dataclass(frozen=True, slots=True)
class QueueGauges:
    deliveries_pending: int
    deliveries_leased: int
    """Pending rows a worker holds right now (claimed, lease not run out)."""
    deliveries_oldest_seconds: float
    """Age of the oldest pending delivery (0 when none is pending)."""
    inbox_pending: int
    inbox_oldest_seconds: float


async def queue_gauges(db: Executor) -> QueueGauges:
    row = await db.fetchrow(
        """
        SELECT d.pending AS deliveries_pending,
               d.leased AS deliveries_leased,
               coalesce(extract(epoch FROM now() - d.oldest), 0)::float8
                   AS deliveries_oldest_seconds,
               i.pending AS inbox_pending,
               coalesce(extract(epoch FROM now() - i.oldest), 0)::float8
                   AS inbox_oldest_seconds
        FROM (
            SELECT count(*) AS pending,
                   count(*) FILTER (WHERE locked_until > now()) AS leased,
                   min(created_at) AS oldest
            FROM deliveries WHERE state = 'pending'
        ) AS d,
        (
            SELECT count(*) AS pending, min(received_at) AS oldest
            FROM inbox_items WHERE state = 'pending'
        ) AS i
        """
    )
    assert row is not None
    return QueueGauges(**dict(row))
