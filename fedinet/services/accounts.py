"""Use cases around local accounts: creating members and the instance actor."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from fedinet.ap.ids import LocalActorIds, instance_actor_ids, local_actor_ids
from fedinet.config import Settings
from fedinet.crypto.keys import generate_ed25519_keypair, generate_rsa_keypair
from fedinet.crypto.passwords import hash_password
from fedinet.db import actors as actors_db
from fedinet.db import users as users_db
from fedinet.db.locks import advisory_xact_lock
from fedinet.db.types import Connection, Executor
from fedinet.errors import Conflict, ValidationError
from fedinet.models import Actor, User

__all__ = [
    "SYSTEM_USERNAME",
    "CreatedMember",
    "create_member",
    "ensure_instance_actor",
    "ensure_system_account",
    "validate_email",
    "validate_password",
    "validate_username",
]

# The instance's system account: it writes the direct messages that carry follow notes
# to people on servers (and in clients) that do not show them otherwise.
SYSTEM_USERNAME = "fedinet"

# Mastodon's rule for local usernames: letters, digits and underscore, at most 30.
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@dataclass(frozen=True, slots=True)
class CreatedMember:
    actor: Actor
    user: User
    generated_password: str | None


def validate_username(username: str) -> str:
    if not username:
        raise ValidationError("username must not be empty", field="username")
    if len(username) > 30:
        raise ValidationError("username must be at most 30 characters", field="username")
    if not USERNAME_RE.match(username):
        raise ValidationError(
            f"username {username!r} may only contain letters, digits and underscores",
            field="username",
        )
    return username


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationError(f"{email!r} is not a valid email address", field="email")
    return email


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"password must be at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            f"password must be at most {MAX_PASSWORD} characters", field="password"
        )
    return password


async def _insert_local_actor(
    conn: Executor,
    ids: LocalActorIds,
    *,
    username: str,
    domain: str,
    actor_type: str,
    discoverable: bool,
) -> Actor:
    (rsa_private, rsa_public), (ed_private, ed_public) = await asyncio.gather(
        asyncio.to_thread(generate_rsa_keypair), asyncio.to_thread(generate_ed25519_keypair)
    )
    actor = await actors_db.insert_actor(
        conn,
        uri=ids.uri,
        is_local=True,
        actor_type=actor_type,
        username=username,
        domain=domain,
        url=ids.url,
        inbox_uri=ids.inbox,
        outbox_uri=ids.outbox,
        shared_inbox_uri=ids.shared_inbox,
        followers_uri=ids.followers,
        following_uri=ids.following,
        featured_uri=ids.featured,
        manually_approves_followers=True,
        discoverable=discoverable,
        indexable=False,
        published=datetime.now(UTC),
    )
    await actors_db.insert_key(
        conn,
        key_id=ids.main_key,
        actor_id=actor.id,
        kind="rsa",
        public_key_pem=rsa_public,
        private_key_pem=rsa_private,
    )
    await actors_db.insert_key(
        conn,
        key_id=ids.ed25519_key,
        actor_id=actor.id,
        kind="ed25519",
        public_key_pem=ed_public,
        private_key_pem=ed_private,
    )
    return actor


async def create_member(
    conn: Connection,
    settings: Settings,
    *,
    username: str,
    email: str,
    password: str | None = None,
    is_admin: bool = False,
    approved: bool = True,
) -> CreatedMember:
    """Create a local member with an RSA and an Ed25519 key pair; ``approved=False``
    leaves them waiting for an admin (registration mode ``approved``).

    Raises :class:`ValidationError` for bad input and :class:`Conflict` when the username
    or email is taken.
    """
    validate_username(username)
    email = validate_email(email)
    generated = None
    if password is None:
        generated = secrets.token_urlsafe(15)
        password = generated
    validate_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    ids = local_actor_ids(settings.url, username)
    async with conn.transaction():
        if await actors_db.get_local_actor_by_username(conn, username) is not None:
            raise Conflict(f"the username {username!r} is already taken", reason="taken")
        if await users_db.get_user_by_email(conn, email) is not None:
            raise Conflict(f"the email {email!r} is already in use", reason="taken")
        try:
            actor = await _insert_local_actor(
                conn,
                ids,
                username=username,
                domain=settings.domain,
                actor_type="Person",
                discoverable=True,
            )
            user = await users_db.insert_user(
                conn,
                actor_id=actor.id,
                email=email,
                password_hash=password_hash,
                is_admin=is_admin,
                approved=approved,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"the username {username!r} or email {email!r} is already taken", reason="taken"
            ) from None
    return CreatedMember(actor=actor, user=user, generated_password=generated)


async def ensure_instance_actor(conn: Connection, settings: Settings) -> Actor:
    """The instance's own actor (``/actor``), created on first start."""
    ids = instance_actor_ids(settings.url)
    existing = await actors_db.get_actor_by_uri(conn, ids.uri)
    if existing is not None:
        return existing
    async with conn.transaction():
        # Serialise concurrent first starts of several processes.
        await advisory_xact_lock(conn, ids.uri)
        existing = await actors_db.get_actor_by_uri(conn, ids.uri)
        if existing is not None:
            return existing
        return await _insert_local_actor(
            conn,
            ids,
            username=settings.domain,
            domain=settings.domain,
            actor_type="Application",
            discoverable=False,
        )


async def ensure_system_account(conn: Connection, settings: Settings) -> Actor:
    """The system account ``@fedinet``, created on first start (no login, no password)."""
    existing = await actors_db.get_local_actor_by_username(conn, SYSTEM_USERNAME)
    if existing is not None:
        return existing
    ids = local_actor_ids(settings.url, SYSTEM_USERNAME)
    async with conn.transaction():
        await advisory_xact_lock(conn, ids.uri)
        existing = await actors_db.get_local_actor_by_username(conn, SYSTEM_USERNAME)
        if existing is not None:
            return existing
        actor = await _insert_local_actor(
            conn,
            ids,
            username=SYSTEM_USERNAME,
            domain=settings.domain,
            actor_type="Service",
            discoverable=False,
        )
        await actors_db.set_display(
            conn,
            actor.id,
            display_name="fedinet notes",
            summary=(
                "<p>I carry personal notes between people on this server and elsewhere. "
                "Members here read follow requests that come with a note; "
                "reply to my messages to add yours.</p>"
            ),
        )
        refreshed = await actors_db.get_actor_by_id(conn, actor.id)
        assert refreshed is not None
        return refreshed
