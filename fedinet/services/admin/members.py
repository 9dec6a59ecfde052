"""Moderating local members: suspend, unsuspend, delete, reset a password, make admin.

* **Suspended** members cannot log in or use a token (every token and web session is
  revoked, and password logins, sessions and API calls check the actor), their posts
  leave home feeds and the public timelines, and their actor answers ``410 Gone`` with a
  ``Tombstone``; servers that fetch it learn so. Nothing is deleted: unsuspending gives
  the account back (the member logs in again for new tokens; feeds fill with new posts).
* **Deleted** members are gone for good: a ``Delete`` of the actor goes to every server
  that follows them or that they follow, their statuses are wiped, their follows severed,
  their login removed. The actor stays as a tombstone, so the username is never reused
  (another person under an old name would inherit its follows elsewhere).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from fedinet.ap.activities import delete_actor_activity
from fedinet.config import Settings
from fedinet.crypto.passwords import hash_password
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import oauth as oauth_db
from fedinet.db import users as users_db
from fedinet.db import web_sessions as sessions_db
from fedinet.db.types import Connection, Executor
from fedinet.errors import Conflict, Gone, NotFound
from fedinet.models import Actor, User
from fedinet.services.accounts import validate_password
from fedinet.services.outbox import audience_inboxes, publish

__all__ = [
    "DeletedMember",
    "Member",
    "approve_member",
    "delete_member",
    "find_member",
    "list_pending_members",
    "reject_member",
    "reset_password",
    "set_member_admin",
    "suspend_actor",
    "suspend_member",
    "unsuspend_member",
]


@dataclass(frozen=True, slots=True)
class Member:
    actor: Actor
    user: User


@dataclass(frozen=True, slots=True)
class DeletedMember:
    actor: Actor
    servers_notified: int
    """How many inboxes the ``Delete`` was queued for."""


def _bare_username(username: str, settings: Settings) -> str:
    name = username.strip().lstrip("@")
    local, at, domain = name.partition("@")
    if at and domain.lower() == settings.domain:
        return local
    return name


async def find_member(db: Executor, settings: Settings, username: str) -> Member:
    """A local member by username (``name``, ``@name`` or ``name@this.domain``), deleted
    ones included; :class:`NotFound` otherwise."""
    name = _bare_username(username, settings)
    actor = await actors_db.get_local_actor_by_username(db, name) if name else None
    user = await users_db.get_user_by_actor_id(db, actor.id) if actor is not None else None
    if actor is None or user is None:
        raise NotFound(f"there is no member @{name} on this instance", reason="no_member")
    return Member(actor=actor, user=user)


async def _live_member(db: Executor, settings: Settings, username: str) -> Member:
    member = await find_member(db, settings, username)
    if member.actor.deleted_at is not None:
        raise Gone(f"@{member.actor.username} was deleted", reason="deleted")
    return member


async def list_pending_members(db: Executor) -> list[Member]:
    """Sign-ups waiting for approval (registration mode ``approved``), oldest first."""
    users = await users_db.list_unapproved_users(db)
    actors = await actors_db.get_actors_by_ids(db, [user.actor_id for user in users])
    return [Member(actor=actors[u.actor_id], user=u) for u in users if u.actor_id in actors]


async def _pending_member(db: Executor, settings: Settings, username: str) -> Member:
    member = await _live_member(db, settings, username)
    if member.user.approved:
        raise Conflict(f"@{member.actor.username} is already approved", reason="approved")
    return member


async def approve_member(db: Executor, settings: Settings, username: str) -> Member:
    """Let a waiting sign-up in: they can log in from now on."""
    member = await _pending_member(db, settings, username)
    await users_db.set_approved(db, member.user.id)
    user = await users_db.get_user_by_actor_id(db, member.actor.id)
    assert user is not None
    return Member(actor=member.actor, user=user)


async def reject_member(db: Executor, settings: Settings, username: str) -> Actor:
    """Turn a waiting sign-up down: the account is removed entirely (it never federated,
    so the username becomes free again)."""
    member = await _pending_member(db, settings, username)
    if not await users_db.delete_unapproved_member(db, member.user.id):
        raise Conflict(f"@{member.actor.username} was approved meanwhile", reason="approved")
    return member.actor


async def suspend_actor(conn: Connection, actor: Actor) -> Actor:
    """Suspend any actor: a member loses its tokens; a remote actor is cut off from our
    members (follows, feeds, notifications) and its activities are refused."""
    async with conn.transaction():
        suspended = await actors_db.set_actor_suspended(conn, actor.id, True)
        assert suspended is not None
        if actor.is_local:
            user = await users_db.get_user_by_actor_id(conn, actor.id)
            if user is not None:
                await oauth_db.revoke_tokens_for_user(conn, user.id)
                await sessions_db.delete_sessions_of_user(conn, user.id)
            await actors_db.remove_actor_from_feeds(conn, actor.id)
        else:
            await actors_db.sever_actor(conn, actor.id)
    return suspended


async def suspend_member(conn: Connection, settings: Settings, username: str) -> Actor:
    member = await _live_member(conn, settings, username)
    if member.actor.suspended_at is not None:
        raise Conflict(f"@{member.actor.username} is already suspended", reason="suspended")
    return await suspend_actor(conn, member.actor)


async def unsuspend_member(conn: Connection, settings: Settings, username: str) -> Actor:
    member = await _live_member(conn, settings, username)
    if member.actor.suspended_at is None:
        raise Conflict(f"@{member.actor.username} is not suspended", reason="not_suspended")
    actor = await actors_db.set_actor_suspended(conn, member.actor.id, False)
    assert actor is not None
    return actor


async def delete_member(conn: Connection, settings: Settings, username: str) -> DeletedMember:
    """Delete a member for good and tell the servers that know them."""
    member = await _live_member(conn, settings, username)
    actor = member.actor
    async with conn.transaction():
        inboxes = await audience_inboxes(conn, actor, "public")
        inboxes.extend(await follows_db.list_followee_inboxes(conn, actor.id))
        targets = list(dict.fromkeys(inboxes))
        await publish(
            conn,
            settings,
            actor,
            lambda uri: delete_actor_activity(uri, actor.uri),
            object_uri=actor.uri,
            inboxes=targets,
        )
        await actors_db.mark_local_actor_deleted(conn, actor.id)
        await users_db.delete_user(conn, member.user.id)  # tokens and codes go with it
        gone = await actors_db.get_actor_by_id(conn, actor.id)
        assert gone is not None
    return DeletedMember(actor=gone, servers_notified=len(targets))


async def reset_password(
    conn: Connection, settings: Settings, username: str, password: str | None = None
) -> str | None:
    """Give a member a new password (generated when ``password`` is ``None``, and then
    returned) and revoke every token and web session they hold."""
    member = await _live_member(conn, settings, username)
    generated = None
    if password is None:
        generated = secrets.token_urlsafe(15)
        password = generated
    validate_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    async with conn.transaction():
        await users_db.set_password_hash(conn, member.user.id, password_hash)
        await oauth_db.revoke_tokens_for_user(conn, member.user.id)
        await sessions_db.delete_sessions_of_user(conn, member.user.id)
    return generated


async def set_member_admin(
    conn: Connection, settings: Settings, username: str, *, admin: bool
) -> Member:
    member = await _live_member(conn, settings, username)
    await users_db.set_admin(conn, member.user.id, admin)
    user = await users_db.get_user_by_actor_id(conn, member.actor.id)
    assert user is not None
    return Member(actor=member.actor, user=user)
