"""Joining the instance: the registration mode, sign-up with motives and interests, and
invitations.

``instance_settings.registration_mode`` is one of:

- ``open`` (also when unset): anyone may sign up and log in at once;
- ``approved``: anyone may sign up; the account waits for an admin's approval;
- ``invite``: only with an invitation code (``invite-only`` is read as the same);
- ``closed`` (``none`` is read as the same): nobody may sign up.

Sign-up asks for no profession, employer or title anywhere: who someone is here is
their motives, interests, region and their own words.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from fedinet.config import Settings
from fedinet.db import directory as directory_db
from fedinet.db import instance as instance_db
from fedinet.db import web_sessions as sessions_db
from fedinet.db.types import Connection, Executor
from fedinet.db.web_sessions import Invite
from fedinet.errors import PermissionDenied, ValidationError
from fedinet.services.accounts import (
    CreatedMember,
    create_member,
    validate_email,
    validate_password,
    validate_username,
)
from fedinet.services.profile import (
    MAX_BIO,
    MAX_REGION,
    ProfileChange,
    normalize_interests,
    update_profile,
)
from fedinet.services.web_sessions import hash_token
from fedinet.vocabulary import MOTIVE_KEYS

__all__ = [
    "REGISTRATION_MODES",
    "InstanceInfo",
    "SignUp",
    "check_sign_up",
    "create_invite",
    "find_invite",
    "instance_info",
    "interests_in_use",
    "registration_mode",
    "sign_up",
    "split_interests",
]

REGISTRATION_MODES: Final = ("open", "approved", "invite", "closed")
_ALIASES: Final = {"invite-only": "invite", "invite_only": "invite", "none": "closed"}
_INTERESTS_TTL: Final = 60.0
_interest_cache: dict[tuple[str | None, str], tuple[float, list[str]]] = {}


async def registration_mode(db: Executor) -> str:
    """The instance's registration mode, one of :data:`REGISTRATION_MODES`."""
    raw = await instance_db.get_instance_setting(db, "registration_mode")
    if not isinstance(raw, str):
        return "open"
    mode = _ALIASES.get(raw.strip().lower(), raw.strip().lower())
    return mode if mode in REGISTRATION_MODES else "open"


def split_interests(raw: str | Sequence[str]) -> list[str]:
    """Interest tags as typed: separated by commas or spaces, ``#`` optional."""
    items = [raw] if isinstance(raw, str) else list(raw)
    return [p for item in items for p in item.replace(",", " ").split() if p.strip("#")]


@dataclass(frozen=True, slots=True)
class SignUp:
    username: str
    email: str
    password: str
    motives: Sequence[str] = ()
    interests: Sequence[str] = ()
    """Tags as typed (see :func:`split_interests`)."""
    region: str = ""
    bio: str = ""
    invite_code: str = ""
    agreed_to_rules: bool = True
    rules_exist: bool = False


def check_sign_up(form: SignUp) -> dict[str, str]:
    """Every problem with the form, by field (empty when it is fine). Uniqueness and the
    invitation are checked by :func:`sign_up`."""
    errors: dict[str, str] = {}
    for name, value, message in (
        ("username", form.username, "Please choose a username."),
        ("email", form.email, "Please give an email address: it is how you log in."),
        ("password", form.password, "Please choose a password."),
    ):
        if not value.strip():
            errors[name] = message
    checks = (
        ("username", lambda: validate_username(form.username)),
        ("email", lambda: validate_email(form.email)),
        ("password", lambda: validate_password(form.password)),
        ("interests", lambda: normalize_interests(form.interests)),
    )
    for name, check in checks:
        if name in errors:
            continue
        try:
            check()
        except ValidationError as exc:
            errors[name] = exc.message[:1].upper() + exc.message[1:] + "."
    unknown = [m for m in form.motives if m not in MOTIVE_KEYS]
    if unknown:
        errors["motives"] = f"Unknown motive {unknown[0]!r}."
    if len(" ".join(form.region.split())) > MAX_REGION:
        errors["region"] = (
            f"At most {MAX_REGION} characters: a city, a state or a country is enough."
        )
    if len(form.bio) > MAX_BIO:
        errors["bio"] = f"At most {MAX_BIO} characters ({len(form.bio)} now)."
    if form.rules_exist and not form.agreed_to_rules:
        errors["agree"] = "Please read the rules and agree to them to join."
    return errors


async def find_invite(db: Executor, code: str, *, now: datetime | None = None) -> Invite:
    """A usable invitation by its code; ``ValidationError`` (field ``invite``) otherwise."""
    now = now or datetime.now(UTC)
    invite = await sessions_db.get_invite_by_hash(db, hash_token(code.strip())) if code else None
    if invite is None:
        raise ValidationError("This invitation code is not known here.", field="invite")
    if invite.revoked_at is not None or (invite.expires_at and invite.expires_at <= now):
        raise ValidationError("This invitation has expired.", field="invite")
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        raise ValidationError("This invitation has been used up.", field="invite")
    return invite


async def create_invite(
    db: Executor,
    *,
    created_by: int | None,
    max_uses: int | None = 1,
    expires_in: timedelta | None = timedelta(days=7),
    comment: str = "",
    now: datetime | None = None,
) -> tuple[str, Invite]:
    """A new invitation: (its code, shown once; the stored invitation)."""
    now = now or datetime.now(UTC)
    code = secrets.token_urlsafe(12)
    invite = await sessions_db.insert_invite(
        db,
        code_hash=hash_token(code),
        created_by=created_by,
        comment=comment[:200],
        max_uses=max_uses,
        expires_at=None if expires_in is None else now + expires_in,
    )
    return code, invite


async def sign_up(
    conn: Connection, settings: Settings, form: SignUp, *, now: datetime | None = None
) -> CreatedMember:
    """Create a member from the sign-up form, honouring the registration mode.

    ``PermissionDenied`` when sign-ups are closed; ``ValidationError`` (with ``field``)
    for bad input or a bad invitation; ``Conflict`` (field-less) for a taken username or
    email — the message says which.
    """
    now = now or datetime.now(UTC)
    mode = await registration_mode(conn)
    if mode == "closed":
        raise PermissionDenied("This server is not accepting new members right now.")
    errors = check_sign_up(form)
    if errors:
        name, message = next(iter(errors.items()))
        raise ValidationError(message, field=name)
    async with conn.transaction():
        invite = await find_invite(conn, form.invite_code, now=now) if mode == "invite" else None
        created = await create_member(
            conn,
            settings,
            username=form.username,
            email=form.email,
            password=form.password,
            approved=mode != "approved",
        )
        if invite is not None and not await sessions_db.use_invite(
            conn, invite.id, created.user.id, now
        ):
            raise ValidationError("This invitation has been used up.", field="invite")
        actor, user = await update_profile(
            conn,
            settings,
            created.actor,
            created.user,
            ProfileChange(
                bio=form.bio.strip(),
                motives=list(form.motives),
                interests=list(form.interests),
                region=form.region,
            ),
        )
    _interest_cache.clear()  # the newcomer's interests are offered to the next one
    return CreatedMember(actor=actor, user=user, generated_password=None)


async def interests_in_use(db: Executor, settings: Settings, *, limit: int = 200) -> list[str]:
    """Interest tags already in use, most common first (kept a minute per database in
    this process, and refreshed after each sign-up here)."""
    key = (settings.database_url, str(settings.data_dir))
    cached = _interest_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < _INTERESTS_TTL:
        return cached[1]
    tags = await directory_db.list_interests_in_use(db, limit=limit)
    _interest_cache[key] = (time.monotonic(), tags)
    return tags


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """What the start, about and sign-up pages say about the server."""

    title: str
    description: str
    rules: list[str]
    mode: str


async def instance_info(db: Executor, settings: Settings) -> InstanceInfo:
    title = await instance_db.get_instance_setting(db, "title")
    description = await instance_db.get_instance_setting(db, "short_description")
    if not isinstance(description, str) or not description:
        description = await instance_db.get_instance_setting(db, "description")
    raw_rules = await instance_db.get_instance_setting(db, "rules")
    rules: list[str] = []
    for item in raw_rules if isinstance(raw_rules, list) else []:
        text = item.get("text") if isinstance(item, dict) else item
        if isinstance(text, str) and text.strip():
            rules.append(text.strip())
    return InstanceInfo(
        title=title if isinstance(title, str) and title else settings.domain,
        description=description if isinstance(description, str) else "",
        rules=rules,
        mode=await registration_mode(db),
    )
