"""PostgreSQL advisory locks."""

from __future__ import annotations

from fedinet.db.types import Connection

__all__ = ["advisory_xact_lock"]


async def advisory_xact_lock(conn: Connection, name: str) -> None:
    """Hold an exclusive lock named ``name`` until the current transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)
