"""Browser sessions for fedinet's own web pages: logging in and out (with a limit on
failed attempts), resolving the session cookie, and password resets.

The cookie holds a random token; the database keeps only its SHA-256. Sessions last
30 days from the last visit and end at logout, at a password reset, or when the
member is suspended or deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from fedinet.config import Settings
from fedinet.crypto.passwords import hash_password
from fedinet.db import actors as actors_db
from fedinet.db import oauth as oauth_db
from fedinet.db import users as users_db
from fedinet.db import web_sessions as sessions_db
from fedinet.db.types import Executor
from fedinet.db.web_sessions import WebSession
from fedinet.errors import RateLimited, ValidationError
from fedinet.models import Actor, User
from fedinet.services import oauth
from fedinet.services.accounts import validate_password
from fedinet.services.mail import send_mail

__all__ = [
    "LOGIN_WINDOW",
    "MAX_FAILURES_PER_ACCOUNT",
    "MAX_FAILURES_PER_IP",
    "RESET_LIFETIME",
    "SESSION_LIFETIME",
    "Viewer",
    "end_session",
    "hash_token",
    "log_in",
    "request_password_reset",
    "reset_password",
    "resolve_session",
    "start_session",
    "usable_reset_token",
]

SESSION_LIFETIME: Final = timedelta(days=30)
_TOUCH_EVERY: Final = timedelta(minutes=5)
RESET_LIFETIME: Final = timedelta(hours=1)

LOGIN_WINDOW: Final = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT: Final = 10
"""Failed logins for one email/username per window; then every attempt is refused."""
MAX_FAILURES_PER_IP: Final = 30
"""Failed logins from one address per window (several people may share an address)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in member, as a page sees them."""

    session: WebSession
    user: User
    actor: Actor

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _window_start(now: datetime) -> datetime:
    seconds = LOGIN_WINDOW.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, UTC)


def _throttle_keys(login: str, ip: str) -> tuple[str, str]:
    return f"account:{login.strip().lower().lstrip('@')}", f"ip:{ip}"


async def log_in(
    db: Executor, login: str, password: str, *, ip: str, now: datetime | None = None
) -> User:
    """The member with this email or username and password.

    ``RateLimited`` once the account or the address has had too many failed attempts
    in the current window (even with the right password: that is what stops guessing);
    ``ValidationError`` (field ``password``) for a wrong login.
    """
    now = _now(now)
    window = _window_start(now)
    account_key, ip_key = _throttle_keys(login, ip)
    retry_after = max(1, math.ceil((window + LOGIN_WINDOW - now).total_seconds()))
    if (
        await sessions_db.count_login_failures(db, [account_key], window)
        >= MAX_FAILURES_PER_ACCOUNT
        or await sessions_db.count_login_failures(db, [ip_key], window) >= MAX_FAILURES_PER_IP
    ):
        raise RateLimited(
            "Too many failed attempts to log in. Wait a few minutes and try again, "
            "or reset your password.",
            retry_after=retry_after,
        )
    try:
        return await oauth.authenticate_user(db, login, password)
    except ValidationError as exc:
        await sessions_db.record_login_failure(db, [account_key, ip_key], window)
        message = (
            "This account cannot log in: it is waiting for approval or was suspended."
            if "cannot log in" in exc.message
            else "The email/username or password is incorrect."
        )
        raise ValidationError(message, field="password", reason="login_failed") from None


async def start_session(
    db: Executor, user: User, *, user_agent: str, ip: str, now: datetime | None = None
) -> tuple[str, WebSession]:
    """A new session for ``user``: (the token for the cookie, the stored session)."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    session = await sessions_db.insert_session(
        db,
        token_hash=hash_token(token),
        user_id=user.id,
        user_agent=user_agent,
        ip=ip,
        expires_at=now + SESSION_LIFETIME,
    )
    return token, session


async def resolve_session(
    db: Executor, token: str | None, *, now: datetime | None = None
) -> Viewer | None:
    """The member behind a session cookie, or None (no cookie, unknown or expired
    token, member suspended, deleted or not approved)."""
    if not token or len(token) > 100:
        return None
    now = _now(now)
    session = await sessions_db.get_session_by_token_hash(db, hash_token(token), now)
    if session is None:
        return None
    user = await oauth_db.get_user_by_id(db, session.user_id)
    if user is None or not user.approved:
        return None
    actor = await actors_db.get_actor_by_id(db, user.actor_id)
    if actor is None or actor.is_gone:
        return None
    if now - session.last_seen_at > _TOUCH_EVERY:
        await sessions_db.touch_session(db, session.id, now=now, expires_at=now + SESSION_LIFETIME)
    return Viewer(session=session, user=user, actor=actor)


async def end_session(db: Executor, session_id: int) -> None:
    await sessions_db.delete_session(db, session_id)


# --------------------------------------------------------------------------- password reset


async def request_password_reset(
    db: Executor, settings: Settings, email: str, *, now: datetime | None = None
) -> None:
    """Mail a one-time reset link to ``email`` if a member has it. Says nothing either
    way, so that the page cannot be used to learn who is a member."""
    now = _now(now)
    user = await users_db.get_user_by_email(db, email.strip()) if "@" in email else None
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    await sessions_db.insert_password_reset(
        db, token_hash=hash_token(token), user_id=user.id, expires_at=now + RESET_LIFETIME
    )
    link = f"{settings.url}/password/reset/{token}"
    await send_mail(
        settings,
        to=user.email,
        subject=f"Reset your password on {settings.domain}",
        body=(
            f"Someone (hopefully you) asked to reset the password of your account on "
            f"{settings.domain}.\n\nOpen this link within an hour to choose a new one:\n"
            f"{link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n"
        ),
    )


async def usable_reset_token(db: Executor, token: str, *, now: datetime | None = None) -> bool:
    if not token or len(token) > 100:
        return False
    user_id = await sessions_db.get_password_reset_user(db, hash_token(token), _now(now))
    return user_id is not None


async def reset_password(
    db: Executor, token: str, password: str, *, now: datetime | None = None
) -> User:
    """Set a new password with a reset token (used once) and end every session of the
    member. ``ValidationError`` for a bad password (field ``password``) or an unknown,
    used or expired token (field ``token``)."""
    validate_password(password)
    now = _now(now)
    user_id = (
        await sessions_db.claim_password_reset(db, hash_token(token), now)
        if token and len(token) <= 100
        else None
    )
    if user_id is None:
        raise ValidationError(
            "This reset link is unknown, already used or expired. Ask for a new one.",
            field="token",
            reason="reset_invalid",
        )
    user = await oauth_db.get_user_by_id(db, user_id)
    assert user is not None
    password_hash = await asyncio.to_thread(hash_password, password)
    await users_db.set_password_hash(db, user.id, password_hash)
    await sessions_db.delete_sessions_of_user(db, user.id)
    refreshed = await oauth_db.get_user_by_id(db, user.id)
    assert refreshed is not None
    return refreshed
