"""OAuth 2 endpoints: ``/oauth/authorize`` (login and consent page), ``/oauth/token``,
``/oauth/revoke``, ``/oauth/userinfo`` and ``/.well-known/oauth-authorization-server``.

Errors of the token and revocation endpoints have the OAuth shape (RFC 6749 §5.2)
``{"error": code, "error_description": sentence}``: 401 for ``invalid_client``, 403 for
revoking another client's token, 400 for the rest (``invalid_grant``,
``invalid_request``, ``invalid_scope``, ``unsupported_grant_type``) — as Doorkeeper answers.

The authorization page is protected against CSRF by a token in a hidden field that must
match an HMAC (keyed with ``settings.secret_key``) of a random nonce kept in an HttpOnly
cookie. A successful login there also sets a signed, HttpOnly session cookie scoped to
``/oauth`` (14 days; invalidated by a password change), so that later authorizations only
ask for consent — unless the client passes ``force_login``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from typing import Any, Final
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import oauth as oauth_db
from fedinet.errors import FedinetError, PermissionDenied, Unauthorized, ValidationError
from fedinet.models import Actor, User
from fedinet.runtime import Runtime
from fedinet.services import oauth
from fedinet.services.oauth import AuthorizationRequest, IssuedToken
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import DEFAULT_AVATAR_PATH
from fedinet.web.api.params import MAX_FORM_BODY, Params, first, read_params
from fedinet.web.templating import render

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "authorization_server_metadata",
    "authorization_server_metadata_document",
    "authorize_form",
    "authorize_submit",
    "oauth_error_response",
    "revoke",
    "routes",
    "token",
    "userinfo",
]

CSRF_COOKIE: Final = "fedinet_oauth_csrf"
SESSION_COOKIE: Final = "fedinet_oauth_session"
_COOKIE_PATH: Final = "/oauth"
_CSRF_MAX_AGE: Final = 2 * 3600
_SESSION_MAX_AGE: Final = 14 * 24 * 3600
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS: Final = {
    "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "img-src 'self' https: data:; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_OAUTH_ERRORS: Final = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "unsupported_response_type",
        "invalid_redirect_uri",
        "server_error",
    }
)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_SCOPE_TEXT: Final = {
    "read": "Read all your account's data",
    "write": "Modify all your account's data",
    "follow": "Modify account relationships (follows, blocks, mutes)",
    "push": "Receive your push notifications",
    "profile": "Read only your account's profile information",
    "admin:read": "Read all data on the server",
    "admin:write": "Modify all data on the server",
}
_AUTH_PARAMS: Final = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "force_login",
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --------------------------------------------------------------------------- errors


def oauth_error_response(exc: FedinetError) -> JSONResponse:
    """``{"error": code, "error_description": message}`` with the status Doorkeeper uses."""
    code = exc.reason if exc.reason in _OAUTH_ERRORS else "invalid_request"
    if isinstance(exc, Unauthorized):
        code = "invalid_client"
        status = 401
    elif isinstance(exc, PermissionDenied):
        status = 403
    else:
        status = 400
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = f'Bearer realm="fedinet", error="{code}"'
    return JSONResponse(
        {"error": code, "error_description": exc.message}, status_code=status, headers=headers
    )


# --------------------------------------------------------------------------- token


def _client_credentials(request: Request, params: Params) -> tuple[str | None, str | None]:
    """client_secret_basic (the Authorization header) or client_secret_post (the body)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed Basic credentials", reason="invalid_client") from None
        client_id, sep, client_secret = decoded.partition(":")
        if not sep:
            raise Unauthorized("malformed Basic credentials", reason="invalid_client")
        return unquote(client_id), unquote(client_secret)
    return first(params, "client_id"), first(params, "client_secret")


def _token_body(issued: IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scope,
        "created_at": int(issued.token.created_at.timestamp()),
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return body


async def token(request: Request) -> Response:
    """``POST /oauth/token``: grants ``authorization_code`` (PKCE S256 checked),
    ``password`` (``username`` = email or username), ``client_credentials`` and
    ``refresh_token`` (rotating)."""
    runtime = _runtime(request)
    try:
        params = await read_params(request)
        grant_type = first(params, "grant_type")
        if not grant_type:
            raise ValidationError("grant_type is required", reason="invalid_request")
        if grant_type not in oauth.GRANT_TYPES:
            raise ValidationError(
                f"the grant type {grant_type!r} is not supported",
                reason="unsupported_grant_type",
            )
        client_id, client_secret = _client_credentials(request, params)
        app = await oauth.authenticate_client(runtime.pool, client_id, client_secret)
        scope = first(params, "scope")
        if grant_type == "authorization_code":
            issued = await oauth.exchange_code(
                runtime.pool,
                app,
                code=first(params, "code"),
                redirect_uri=first(params, "redirect_uri"),
                code_verifier=first(params, "code_verifier"),
            )
        elif grant_type == "password":
            issued = await oauth.password_grant(
                runtime.pool,
                app,
                username=first(params, "username"),
                password=first(params, "password"),
                scope=scope,
            )
        elif grant_type == "client_credentials":
            issued = await oauth.client_credentials_grant(runtime.pool, app, scope=scope)
        else:
            issued = await oauth.refresh_grant(
                runtime.pool, app, refresh_token=first(params, "refresh_token"), scope=scope
            )
    except (ValidationError, Unauthorized, PermissionDenied) as exc:
        return oauth_error_response(exc)
    return JSONResponse(_token_body(issued), headers=_NO_STORE)


async def revoke(request: Request) -> Response:
    """``POST /oauth/revoke`` (RFC 7009): ``{}`` whether or not the token existed."""
    runtime = _runtime(request)
    try:
        params = await read_params(request)
        client_id, client_secret = _client_credentials(request, params)
        app = await oauth.authenticate_client(runtime.pool, client_id, client_secret)
        await oauth.revoke_token(runtime.pool, app, first(params, "token"))
    except (ValidationError, Unauthorized, PermissionDenied) as exc:
        return oauth_error_response(exc)
    return JSONResponse({}, headers=_NO_STORE)


# --------------------------------------------------------------------------- discovery


def authorization_server_metadata_document(settings: Settings) -> dict[str, Any]:
    """RFC 8414 metadata, shaped as Mastodon 4.3's."""
    base = settings.url
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "scopes_supported": list(oauth.ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(oauth.GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }


async def authorization_server_metadata(request: Request) -> Response:
    """``GET /.well-known/oauth-authorization-server``."""
    return JSONResponse(
        authorization_server_metadata_document(_settings(request)),
        headers={"Access-Control-Allow-Origin": "*"},
    )


async def userinfo(request: Request) -> Response:
    """``GET|POST /oauth/userinfo`` (OpenID Connect style; needs the ``profile`` scope)."""
    me = await require_scope(request, "profile")
    settings = _settings(request)
    return JSONResponse(
        {
            "iss": f"{settings.url}/",
            "sub": me.actor.uri,
            "name": me.actor.display_name or me.actor.username,
            "preferred_username": me.actor.username,
            "profile": me.actor.url or me.actor.uri,
            "picture": me.actor.avatar_url or f"{settings.url}{DEFAULT_AVATAR_PATH}",
        }
    )


# --------------------------------------------------------------------------- cookies


def _mac(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret_key.encode("utf-8")
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _csrf_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE)
    return nonce if nonce and 16 <= len(nonce) <= 64 else None


def _csrf_token(settings: Settings, nonce: str) -> str:
    return _mac(settings, "oauth-csrf", nonce)


def _csrf_ok(request: Request, settings: Settings, submitted: str | None) -> bool:
    nonce = _csrf_nonce(request)
    if nonce is None or not submitted:
        return False
    return hmac.compare_digest(_csrf_token(settings, nonce), submitted)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def _session_value(settings: Settings, user: User) -> str:
    expires = int(time.time()) + _SESSION_MAX_AGE
    payload = f"{user.id}.{expires}"
    mac = _mac(settings, "oauth-session", f"{payload}.{_password_fingerprint(user)}")
    return f"{payload}.{mac}"


async def _session_user(request: Request, settings: Settings) -> User | None:
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    user_id, expires, mac = int(parts[0]), int(parts[1]), parts[2]
    if expires < time.time():
        return None
    user = await oauth_db.get_user_by_id(_runtime(request).pool, user_id)
    if user is None or not user.approved:
        return None
    expected = _mac(settings, "oauth-session", f"{user_id}.{expires}.{_password_fingerprint(user)}")
    if not hmac.compare_digest(expected, mac):
        return None
    actor = await _actor_of(request, user)
    return None if actor is None or actor.is_gone else user


async def _actor_of(request: Request, user: User) -> Actor | None:
    return await actors_db.get_actor_by_id(_runtime(request).pool, user.actor_id)


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_COOKIE_PATH,
        secure=settings.scheme == "https",
        httponly=True,
        samesite="lax",
    )


# --------------------------------------------------------------------------- authorize


def _redirect_with(uri: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _page(
    request: Request,
    *,
    mode: str,
    status_code: int = 200,
    auth: AuthorizationRequest | None = None,
    params: dict[str, str] | None = None,
    user: User | None = None,
    username: str | None = None,
    error: str | None = None,
    code: str | None = None,
    nonce: str | None = None,
) -> HTMLResponse:
    settings = _settings(request)
    nonce = nonce or _csrf_nonce(request) or secrets.token_urlsafe(24)
    response = render(
        "oauth_authorize.html",
        settings,
        status_code=status_code,
        headers=dict(_PAGE_HEADERS),
        mode=mode,
        app_name=auth.app.name if auth else "",
        app_website=(auth.app.website or "") if auth else "",
        scopes=[(s, _SCOPE_TEXT.get(s, s)) for s in auth.scopes] if auth else [],
        hidden=params or {},
        csrf_token=_csrf_token(settings, nonce),
        logged_in_as=username or "",
        needs_login=user is None,
        error=error or "",
        code=code or "",
    )
    _set_cookie(response, settings, CSRF_COOKIE, nonce, _CSRF_MAX_AGE)
    return response


async def _resolve(
    request: Request, params: Params
) -> tuple[AuthorizationRequest | None, Response | None]:
    """The checked request, or the response that reports why it is refused: a page for a
    bad client or redirect URI, a redirect with ``error`` for anything else."""
    db = _runtime(request).pool
    try:
        app, redirect_uri = await oauth.find_app_for_authorization(
            db, first(params, "client_id"), first(params, "redirect_uri")
        )
    except (Unauthorized, ValidationError) as exc:
        return None, _page(request, mode="error", status_code=400, error=exc.message)
    try:
        auth = oauth.check_authorization_request(
            app,
            redirect_uri,
            response_type=first(params, "response_type"),
            scope=first(params, "scope"),
            state=first(params, "state"),
            code_challenge=first(params, "code_challenge"),
            code_challenge_method=first(params, "code_challenge_method"),
        )
    except ValidationError as exc:
        if redirect_uri == oauth.OOB_REDIRECT_URI:
            return None, _page(request, mode="error", status_code=400, error=exc.message)
        target = _redirect_with(
            redirect_uri,
            {
                "error": exc.reason,
                "error_description": exc.message,
                "state": first(params, "state"),
            },
        )
        return None, RedirectResponse(target, status_code=302, headers=dict(_PAGE_HEADERS))
    return auth, None


def _hidden(params: Params) -> dict[str, str]:
    return {name: value for name in _AUTH_PARAMS if (value := first(params, name))}


async def _username(request: Request, user: User) -> str:
    actor = await _actor_of(request, user)
    return "" if actor is None else actor.username


async def authorize_form(request: Request) -> Response:
    """``GET /oauth/authorize``: the login (unless a session exists and no
    ``force_login``) and consent page."""
    params = await read_params(request)
    auth, refusal = await _resolve(request, params)
    if refusal is not None:
        return refusal
    assert auth is not None
    settings = _settings(request)
    force_login = (first(params, "force_login") or "").lower() in _TRUE
    user = None if force_login else await _session_user(request, settings)
    return _page(
        request,
        mode="form",
        auth=auth,
        params=_hidden(params),
        user=user,
        username=None if user is None else await _username(request, user),
    )


async def authorize_submit(request: Request) -> Response:
    """``POST /oauth/authorize``: check the CSRF token, log in if needed, then redirect to
    the client with ``code`` (or ``error=access_denied``), or show the code for ``oob``."""
    settings = _settings(request)
    params = await read_params(request)
    if not _csrf_ok(request, settings, first(params, "csrf_token")):
        return _page(
            request,
            mode="error",
            status_code=403,
            error="This form has expired or did not come from this site. Go back and try again.",
            nonce=secrets.token_urlsafe(24),
        )
    auth, refusal = await _resolve(request, params)
    if refusal is not None:
        return refusal
    assert auth is not None
    if first(params, "decision") == "deny":
        if auth.is_oob:
            return _page(request, mode="denied", auth=auth)
        target = _redirect_with(
            auth.redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied "
                "the request.",
                "state": auth.state,
            },
        )
        return RedirectResponse(target, status_code=302, headers=dict(_PAGE_HEADERS))
    db = _runtime(request).pool
    force_login = (first(params, "force_login") or "").lower() in _TRUE
    user = None if force_login else await _session_user(request, settings)
    logged_in_now = False
    if user is None or first(params, "password"):
        try:
            user = await oauth.authenticate_user(
                db, first(params, "username"), first(params, "password")
            )
        except ValidationError:
            return _page(
                request,
                mode="form",
                status_code=401,
                auth=auth,
                params=_hidden(params),
                error="Invalid email/username or password.",
            )
        logged_in_now = True
    code = await oauth.create_authorization_code(db, auth, user)
    response: Response
    if auth.is_oob:
        response = _page(request, mode="code", auth=auth, code=code)
    else:
        target = _redirect_with(auth.redirect_uri, {"code": code, "state": auth.state})
        response = RedirectResponse(target, status_code=302, headers=dict(_PAGE_HEADERS))
    if logged_in_now:
        _set_cookie(
            response, settings, SESSION_COOKIE, _session_value(settings, user), _SESSION_MAX_AGE
        )
    return response


routes: list[BaseRoute] = [
    Route("/oauth/authorize", authorize_form, methods=["GET", "HEAD"]),
    Route("/oauth/authorize", authorize_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/oauth/token", token, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/oauth/revoke", revoke, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route(
        "/.well-known/oauth-authorization-server",
        authorization_server_metadata,
        methods=["GET", "HEAD"],
    ),
]
