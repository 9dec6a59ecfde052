"""Actor endpoints: ``/users/{username}`` and ``/@{username}`` (the ActivityPub document or
an HTML profile page, by ``Accept``) and ``/actor`` (the instance actor).

Wire in with ``routes``.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.actors import tombstone_for
from fedinet.config import Settings
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services import discovery
from fedinet.web.errors import error_response
from fedinet.web.signed import require_signed_fetch
from fedinet.web.templating import render

__all__ = ["ACTIVITY_JSON", "routes", "wants_activity_json"]

ACTIVITY_JSON: Final = "application/activity+json; charset=utf-8"
_AP_TYPES: Final = ("application/activity+json", "application/ld+json")
_HTML_TYPES: Final = ("text/html", "application/xhtml+xml")
# Mastodon allows cross-origin GETs of actors and profile pages.
_CORS: Final = {"Access-Control-Allow-Origin": "*"}


def wants_activity_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for ActivityPub JSON rather than HTML.

    ``application/activity+json`` and ``application/ld+json`` (any profile) count as
    ActivityPub. It wins unless HTML is asked for explicitly with a higher quality, or with
    the same quality and listed first. Wildcards alone (``*/*``) and no header mean HTML.
    """
    if not accept:
        return False
    best: dict[str, tuple[float, int]] = {}  # "ap"/"html" -> (q, -position)
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        group = "ap" if media in _AP_TYPES else "html" if media in _HTML_TYPES else None
        if group is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        if q > 0 and (group not in best or (q, -position) > best[group]):
            best[group] = (q, -position)
    if "ap" not in best:
        return False
    return "html" not in best or best["ap"] > best["html"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _check_fetch_allowed(request: Request) -> None:
    """Authorized fetch: refuse unsigned or badly signed requests when it is on.

    The instance actor (``/actor``) never goes through here: other servers must be able
    to fetch it unsigned to verify our own signed fetches.
    """
    await require_signed_fetch(request)


def _activity_json(body: dict[str, Any], *, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        body,
        status_code=status_code,
        media_type=ACTIVITY_JSON,
        headers={"Vary": "Accept", **_CORS},
    )


async def _actor_json(request: Request, actor: Actor) -> Response:
    await _check_fetch_allowed(request)
    if actor.is_gone:
        return _activity_json(tombstone_for(actor), status_code=410)
    runtime, settings = _runtime(request), _settings(request)
    document = await discovery.actor_document(runtime.pool, settings, actor)
    return _activity_json(document)


def _profile_page(request: Request, actor: Actor) -> Response:
    headers = {"Vary": "Accept", **_CORS}
    if actor.is_gone:
        return PlainTextResponse(
            "This account is no longer available.\n", status_code=410, headers=headers
        )
    settings = _settings(request)
    return render(
        "profile.html",
        settings,
        headers=headers,
        actor=actor,
        acct=f"{actor.username}@{settings.domain}",
    )


async def actor_endpoint(request: Request) -> Response:
    """``GET /users/{username}`` and ``GET /@{username}``: negotiated on ``Accept``."""
    as_json = wants_activity_json(request.headers.get("accept"))
    username = request.path_params["username"]
    try:
        actor = await discovery.get_local_member(_runtime(request).pool, username)
    except NotFound as exc:
        if as_json:
            response: Response = error_response(exc)
        else:
            response = PlainTextResponse("No such account.\n", status_code=404)
        response.headers["Vary"] = "Accept"
        return response
    if as_json:
        return await _actor_json(request, actor)
    return _profile_page(request, actor)


async def instance_actor_endpoint(request: Request) -> Response:
    """``GET /actor``: the instance's ``Application`` actor, always as JSON, never gated."""
    runtime, settings = _runtime(request), _settings(request)
    actor = await discovery.get_instance_actor(runtime.pool, settings)
    document = await discovery.actor_document(runtime.pool, settings, actor)
    return _activity_json(document)


routes: list[BaseRoute] = [
    Route("/users/{username}", actor_endpoint, methods=["GET", "HEAD"]),
    Route("/@{username}", actor_endpoint, methods=["GET", "HEAD"]),
    Route("/actor", instance_actor_endpoint, methods=["GET", "HEAD"]),
]
