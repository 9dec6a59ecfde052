"""Profile pages: ``/@user`` and ``/users/user`` for browsers (the same URLs serve the
ActivityPub actor, see :mod:`fedinet.web.activitypub`), and ``/@user@domain`` for people
on other servers, from what this server has cached of them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedinet.models import Actor
from fedinet.services import people
from fedinet.web.pages.kit import render_page, runtime, settings, viewer

__all__ = ["profile_page", "remote_profile_page"]

_HEADERS = {"Vary": "Accept"}  # pages are Cache-Control: no-store anyway


async def profile_page(request: Request, actor: Actor) -> Response:
    """The profile of ``actor`` (local, or remote from cached data)."""
    found = await viewer(request)
    async with runtime(request).pool.acquire() as conn:
        view = await people.profile_view(conn, actor, found.actor if found else None)
    connect = request.query_params.get("connect", "")
    return await render_page(
        request,
        "profile.html",
        headers=_HEADERS,
        view=view,
        actor=actor,
        acct=actor.acct if not actor.is_local else f"{actor.username}@{settings(request).domain}",
        connect=connect if connect.replace("-", "").replace("_", "").isalnum() else "",
    )


async def remote_profile_page(request: Request, acct: str) -> Response:
    """``/@user@domain``: a known remote account (``NotFound`` → 404 page otherwise)."""
    actor = await people.find_person(runtime(request).pool, settings(request), acct)
    return await profile_page(request, actor)
