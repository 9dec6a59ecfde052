"""Minting time-sortable ids before a row is written (so its URI can contain it)."""

from __future__ import annotations

from datetime import datetime

from fedinet.db.types import Executor

__all__ = ["next_id"]


async def next_id(db: Executor, at: datetime | None = None) -> int:
    """A fresh id ordered by ``at`` (default: now), as the tables' defaults mint them."""
    value = await db.fetchval("SELECT fedinet_id(coalesce($1, now()))", at)
    return int(value)
