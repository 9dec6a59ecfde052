"""Named queries for connect links: pre-approved, expiring, revocable follow codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.types import Executor, Record

__all__ = [
    "ConnectLink",
    "insert_connect_link",
    "list_connect_links",
    "revoke_connect_link",
    "use_connect_link",
]


@dataclass(frozen=True, slots=True)
class ConnectLink:
    id: int
    code: str
    owner_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    uses: int


def _from_row(row: Record) -> ConnectLink:
    return ConnectLink(**dict(row))


async def insert_connect_link(
    db: Executor, *, code: str, owner_id: int, expires_at: datetime
) -> ConnectLink:
    row = await db.fetchrow(
        "INSERT INTO connect_links (code, owner_id, expires_at) VALUES ($1, $2, $3) RETURNING *",
        code,
        owner_id,
        expires_at,
    )
    assert row is not None
    return _from_row(row)


async def use_connect_link(db: Executor, code: str, owner_id: int) -> ConnectLink | None:
    """Count one use of ``owner_id``'s link ``code`` if it is valid now; else None."""
    row = await db.fetchrow(
        """
        UPDATE connect_links SET uses = uses + 1
        WHERE code = $1 AND owner_id = $2 AND revoked_at IS NULL AND expires_at > now()
        RETURNING *
        """,
        code,
        owner_id,
    )
    return None if row is None else _from_row(row)


async def revoke_connect_link(db: Executor, code: str, owner_id: int) -> bool:
    value = await db.fetchval(
        """
        UPDATE connect_links SET revoked_at = now()
        WHERE code = $1 AND owner_id = $2 AND revoked_at IS NULL RETURNING id
        """,
        code,
        owner_id,
    )
    return value is not None


async def list_connect_links(db: Executor, owner_id: int) -> list[ConnectLink]:
    rows = await db.fetch(
        "SELECT * FROM connect_links WHERE owner_id = $1 ORDER BY created_at DESC", owner_id
    )
    return [_from_row(row) for row in rows]
