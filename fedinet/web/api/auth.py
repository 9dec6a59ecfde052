"""Bearer-token authentication and scope checks for client API endpoints.

An endpoint asks for what it needs, as Mastodon's ``doorkeeper_authorize!`` and
``require_user!`` do::

    async def home_timeline(request: Request) -> Response:
        me = await require_scope(request, "read:statuses")
        ...  # me.actor, me.user, me.app, me.scopes

- no token, an unknown or a revoked one: ``Unauthorized`` → 401
  ``{"error": "The access token is invalid"}``;
- a token without any of the scopes asked for: ``PermissionDenied`` → 403
  ``{"error": "This action is outside the authorized scopes"}``;
- an app-only token (client_credentials) where a member is needed: ``ValidationError``
  → 422 ``{"error": "This method requires an authenticated user"}``;
- a member who is suspended, deleted or awaiting approval: ``PermissionDenied`` → 403.

Scopes are "any of" (``require_scope(request, "profile", "read:accounts")``), and
``read``/``write``/``admin:read``/``admin:write`` cover their sub-scopes, ``follow`` covers
``read:``/``write:`` ``follows``, ``blocks`` and ``mutes``.

The token is looked up once per request (the answer is kept on ``request.state``).

An endpoint that reads the database in one statement anyway may skip the lookup: each
process remembers the credentials it read last for a token, with the version of the rows
they came from (:class:`fedinet.db.oauth.BearerToken`). :func:`remembered_user` hands them
out, and the endpoint's statement reads the token's current version with its data
(``timelines.home_page(token_id=…)``); only when the two agree does it keep what it read
(:func:`confirm`). A token revoked, a member suspended or awaiting approval, a scope
changed, changes the version: the endpoint then authenticates the ordinary way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from starlette.requests import Request

from fedinet.db.oauth import OAuthApp
from fedinet.db.types import Executor
from fedinet.errors import PermissionDenied, Unauthorized, ValidationError
from fedinet.models import Actor, User
from fedinet.runtime import Runtime
from fedinet.services import oauth
from fedinet.services.oauth import Credentials

__all__ = [
    "Credentials",
    "UserCredentials",
    "authenticate",
    "authorize_if_got_token",
    "bearer_token",
    "confirm",
    "optional_user",
    "remembered_user",
    "require_app_scope",
    "require_scope",
]

_STATE_KEY = "fedinet_credentials"
_REMEMBERED_MAX: Final = 10_000


@dataclass(frozen=True, slots=True)
class UserCredentials:
    """A token acting for a member: ``user`` and ``actor`` are always there."""

    user: User
    actor: Actor
    app: OAuthApp
    scopes: tuple[str, ...]
    credentials: Credentials


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer …``, else from the ``access_token`` query
    parameter (Doorkeeper accepts both; the access log never records query strings)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.query_params.get("access_token") or None


async def authenticate(request: Request, *, db: Executor | None = None) -> Credentials | None:
    """The request's credentials; ``None`` without a token; ``Unauthorized`` for a bad one.
    ``db``: a connection the endpoint holds already (else one is taken from the pool)."""
    cached = getattr(request.state, _STATE_KEY, None)
    if isinstance(cached, Credentials):
        return cached
    token = bearer_token(request)
    if token is None:
        if request.headers.get("authorization"):
            raise Unauthorized("The access token is invalid", reason="invalid_token")
        return None
    if db is not None:
        credentials = await oauth.authenticate_token(db, token)
    else:
        runtime: Runtime = request.app.state.runtime
        # one connection for the token's lookups (each pool round trip costs a reset)
        async with runtime.pool.acquire() as conn:
            credentials = await oauth.authenticate_token(conn, token)
    setattr(request.state, _STATE_KEY, credentials)
    if credentials.version:
        remembered, key = _remembered(request), oauth.secret_digest(token)
        remembered.pop(key, None)
        remembered[key] = credentials
        while len(remembered) > _REMEMBERED_MAX:
            del remembered[next(iter(remembered))]
    return credentials


def _remembered(request: Request) -> dict[str, Credentials]:
    """This app's remembered credentials by the token's digest (in memory only)."""
    state = request.app.state
    found = getattr(state, "remembered_credentials", None)
    if not isinstance(found, dict):
        found = state.remembered_credentials = {}
    return found


def remembered_user(request: Request, *scopes: str) -> UserCredentials | None:
    """What :func:`require_scope` answered for this request's token last time, unless
    that was an error or using the token is due to be recorded: to be checked with
    :func:`confirm` against the version the endpoint's own statement reads."""
    token = bearer_token(request)
    if token is None:
        return None
    credentials = _remembered(request).get(oauth.secret_digest(token))
    if credentials is None or credentials.touch_due(datetime.now(UTC)):
        return None
    try:
        _check_scopes(credentials, scopes)
        return _as_user(credentials)
    except (PermissionDenied, ValidationError):
        return None  # the ordinary way gives the right error


def confirm(request: Request, me: UserCredentials, version: str | None) -> bool:
    """Whether ``version`` (the token's, read by the endpoint's statement) is the one
    ``me`` was read with; if not, they are forgotten."""
    if version is not None and version == me.credentials.version:
        setattr(request.state, _STATE_KEY, me.credentials)
        return True
    token = bearer_token(request)
    if token is not None:
        _remembered(request).pop(oauth.secret_digest(token), None)
    return False


def _check_scopes(credentials: Credentials, scopes: tuple[str, ...]) -> None:
    if scopes and not oauth.has_scope(credentials.scopes, *scopes):
        raise PermissionDenied(
            "This action is outside the authorized scopes", reason="insufficient_scope"
        )


def _as_user(credentials: Credentials) -> UserCredentials:
    user, actor = credentials.user, credentials.actor
    if user is None or actor is None:
        raise ValidationError("This method requires an authenticated user", reason="user_required")
    if actor.is_gone:
        raise PermissionDenied("Your login is currently disabled", reason="login_disabled")
    if not user.approved:
        raise PermissionDenied("Your login is currently pending approval", reason="login_pending")
    return UserCredentials(
        user=user,
        actor=actor,
        app=credentials.app,
        scopes=credentials.scopes,
        credentials=credentials,
    )


async def require_app_scope(
    request: Request, *scopes: str, db: Executor | None = None
) -> Credentials:
    """A valid token (a member's or an app's) holding one of ``scopes`` (none: any)."""
    credentials = await authenticate(request, db=db)
    if credentials is None:
        raise Unauthorized("The access token is invalid", reason="invalid_token")
    _check_scopes(credentials, scopes)
    return credentials


async def require_scope(
    request: Request, *scopes: str, db: Executor | None = None
) -> UserCredentials:
    """A member's valid token holding one of ``scopes`` (none: any scope). ``db``: a
    connection the endpoint holds already, to look the token up on."""
    return _as_user(await require_app_scope(request, *scopes, db=db))


async def authorize_if_got_token(request: Request, *scopes: str) -> Credentials | None:
    """For public endpoints (Mastodon's ``authorize_if_got_token!``): ``None`` without a
    token; with one, it must be valid (401) and hold one of ``scopes`` (403)."""
    credentials = await authenticate(request)
    if credentials is not None:
        _check_scopes(credentials, scopes)
    return credentials


async def optional_user(request: Request, *scopes: str) -> UserCredentials | None:
    """Like :func:`authorize_if_got_token`, then the member, or ``None`` for anonymous
    requests and app-only tokens."""
    credentials = await authorize_if_got_token(request, *scopes)
    if credentials is None or credentials.user is None:
        return None
    return _as_user(credentials)
