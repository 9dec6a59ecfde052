"""``POST /api/v1/apps`` and ``GET /api/v1/apps/verify_credentials``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.runtime import Runtime
from fedinet.services import oauth
from fedinet.web.api.auth import require_app_scope
from fedinet.web.api.entities import application_to_mastodon
from fedinet.web.api.params import MAX_FORM_BODY, first, read_params

__all__ = ["create_app", "routes", "verify_app_credentials"]


async def create_app(request: Request) -> Response:
    """Register a client. Form or JSON: ``client_name``, ``redirect_uris`` (string,
    whitespace-separated, or list), ``scopes`` (default ``read``), ``website``. Answers the
    CredentialApplication (the only time ``client_secret`` is shown); 422 for bad input."""
    params = await read_params(request)
    runtime: Runtime = request.app.state.runtime
    registered = await oauth.register_app(
        runtime.pool,
        name=first(params, "client_name"),
        redirect_uris=params.get("redirect_uris"),
        scopes=params.get("scopes"),
        website=first(params, "website"),
    )
    entity = application_to_mastodon(registered.app, client_secret=registered.client_secret)
    return JSONResponse(entity, headers={"Cache-Control": "no-store"})


async def verify_app_credentials(request: Request) -> Response:
    """The Application of the token (any valid token, app-only ones included)."""
    credentials = await require_app_scope(request)
    return JSONResponse(application_to_mastodon(credentials.app))


routes: list[BaseRoute] = [
    Route("/api/v1/apps", create_app, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/api/v1/apps/verify_credentials", verify_app_credentials, methods=["GET"]),
]
