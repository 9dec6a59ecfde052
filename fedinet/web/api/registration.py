"""``POST /api/v1/accounts``: sign up through a client app.

The app calls with a token of its own (the ``client_credentials`` grant) holding
``write:accounts`` (or ``write``), and gets back a Token for the new member. See
``fedinet.services.registration`` for the registration modes and the errors.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.runtime import Runtime
from fedinet.services import registration
from fedinet.services.oauth import IssuedToken
from fedinet.web.api.auth import require_app_scope
from fedinet.web.api.params import MAX_FORM_BODY, first, read_params

__all__ = ["routes"]


def _token_entity(issued: IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scope,
        "created_at": int(issued.token.created_at.timestamp()),
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return body


async def create_account(request: Request) -> Response:
    credentials = await require_app_scope(request, "write:accounts")
    runtime: Runtime = request.app.state.runtime
    params = await read_params(request)
    sign_up = registration.SignUp(
        username=first(params, "username") or "",
        email=first(params, "email") or "",
        password=first(params, "password") or "",
        agreement=first(params, "agreement"),
        locale=first(params, "locale"),
        reason=first(params, "reason"),
    )
    async with runtime.pool.acquire() as conn:
        registered = await registration.register(
            conn, runtime.settings, credentials.app, credentials.scopes, sign_up
        )
    return JSONResponse(_token_entity(registered.token))


routes: list[BaseRoute] = [
    Route("/api/v1/accounts", create_account, methods=["POST"], max_body_size=MAX_FORM_BODY),
]
