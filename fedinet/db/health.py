"""The database health probe."""

from __future__ import annotations

from fedinet.db.types import Executor

__all__ = ["ping"]


async def ping(db: Executor, *, within: float = 2.0) -> None:
    """Raise unless the database answers a trivial query within ``within`` seconds."""
    await db.fetchval("SELECT 1", timeout=within)
