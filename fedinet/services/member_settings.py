"""What a member manages about their own account besides the profile: connect links,
logged-in browsers (web sessions) and the applications they authorized (OAuth tokens)."""

from __future__ import annotations

from datetime import UTC, datetime

from fedinet.config import Settings
from fedinet.db import connect_links as links_db
from fedinet.db import oauth as oauth_db
from fedinet.db import web_sessions as sessions_db
from fedinet.db.connect_links import ConnectLink
from fedinet.db.oauth import AuthorizedApp
from fedinet.db.types import Connection, Executor
from fedinet.db.web_sessions import WebSession
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.services.follows import create_connect_link

__all__ = [
    "connect_link_url",
    "list_authorized_apps",
    "list_connect_links",
    "list_sessions",
    "new_connect_link",
    "revoke_authorized_app",
    "revoke_connect_link",
    "revoke_session",
]


def connect_link_url(owner: Actor, link: ConnectLink) -> str:
    """The URL to hand out for ``link`` (the owner's profile with the code)."""
    return f"{owner.url or owner.uri}?connect={link.code}"


async def list_connect_links(db: Executor, owner: Actor) -> list[ConnectLink]:
    return await links_db.list_connect_links(db, owner.id)


async def new_connect_link(conn: Connection, settings: Settings, owner: Actor) -> ConnectLink:
    link, _ = await create_connect_link(conn, settings, owner)
    return link


async def revoke_connect_link(db: Executor, owner: Actor, code: str) -> None:
    if not await links_db.revoke_connect_link(db, code, owner.id):
        raise NotFound("There is no such connect link of yours.", reason="no_link")


async def list_sessions(db: Executor, user_id: int) -> list[WebSession]:
    return await sessions_db.list_sessions_of_user(db, user_id, datetime.now(UTC))


async def revoke_session(db: Executor, user_id: int, session_id: int) -> None:
    if not await sessions_db.delete_session_of_user(db, user_id, session_id):
        raise NotFound("There is no such session of yours.", reason="no_session")


async def list_authorized_apps(db: Executor, user_id: int) -> list[AuthorizedApp]:
    return await oauth_db.list_authorized_apps(db, user_id)


async def revoke_authorized_app(db: Executor, user_id: int, app_id: int) -> int:
    revoked = await oauth_db.revoke_app_for_user(db, user_id, app_id)
    if not revoked:
        raise NotFound("That application holds no access to your account.", reason="no_app")
    return revoked
