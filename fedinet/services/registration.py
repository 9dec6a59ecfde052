"""Signing up through a client app (Mastodon's ``POST /api/v1/accounts``).

The instance's ``registration_mode`` decides:

- ``open`` (or unset): the member is created and may use the app at once;
- ``approved``: the member is created awaiting an admin's approval; the token handed out
  works only once approved (until then the API answers 403 "pending approval", and the
  password grant refuses to log in);
- ``closed``, ``none`` or ``invite``: nobody can sign up (``PermissionDenied``, 403, as
  Mastodon answers when registrations are closed).

Invalid input is one :class:`ValidationError` listing every bad field in Mastodon's
``details`` shape (``{"email": [{"error": "ERR_TAKEN", "description": "…"}]}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import instance as instance_db
from fedinet.db import users as users_db
from fedinet.db.oauth import OAuthApp
from fedinet.db.types import Connection
from fedinet.errors import Conflict, PermissionDenied, ValidationError
from fedinet.models import User
from fedinet.services import accounts, oauth
from fedinet.services.oauth import IssuedToken

__all__ = ["CLOSED_MODES", "RESERVED_USERNAMES", "Registered", "SignUp", "register"]

CLOSED_MODES: Final = ("closed", "none", "invite", "invite_only")
RESERVED_USERNAMES: Final = frozenset(
    {
        "admin",
        "administrator",
        "help",
        "helpdesk",
        "mod",
        "moderator",
        "postmaster",
        "root",
        "security",
        "support",
        "webmaster",
        accounts.SYSTEM_USERNAME,
    }
)
_LOCALE_RE: Final = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
MAX_REASON: Final = 1000
_TRUE: Final = ("1", "true", "on", "yes")


@dataclass(frozen=True, slots=True)
class SignUp:
    username: str
    email: str
    password: str
    agreement: str | None
    locale: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    user: User
    token: IssuedToken


class _Errors:
    """Collects Mastodon's per-field errors."""

    def __init__(self) -> None:
        self.details: dict[str, list[dict[str, str]]] = {}

    def add(self, field: str, code: str, description: str) -> None:
        self.details.setdefault(field, []).append({"error": code, "description": description})

    def raise_if_any(self) -> None:
        if not self.details:
            return
        sentences = [
            f"{field.capitalize()} {item['description']}"
            for field, items in self.details.items()
            for item in items
        ]
        raise ValidationError(
            "Validation failed: " + ", ".join(sentences),
            field=next(iter(self.details)),
            details=self.details,
        )


def _check_username(errors: _Errors, username: str) -> None:
    if not username:
        errors.add("username", "ERR_BLANK", "can't be blank")
    elif len(username) > 30:
        errors.add("username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)")
    elif not accounts.USERNAME_RE.match(username):
        errors.add("username", "ERR_INVALID", "must contain only letters, numbers and _")
    elif username.lower() in RESERVED_USERNAMES:
        errors.add("username", "ERR_RESERVED", "is reserved")


def _check_email(errors: _Errors, email: str) -> None:
    if not email:
        errors.add("email", "ERR_BLANK", "can't be blank")
        return
    try:
        accounts.validate_email(email)
    except ValidationError:
        errors.add("email", "ERR_INVALID", "is invalid")


def _check_password(errors: _Errors, password: str) -> None:
    if not password:
        errors.add("password", "ERR_BLANK", "can't be blank")
    elif len(password) < accounts.MIN_PASSWORD:
        errors.add(
            "password",
            "ERR_TOO_SHORT",
            f"is too short (minimum is {accounts.MIN_PASSWORD} characters)",
        )
    elif len(password) > accounts.MAX_PASSWORD:
        errors.add(
            "password",
            "ERR_TOO_LONG",
            f"is too long (maximum is {accounts.MAX_PASSWORD} characters)",
        )


async def register(
    conn: Connection,
    settings: Settings,
    app: OAuthApp,
    scopes: tuple[str, ...],
    sign_up: SignUp,
) -> Registered:
    """Create the member and a token of ``app`` for them with ``scopes``."""
    mode = await instance_db.get_instance_setting(conn, "registration_mode")
    if isinstance(mode, str) and mode in CLOSED_MODES:
        raise PermissionDenied("This action is not allowed", reason="registrations_closed")
    username = sign_up.username.strip()
    email = sign_up.email.strip()
    errors = _Errors()
    _check_username(errors, username)
    _check_email(errors, email)
    _check_password(errors, sign_up.password)
    if (sign_up.agreement or "").lower() not in _TRUE:
        errors.add("agreement", "ERR_ACCEPTED", "must be accepted")
    locale = (sign_up.locale or "").strip() or None
    if locale is not None and not _LOCALE_RE.match(locale):
        errors.add("locale", "ERR_INCLUSION", "is not included in the list")
    reason = (sign_up.reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        errors.add("reason", "ERR_TOO_LONG", f"is too long (maximum is {MAX_REASON} characters)")
    if "username" not in errors.details and (
        await actors_db.get_local_actor_by_username(conn, username) is not None
    ):
        errors.add("username", "ERR_TAKEN", "has already been taken")
    if "email" not in errors.details and await users_db.get_user_by_email(conn, email):
        errors.add("email", "ERR_TAKEN", "has already been taken")
    errors.raise_if_any()

    async with conn.transaction():
        try:
            made = await accounts.create_member(
                conn, settings, username=username, email=email, password=sign_up.password
            )
        except Conflict:  # a concurrent sign-up took it between the check and here
            errors.add("username", "ERR_TAKEN", "has already been taken")
            errors.raise_if_any()
            raise
        user = await users_db.set_registration(
            conn, made.user.id, approved=mode != "approved", locale=locale, reason=reason
        )
        assert user is not None
        token = await oauth.issue_member_token(conn, app, user_id=user.id, scopes=scopes)
    return Registered(user=user, token=token)
