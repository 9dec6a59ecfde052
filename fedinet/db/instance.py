"""Named queries about the instance as a whole: its settings and its NodeInfo counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fedinet.db.types import Executor

__all__ = [
    "UserCounts",
    "claim_chore",
    "count_users",
    "get_instance_setting",
    "set_instance_setting",
]


@dataclass(frozen=True, slots=True)
class UserCounts:
    """Members for NodeInfo: all, and those who logged in within 30 and 180 days."""

    total: int
    active_month: int
    active_halfyear: int


async def get_instance_setting(db: Executor, key: str) -> Any:
    """The decoded JSON value of an ``instance_settings`` key, or ``None`` if unset."""
    return await db.fetchval("SELECT value FROM instance_settings WHERE key = $1", key)


async def set_instance_setting(db: Executor, key: str, value: Any) -> None:
    """Insert or replace an ``instance_settings`` value (any JSON-encodable value)."""
    await db.execute(
        "INSERT INTO instance_settings (key, value) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        key,
        value,
    )


async def count_users(db: Executor) -> UserCounts:
    """Approved local members whose actor is neither suspended nor deleted."""
    row = await db.fetchrow(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE u.last_login_at >= now() - interval '30 days')
                   AS active_month,
               count(*) FILTER (WHERE u.last_login_at >= now() - interval '180 days')
                   AS active_halfyear
        FROM users u
        JOIN actors a ON a.id = u.actor_id
        WHERE a.is_local AND u.approved AND a.suspended_at IS NULL AND a.deleted_at IS NULL
        """
    )
    assert row is not None
    return UserCounts(
        total=int(row["total"]),
        active_month=int(row["active_month"]),
        active_halfyear=int(row["active_halfyear"]),
    )


async def claim_chore(db: Executor, name: str, every: timedelta) -> bool:
    """Claim the periodic chore ``name`` if nobody did in the last ``every``: true for
    exactly one caller per period, however many worker processes ask (the claim is one
    atomic upsert of ``instance_settings['chore:<name>']``, the time of the last run)."""
    claimed = await db.fetchval(
        """
        INSERT INTO instance_settings AS s (key, value, updated_at)
        VALUES ('chore:' || $1, to_jsonb(now()), now())
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
        WHERE s.updated_at <= now() - $2::interval
        RETURNING true
        """,
        name,
        every,
    )
    return bool(claimed)
