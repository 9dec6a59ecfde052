"""Named queries for local members' accounts."""

from __future__ import annotations

from fedinet.db.types import Executor, Record
from fedinet.models import User

__all__ = [
    "delete_unapproved_member",
    "delete_user",
    "get_user_by_actor_id",
    "get_user_by_email",
    "get_user_by_username",
    "insert_user",
    "list_unapproved_users",
    "set_admin",
    "set_approved",
    "set_note_settings",
    "set_password_hash",
    "set_registration",
]


def _from_row(row: Record) -> User:
    values = dict(row)
    values["email"] = str(values["email"])
    return User(**values)


async def insert_user(
    db: Executor,
    *,
    actor_id: int,
    email: str,
    password_hash: str,
    is_admin: bool,
    approved: bool = True,
) -> User:
    row = await db.fetchrow(
        "INSERT INTO users AS u (actor_id, email, password_hash, is_admin, approved) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING *",
        actor_id,
        email,
        password_hash,
        is_admin,
        approved,
    )
    assert row is not None
    return _from_row(row)


async def get_user_by_email(db: Executor, email: str) -> User | None:
    row = await db.fetchrow("SELECT * FROM users WHERE email = $1", email)
    return None if row is None else _from_row(row)


async def get_user_by_actor_id(db: Executor, actor_id: int) -> User | None:
    row = await db.fetchrow("SELECT * FROM users WHERE actor_id = $1", actor_id)
    return None if row is None else _from_row(row)


async def get_user_by_username(db: Executor, username: str) -> User | None:
    row = await db.fetchrow(
        "SELECT u.* FROM users u JOIN actors a ON a.id = u.actor_id "
        "WHERE a.is_local AND lower(a.username) = lower($1)",
        username,
    )
    return None if row is None else _from_row(row)


async def set_note_settings(
    db: Executor, user_id: int, *, private_motives: list[str], follow_note_policy: str
) -> User | None:
    row = await db.fetchrow(
        """
        UPDATE users SET private_motives = $2, follow_note_policy = $3
        WHERE id = $1 RETURNING *
        """,
        user_id,
        private_motives,
        follow_note_policy,
    )
    return None if row is None else _from_row(row)


async def set_registration(
    db: Executor, user_id: int, *, approved: bool, locale: str | None, reason: str | None
) -> User | None:
    """What a sign-up chose and said: approval state, locale, reason for joining."""
    row = await db.fetchrow(
        """
        UPDATE users SET approved = $2, locale = $3, registration_reason = $4
        WHERE id = $1 RETURNING *
        """,
        user_id,
        approved,
        locale,
        reason,
    )
    return None if row is None else _from_row(row)


async def set_admin(db: Executor, user_id: int, is_admin: bool) -> None:
    await db.execute("UPDATE users SET is_admin = $2 WHERE id = $1", user_id, is_admin)


async def set_password_hash(db: Executor, user_id: int, password_hash: str) -> None:
    await db.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def delete_user(db: Executor, user_id: int) -> None:
    """Delete a member's account row (its tokens and codes go with it); the actor stays."""
    await db.execute("DELETE FROM users WHERE id = $1", user_id)


async def list_unapproved_users(db: Executor, *, limit: int = 200) -> list[User]:
    """Sign-ups waiting for an admin's approval, oldest first."""
    rows = await db.fetch(
        "SELECT * FROM users WHERE NOT approved ORDER BY created_at, id LIMIT $1", limit
    )
    return [_from_row(row) for row in rows]


async def set_approved(db: Executor, user_id: int) -> None:
    await db.execute("UPDATE users SET approved = true WHERE id = $1", user_id)


async def delete_unapproved_member(db: Executor, user_id: int) -> bool:
    """Delete a sign-up that was never approved, actor and all (it never federated)."""
    value = await db.fetchval(
        """
        DELETE FROM actors
        WHERE id = (SELECT actor_id FROM users WHERE id = $1 AND NOT approved)
        RETURNING id
        """,
        user_id,
    )
    return value is not None
