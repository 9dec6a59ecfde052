"""Named queries for browser sessions (``web_sessions``), failed-login counters
(``login_failures``), password-reset tokens (``password_resets``) and sign-up
invitations (``invites``, ``invite_uses``).

Tokens and codes are stored only as their SHA-256 (``bytea``); callers hash them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.types import Executor, Record

__all__ = [
    "Invite",
    "WebSession",
    "claim_password_reset",
    "count_login_failures",
    "delete_expired_sessions",
    "delete_session",
    "delete_session_of_user",
    "delete_sessions_of_user",
    "get_invite_by_hash",
    "get_session_by_token_hash",
    "insert_invite",
    "insert_password_reset",
    "insert_session",
    "list_invites",
    "list_sessions_of_user",
    "record_login_failure",
    "revoke_invite",
    "touch_session",
    "use_invite",
]


@dataclass(frozen=True, slots=True)
class WebSession:
    id: int
    user_id: int
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    created_by: int | None
    comment: str
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


def _session(row: Record) -> WebSession:
    values = dict(row)
    values.pop("token_hash", None)
    return WebSession(**values)


def _invite(row: Record) -> Invite:
    values = dict(row)
    values.pop("code_hash", None)
    return Invite(**values)


# --------------------------------------------------------------------------- sessions


async def insert_session(
    db: Executor,
    *,
    token_hash: bytes,
    user_id: int,
    user_agent: str,
    ip: str,
    expires_at: datetime,
) -> WebSession:
    row = await db.fetchrow(
        "INSERT INTO web_sessions (token_hash, user_id, user_agent, ip, expires_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING *",
        token_hash,
        user_id,
        user_agent[:300],
        ip[:64],
        expires_at,
    )
    assert row is not None
    return _session(row)


async def get_session_by_token_hash(
    db: Executor, token_hash: bytes, now: datetime
) -> WebSession | None:
    """The unexpired session with this token hash."""
    row = await db.fetchrow(
        "SELECT * FROM web_sessions WHERE token_hash = $1 AND expires_at > $2",
        token_hash,
        now,
    )
    return None if row is None else _session(row)


async def touch_session(
    db: Executor, session_id: int, *, now: datetime, expires_at: datetime
) -> None:
    await db.execute(
        "UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1",
        session_id,
        now,
        expires_at,
    )


async def delete_session(db: Executor, session_id: int) -> None:
    await db.execute("DELETE FROM web_sessions WHERE id = $1", session_id)


async def delete_session_of_user(db: Executor, user_id: int, session_id: int) -> bool:
    """Delete one of a member's sessions; False when it is not theirs (or gone)."""
    status = await db.execute(
        "DELETE FROM web_sessions WHERE id = $1 AND user_id = $2", session_id, user_id
    )
    return status != "DELETE 0"


async def delete_sessions_of_user(
    db: Executor, user_id: int, *, except_id: int | None = None
) -> int:
    status = await db.execute(
        "DELETE FROM web_sessions WHERE user_id = $1 AND ($2::bigint IS NULL OR id <> $2)",
        user_id,
        except_id,
    )
    return int(status.split()[-1])


async def list_sessions_of_user(db: Executor, user_id: int, now: datetime) -> list[WebSession]:
    rows = await db.fetch(
        "SELECT * FROM web_sessions WHERE user_id = $1 AND expires_at > $2 "
        "ORDER BY last_seen_at DESC",
        user_id,
        now,
    )
    return [_session(row) for row in rows]


async def delete_expired_sessions(db: Executor, now: datetime) -> int:
    status = await db.execute("DELETE FROM web_sessions WHERE expires_at <= $1", now)
    return int(status.split()[-1])


# --------------------------------------------------------------------------- login failures


async def record_login_failure(db: Executor, keys: list[str], window_start: datetime) -> None:
    """Count one failed login for each of ``keys`` in the window starting at
    ``window_start``; older windows are dropped on the way."""
    await db.execute(
        """
        INSERT INTO login_failures AS f (key, window_start, failures)
        SELECT k, $2, 1 FROM unnest($1::text[]) AS k
        ON CONFLICT (key, window_start) DO UPDATE SET failures = f.failures + 1
        """,
        keys,
        window_start,
    )
    await db.execute("DELETE FROM login_failures WHERE window_start < $1", window_start)


async def count_login_failures(db: Executor, keys: list[str], window_start: datetime) -> int:
    """The highest failure count among ``keys`` in the window starting at ``window_start``."""
    value = await db.fetchval(
        "SELECT coalesce(max(failures), 0) FROM login_failures "
        "WHERE key = ANY($1::text[]) AND window_start = $2",
        keys,
        window_start,
    )
    return int(value or 0)


# --------------------------------------------------------------------------- password resets


async def insert_password_reset(
    db: Executor, *, token_hash: bytes, user_id: int, expires_at: datetime
) -> None:
    await db.execute(
        "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at,
    )


async def claim_password_reset(db: Executor, token_hash: bytes, now: datetime) -> int | None:
    """Mark an unused, unexpired reset token used; the member's ``users.id``, or None."""
    value = await db.fetchval(
        "UPDATE password_resets SET used_at = $2 "
        "WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        token_hash,
        now,
    )
    return None if value is None else int(value)


async def get_password_reset_user(db: Executor, token_hash: bytes, now: datetime) -> int | None:
    """The ``users.id`` of a usable reset token, without using it."""
    value = await db.fetchval(
        "SELECT user_id FROM password_resets "
        "WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        token_hash,
        now,
    )
    return None if value is None else int(value)


# --------------------------------------------------------------------------- invites


async def insert_invite(
    db: Executor,
    *,
    code_hash: bytes,
    created_by: int | None,
    comment: str,
    max_uses: int | None,
    expires_at: datetime | None,
) -> Invite:
    row = await db.fetchrow(
        "INSERT INTO invites (code_hash, created_by, comment, max_uses, expires_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING *",
        code_hash,
        created_by,
        comment,
        max_uses,
        expires_at,
    )
    assert row is not None
    return _invite(row)


async def get_invite_by_hash(db: Executor, code_hash: bytes) -> Invite | None:
    row = await db.fetchrow("SELECT * FROM invites WHERE code_hash = $1", code_hash)
    return None if row is None else _invite(row)


async def use_invite(db: Executor, invite_id: int, user_id: int, now: datetime) -> bool:
    """Count one use of a usable invitation by ``user_id``; False when it is used up,
    expired or revoked (checked and counted in one statement)."""
    value = await db.fetchval(
        """
        WITH used AS (
            UPDATE invites SET uses = uses + 1
            WHERE id = $1 AND revoked_at IS NULL
              AND (expires_at IS NULL OR expires_at > $3)
              AND (max_uses IS NULL OR uses < max_uses)
            RETURNING id
        )
        INSERT INTO invite_uses (invite_id, user_id) SELECT id, $2 FROM used RETURNING invite_id
        """,
        invite_id,
        user_id,
        now,
    )
    return value is not None


async def list_invites(db: Executor, *, limit: int = 100) -> list[Invite]:
    rows = await db.fetch("SELECT * FROM invites ORDER BY created_at DESC LIMIT $1", limit)
    return [_invite(row) for row in rows]


async def revoke_invite(db: Executor, invite_id: int, now: datetime) -> bool:
    status = await db.execute(
        "UPDATE invites SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", invite_id, now
    )
    return status != "UPDATE 0"
