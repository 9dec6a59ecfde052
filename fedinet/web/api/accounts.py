"""Accounts: ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id``,
``GET /api/v1/accounts/lookup?acct=``, and the default avatar and header images.

Account ids are ``actors.id`` as strings. Local members (approved ones) and remote actors
fedinet already knows are accounts; the instance actor is not. Lookups never fetch from
other servers.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import follows as follows_db
from fedinet.db import users as users_db
from fedinet.db.counts import AccountCounts
from fedinet.db.types import Executor
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.vocabulary import MOTIVE_KEYS
from fedinet.web.api.auth import authorize_if_got_token, require_scope
from fedinet.web.api.entities import (
    DEFAULT_AVATAR_PATH,
    DEFAULT_HEADER_PATH,
    credential_account_to_mastodon,
    load_account,
)
from fedinet.web.api.instance import THUMBNAIL_PATH

__all__ = ["get_account", "lookup_account", "placeholder_png", "routes", "verify_credentials"]

_ACCOUNT_NOT_FOUND: Final = "Record not found"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _visible_account(db: Executor, actor: Actor | None) -> Actor:
    """``actor`` if the API shows it: remote actors, and local ones that are approved
    members (not the instance actor); deleted accounts are gone from the API."""
    if actor is None or actor.deleted_at is not None:
        raise NotFound(_ACCOUNT_NOT_FOUND)
    if actor.is_local:
        user = await users_db.get_user_by_actor_id(db, actor.id)
        if user is None or not user.approved:
            raise NotFound(_ACCOUNT_NOT_FOUND)
    return actor


async def verify_credentials(request: Request) -> Response:
    """The member's own CredentialAccount (scopes ``profile`` or ``read:accounts``)."""
    me = await require_scope(request, "profile", "read:accounts")
    db, settings = _runtime(request).pool, _settings(request)
    stats = await counts_db.count_account_stats(db, [me.actor.id])
    entity = credential_account_to_mastodon(
        me.actor,
        me.user,
        settings,
        stats.get(me.actor.id, AccountCounts()),
        follow_requests_count=await counts_db.count_pending_follow_requests(db, me.actor.id),
    )
    return JSONResponse(entity)


async def get_account(request: Request) -> Response:
    """``GET /api/v1/accounts/:id``: public; a token, if given, needs ``read:accounts``."""
    credentials = await authorize_if_got_token(request, "read", "read:accounts")
    db = _runtime(request).pool
    raw_id = request.path_params["id"]
    valid = raw_id.isdigit() and int(raw_id) < 2**63
    actor = await actors_db.get_actor_by_id(db, int(raw_id)) if valid else None
    actor = await _visible_account(db, actor)
    entity = await load_account(db, _settings(request), actor)
    viewer = credentials.actor if credentials is not None else None
    if viewer is not None and actor.is_local:
        # Private motives are shown to accepted followers (and the member), never others.
        follow = await follows_db.get_follow(db, viewer.id, actor.id)
        if viewer.id == actor.id or (follow is not None and follow.state == "accepted"):
            user = await users_db.get_user_by_actor_id(db, actor.id)
            if user is not None:
                entity["motives"] = [
                    key
                    for key in MOTIVE_KEYS
                    if key in actor.motives or key in user.private_motives
                ]
    return JSONResponse(entity)


async def lookup_account(request: Request) -> Response:
    """``GET /api/v1/accounts/lookup?acct=user`` or ``user@domain`` (known accounts only)."""
    await authorize_if_got_token(request, "read", "read:accounts")
    db, settings = _runtime(request).pool, _settings(request)
    acct = (request.query_params.get("acct") or "").strip().removeprefix("acct:")
    username, _, domain = acct.removeprefix("@").partition("@")
    if not username:
        raise NotFound(_ACCOUNT_NOT_FOUND)
    if not domain or domain.lower() == settings.domain:
        actor = await actors_db.get_local_actor_by_username(db, username)
    else:
        actor = await counts_db.get_remote_actor_by_acct(db, username, domain.lower())
    actor = await _visible_account(db, actor)
    return JSONResponse(await load_account(db, settings, actor))


# --------------------------------------------------------------------------- images


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@functools.cache
def placeholder_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (the default avatar, header and instance thumbnail)."""
    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * height, 9))
        + _png_chunk(b"IEND", b"")
    )


def _image(width: int, height: int) -> Response:
    return Response(
        placeholder_png(width, height, (0xD9, 0xE1, 0xE8)),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


async def default_avatar(request: Request) -> Response:
    return _image(400, 400)


async def default_header(request: Request) -> Response:
    return _image(1500, 500)


async def instance_thumbnail(request: Request) -> Response:
    return _image(1200, 630)


routes: list[BaseRoute] = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/lookup", lookup_account, methods=["GET"]),
    Route("/api/v1/accounts/{id}", get_account, methods=["GET"]),
    Route(DEFAULT_AVATAR_PATH, default_avatar, methods=["GET", "HEAD"]),
    Route(DEFAULT_HEADER_PATH, default_header, methods=["GET", "HEAD"]),
    Route(THUMBNAIL_PATH, instance_thumbnail, methods=["GET", "HEAD"]),
]
