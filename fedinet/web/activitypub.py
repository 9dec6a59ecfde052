"""Actor endpoints: ``/users/{username}`` and ``/@{username}`` (the ActivityPub document or
an HTML profile page, by ``Accept``) and ``/actor`` (the instance actor).

Wire in with ``routes``.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.actors import tombstone_for
from fedinet.config import Settings
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services import discovery
from fedinet.web.errors import error_response
from fedinet.web.negotiation import wants_activity_json
from fedinet.web.pages import profile as pages_profile
from fedinet.web.pages.errors import error_page
from fedinet.web.signed import require_signed_fetch

__all__ = ["ACTIVITY_JSON", "routes", "wants_activity_json"]

ACTIVITY_JSON: Final = "application/activity+json; charset=utf-8"
# Mastodon allows cross-origin GETs of actors and profile pages.
_CORS: Final = {"Access-Control-Allow-Origin": "*"}


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


async def actor_endpoint(request: Request) -> Response:
    """``GET /users/{username}`` and ``GET /@{username}``: negotiated on ``Accept``."""
    as_json = wants_activity_json(request.headers.get("accept"))
    username = request.path_params["username"]
    if not as_json and "@" in username:
        # /@user@domain: someone on another server, from what this server knows of them
        return await pages_profile.remote_profile_page(request, username)
    try:
        actor = await discovery.get_local_member(_runtime(request).pool, username)
    except NotFound as exc:
        if as_json:
            response: Response = error_response(exc)
        else:
            response = await error_page(request, 404, str(exc))
        response.headers["Vary"] = "Accept"
        return response
    if as_json:
        return await _actor_json(request, actor)
    if actor.is_gone:
        gone = await error_page(request, 410, "This account is no longer available.")
        gone.headers.update({"Vary": "Accept", **_CORS})
        return gone
    page = await pages_profile.profile_page(request, actor)
    page.headers.update(_CORS)
    return page


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
