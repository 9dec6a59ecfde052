"""OAuth 2 for Mastodon clients: registering apps, the four grants, revocation, and
checking a bearer token on each API request.

Behaviour follows Mastodon (Doorkeeper): tokens never expire but can be revoked, the
default scope is ``read``, app scopes bound token scopes, PKCE is S256 only, password
logins take the email (fedinet also accepts the username).

Errors use the one hierarchy with the OAuth error code as ``reason``:
``Unauthorized(reason="invalid_client")`` (RFC 6749 §5.2: 401), ``ValidationError`` with
``invalid_grant``, ``invalid_request``, ``invalid_scope`` or ``unsupported_grant_type``
(400), ``PermissionDenied(reason="unauthorized_client")``. ``web/api/oauth.py`` turns those
into ``{"error": reason, "error_description": message}``. For the API proper,
:func:`authenticate_token` raises ``Unauthorized`` (401).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from fedinet.crypto.passwords import hash_password, verify_password
from fedinet.db import actors as actors_db
from fedinet.db import oauth as oauth_db
from fedinet.db import users as users_db
from fedinet.db.oauth import AccessToken, AuthorizationCode, OAuthApp
from fedinet.db.pool import Pool
from fedinet.db.types import Executor
from fedinet.errors import PermissionDenied, Unauthorized, ValidationError
from fedinet.models import Actor, User

__all__ = [
    "ALL_SCOPES",
    "CODE_TTL_SECONDS",
    "DEFAULT_SCOPES",
    "GRANT_TYPES",
    "OOB_REDIRECT_URI",
    "TOP_LEVEL_SCOPES",
    "AuthorizationRequest",
    "Credentials",
    "IssuedToken",
    "RegisteredApp",
    "authenticate_client",
    "authenticate_token",
    "authenticate_user",
    "check_authorization_request",
    "client_credentials_grant",
    "create_authorization_code",
    "exchange_code",
    "find_app_for_authorization",
    "has_scope",
    "issue_member_token",
    "parse_scopes",
    "password_grant",
    "pkce_s256",
    "refresh_grant",
    "register_app",
    "revoke_token",
    "scope_allows",
    "secret_digest",
    "validate_redirect_uris",
]

OOB_REDIRECT_URI: Final = "urn:ietf:wg:oauth:2.0:oob"
CODE_TTL_SECONDS: Final = 600  # Doorkeeper's default: 10 minutes
GRANT_TYPES: Final = ("authorization_code", "password", "client_credentials", "refresh_token")
TOP_LEVEL_SCOPES: Final = (
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
)
_READ: Final = [
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
]
_WRITE: Final = [
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
]
_ADMIN: Final = [
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
]
ALL_SCOPES: Final[tuple[str, ...]] = (
    *TOP_LEVEL_SCOPES,
    *(f"read:{name}" for name in _READ),
    *(f"write:{name}" for name in _WRITE),
    *(f"admin:read:{name}" for name in _ADMIN),
    *(f"admin:write:{name}" for name in _ADMIN),
)
_KNOWN: Final = frozenset(ALL_SCOPES)
DEFAULT_SCOPES: Final = ("read",)
# ``follow`` is Mastodon's legacy umbrella for relationships.
_FOLLOW_IMPLIES: Final = frozenset(
    f"{mode}:{what}" for mode in ("read", "write") for what in ("follows", "blocks", "mutes")
)
_FORBIDDEN_SCHEMES: Final = frozenset({"javascript", "data", "vbscript", "file"})
_SCHEME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
_VERIFIER_RE: Final = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_MAX_REDIRECT_URIS: Final = 10
_MAX_NAME: Final = 60
_MAX_URI: Final = 2000


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    app: OAuthApp
    client_secret: str
    """Plaintext, known only now: only its digest is stored."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    token: AccessToken

    @property
    def scope(self) -> str:
        return " ".join(self.token.scopes)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked ``/oauth/authorize`` request for ``app``."""

    app: OAuthApp
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    @property
    def is_oob(self) -> bool:
        return self.redirect_uri == OOB_REDIRECT_URI


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who a valid bearer token speaks for: always an app, and a member unless the token
    came from the client_credentials grant."""

    token: AccessToken
    app: OAuthApp
    user: User | None
    actor: Actor | None
    version: str = ""  # of the rows they were read from (oauth_db.BearerToken.version)

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.token.scopes)

    def touch_due(self, now: datetime) -> bool:
        """Whether using the token now should record it (``last_used_at``)."""
        last = self.token.last_used_at
        return last is None or now - last > _TOUCH_EVERY


# --------------------------------------------------------------------------- helpers


def secret_digest(secret: str) -> str:
    """SHA-256 hex digest: how client secrets, codes and tokens are stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the login is unknown, so that timing does not tell which logins exist."""
    return hash_password(secrets.token_urlsafe(16))


def pkce_s256(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def scope_allows(granted: Collection[str], required: str) -> bool:
    """Whether scopes ``granted`` cover ``required``.

    ``read`` covers every ``read:*``, ``write`` every ``write:*``, ``admin:read`` every
    ``admin:read:*`` (likewise ``admin:write``), and ``follow`` covers reading and writing
    follows, blocks and mutes.
    """
    if required in granted:
        return True
    parent = required.rpartition(":")[0]
    if parent in TOP_LEVEL_SCOPES and parent in granted:
        return True
    return required in _FOLLOW_IMPLIES and "follow" in granted


def has_scope(granted: Collection[str], *any_of: str) -> bool:
    """Whether ``granted`` covers at least one of ``any_of`` (Doorkeeper's semantics for
    ``doorkeeper_authorize! :a, :b``)."""
    return any(scope_allows(granted, scope) for scope in any_of)


def parse_scopes(
    value: str | Iterable[str] | None,
    *,
    default: tuple[str, ...] = DEFAULT_SCOPES,
    reason: str = "invalid_scope",
) -> tuple[str, ...]:
    """Scopes from a space-separated string (or a list), de-duplicated in order; ``default``
    when empty. Unknown scopes raise ``ValidationError`` with ``reason``."""
    if value is None:
        items: list[str] = []
    elif isinstance(value, str):
        items = value.split()
    else:
        items = [part for item in value for part in item.split()]
    if not items:
        return default
    unknown = [scope for scope in items if scope not in _KNOWN]
    if unknown:
        raise ValidationError(
            f"unknown scope {unknown[0]!r}; known scopes are {' '.join(TOP_LEVEL_SCOPES)} "
            "and their sub-scopes",
            field="scopes",
            reason=reason,
        )
    return tuple(dict.fromkeys(items))


def validate_redirect_uris(value: str | Iterable[str] | None) -> list[str]:
    """Redirect URIs for an app: whitespace-separated or a list; each absolute, without a
    fragment, and not ``javascript:``/``data:``/``vbscript:``/``file:``. Custom schemes
    (``myapp://callback``) and ``urn:ietf:wg:oauth:2.0:oob`` are accepted."""
    if value is None:
        items: list[str] = []
    elif isinstance(value, str):
        items = value.split()
    else:
        items = [part for item in value for part in item.split()]
    items = list(dict.fromkeys(items))
    if not items:
        raise ValidationError("redirect_uris can't be blank", field="redirect_uris")
    if len(items) > _MAX_REDIRECT_URIS:
        raise ValidationError(
            f"at most {_MAX_REDIRECT_URIS} redirect URIs are allowed", field="redirect_uris"
        )
    for uri in items:
        _check_redirect_uri(uri)
    return items


def _check_redirect_uri(uri: str) -> None:
    if uri == OOB_REDIRECT_URI:
        return

    def bad(why: str) -> ValidationError:
        return ValidationError(f"redirect URI {uri!r} {why}", field="redirect_uris")

    if len(uri) > _MAX_URI:
        raise bad("is too long")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise bad("is not a valid URI") from None
    if not parts.scheme or not _SCHEME_RE.match(parts.scheme):
        raise bad("must be an absolute URI")
    if parts.scheme.lower() in _FORBIDDEN_SCHEMES:
        raise bad(f"must not use the {parts.scheme}: scheme")
    if parts.fragment or "#" in uri:
        raise bad("must not contain a fragment")
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise bad("must name a host")
    if not parts.netloc and not parts.path:
        raise bad("must be an absolute URI")


def _check_subset(requested: tuple[str, ...], allowed: Collection[str]) -> None:
    for scope in requested:
        if not scope_allows(allowed, scope):
            raise ValidationError(
                f"the scope {scope!r} is not among the scopes the application registered "
                f"({' '.join(allowed)})",
                reason="invalid_scope",
            )


def _invalid_grant(message: str) -> ValidationError:
    return ValidationError(message, reason="invalid_grant")


# --------------------------------------------------------------------------- apps


async def register_app(
    db: Executor,
    *,
    name: str | None,
    redirect_uris: str | Iterable[str] | None,
    scopes: str | Iterable[str] | None,
    website: str | None,
) -> RegisteredApp:
    """``POST /api/v1/apps``. ``ValidationError`` (422) for bad input."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("client_name can't be blank", field="client_name")
    if len(name) > _MAX_NAME:
        raise ValidationError(
            f"client_name must be at most {_MAX_NAME} characters", field="client_name"
        )
    uris = validate_redirect_uris(redirect_uris)
    app_scopes = parse_scopes(scopes, reason="validation")
    site = (website or "").strip() or None
    if site is not None:
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(site) > _MAX_URI:
            raise ValidationError("website must be an http(s) URL", field="website")
    secret = _new_secret()
    app = await oauth_db.insert_app(
        db,
        client_id=_new_secret(),
        client_secret_hash=secret_digest(secret),
        name=name,
        redirect_uris=uris,
        scopes=list(app_scopes),
        website=site,
    )
    return RegisteredApp(app=app, client_secret=secret)


async def authenticate_client(
    db: Executor, client_id: str | None, client_secret: str | None
) -> OAuthApp:
    """The app whose id and secret these are; ``Unauthorized(invalid_client)`` otherwise."""
    app = await oauth_db.get_app_by_client_id(db, client_id) if client_id else None
    expected = app.client_secret_hash if app is not None else secret_digest("")
    given = secret_digest(client_secret or "")
    if app is None or not client_secret or not hmac.compare_digest(expected, given):
        raise Unauthorized(
            "client authentication failed: unknown client, no client authentication "
            "included, or unsupported authentication method",
            reason="invalid_client",
        )
    return app


# --------------------------------------------------------------------------- members


async def authenticate_user(db: Executor, login: str | None, password: str | None) -> User:
    """The member with this email (or username) and password; ``invalid_grant`` otherwise,
    including for members awaiting approval or suspended (as Doorkeeper refuses)."""
    login = (login or "").strip()
    password = password or ""
    user: User | None = None
    if login and password:
        if "@" in login:
            user = await users_db.get_user_by_email(db, login)
        if user is None:
            user = await users_db.get_user_by_username(db, login.lstrip("@"))
    stored = user.password_hash if user is not None else await asyncio.to_thread(_dummy_hash)
    matches = await asyncio.to_thread(verify_password, password, stored)
    if user is None or not matches:
        raise _invalid_grant("the email/username or password is incorrect")
    actor = await actors_db.get_actor_by_id(db, user.actor_id)
    if actor is None or actor.is_gone or not user.approved:
        raise _invalid_grant("this account cannot log in")
    await oauth_db.record_login(db, user.id)
    return user


# --------------------------------------------------------------------------- authorize


async def find_app_for_authorization(
    db: Executor, client_id: str | None, redirect_uri: str | None
) -> tuple[OAuthApp, str]:
    """The app and the redirect URI to use. Errors here must not redirect (RFC 6749
    §4.1.2.1): ``Unauthorized(invalid_client)`` for an unknown client,
    ``ValidationError(invalid_redirect_uri)`` for a URI the app did not register."""
    app = await oauth_db.get_app_by_client_id(db, client_id) if client_id else None
    if app is None:
        raise Unauthorized("there is no application with this client_id", reason="invalid_client")
    if not redirect_uri:
        if len(app.redirect_uris) != 1:
            raise ValidationError(
                "redirect_uri is required: the application registered several",
                reason="invalid_redirect_uri",
            )
        return app, app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        raise ValidationError(
            "the redirect_uri is not one the application registered",
            reason="invalid_redirect_uri",
        )
    return app, redirect_uri


def check_authorization_request(
    app: OAuthApp,
    redirect_uri: str,
    *,
    response_type: str | None,
    scope: str | None,
    state: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """The rest of an authorization request, once the app and redirect URI are known.
    These errors may be reported to the redirect URI."""
    if response_type != "code":
        raise ValidationError("response_type must be code", reason="unsupported_response_type")
    scopes = parse_scopes(scope)
    _check_subset(scopes, app.scopes)
    method: str | None = None
    if code_challenge:
        method = code_challenge_method or "plain"
        if method != "S256":
            raise ValidationError("code_challenge_method must be S256", reason="invalid_request")
        if not re.fullmatch(r"[A-Za-z0-9\-_]{43}", code_challenge):
            raise ValidationError(
                "code_challenge must be a base64url SHA-256 digest", reason="invalid_request"
            )
    elif code_challenge_method:
        raise ValidationError(
            "code_challenge_method given without code_challenge", reason="invalid_request"
        )
    return AuthorizationRequest(
        app=app,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state or None,
        code_challenge=code_challenge or None,
        code_challenge_method=method,
    )


async def create_authorization_code(db: Executor, request: AuthorizationRequest, user: User) -> str:
    """A fresh single-use code for ``user``'s consent to ``request``."""
    code = _new_secret()
    await oauth_db.insert_code(
        db,
        code_hash=secret_digest(code),
        app_id=request.app.id,
        user_id=user.id,
        scopes=list(request.scopes),
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        ttl_seconds=CODE_TTL_SECONDS,
    )
    return code


# --------------------------------------------------------------------------- grants


async def _issue(
    db: Executor,
    app: OAuthApp,
    *,
    user_id: int | None,
    scopes: tuple[str, ...],
    code_id: int | None = None,
) -> IssuedToken:
    access = _new_secret()
    # RFC 6749 §4.4.3: no refresh token for client credentials.
    refresh = _new_secret() if user_id is not None else None
    token = await oauth_db.insert_token(
        db,
        token_hash=secret_digest(access),
        refresh_token_hash=None if refresh is None else secret_digest(refresh),
        app_id=app.id,
        user_id=user_id,
        scopes=list(scopes),
        code_id=code_id,
    )
    return IssuedToken(access_token=access, refresh_token=refresh, token=token)


async def issue_member_token(
    db: Executor, app: OAuthApp, *, user_id: int, scopes: tuple[str, ...]
) -> IssuedToken:
    """A token of ``app`` for a member who just signed up through it (``POST
    /api/v1/accounts``), with the scopes of the app token that asked."""
    return await _issue(db, app, user_id=user_id, scopes=scopes)


async def exchange_code(
    pool: Pool,
    app: OAuthApp,
    *,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> IssuedToken:
    """``grant_type=authorization_code``. A code works once: replaying it revokes the
    token it gave (RFC 6749 §4.1.2)."""
    if not code:
        raise ValidationError("the code parameter is required", reason="invalid_request")
    code_hash = secret_digest(code)
    async with pool.acquire() as conn:
        async with conn.transaction():
            grant = await oauth_db.consume_code(conn, code_hash, app.id)
            if grant is not None:
                return await _redeem(conn, app, grant, redirect_uri, code_verifier)
        known = await oauth_db.get_code_by_hash(conn, code_hash)
        if known is not None and known.app_id == app.id and known.used_at is not None:
            await oauth_db.revoke_tokens_for_code(conn, known.id)
    raise _invalid_grant(
        "the authorization code is invalid, expired, already used, or was issued to another client"
    )


async def _redeem(
    conn: Executor,
    app: OAuthApp,
    grant: AuthorizationCode,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> IssuedToken:
    """Check a just-consumed code against the token request; raising rolls back the
    consumption, so a mistaken request does not burn the code."""
    if (redirect_uri or "") != grant.redirect_uri:
        raise _invalid_grant(
            "the redirect_uri does not match the one used in the authorization request"
        )
    if grant.code_challenge is not None:
        if not code_verifier or not _VERIFIER_RE.match(code_verifier):
            raise _invalid_grant("a valid code_verifier is required (PKCE)")
        if not hmac.compare_digest(pkce_s256(code_verifier), grant.code_challenge):
            raise _invalid_grant("the code_verifier does not match the code_challenge")
    elif code_verifier:
        raise _invalid_grant("code_verifier given but the authorization used no PKCE")
    return await _issue(
        conn, app, user_id=grant.user_id, scopes=tuple(grant.scopes), code_id=grant.id
    )


async def password_grant(
    db: Executor, app: OAuthApp, *, username: str | None, password: str | None, scope: str | None
) -> IssuedToken:
    """``grant_type=password``: ``username`` is the email (Mastodon) or the username."""
    scopes = parse_scopes(scope)
    _check_subset(scopes, app.scopes)
    user = await authenticate_user(db, username, password)
    return await _issue(db, app, user_id=user.id, scopes=scopes)


async def client_credentials_grant(
    db: Executor, app: OAuthApp, *, scope: str | None
) -> IssuedToken:
    """``grant_type=client_credentials``: a token for the app itself, no member."""
    scopes = parse_scopes(scope)
    _check_subset(scopes, app.scopes)
    return await _issue(db, app, user_id=None, scopes=scopes)


async def refresh_grant(
    pool: Pool, app: OAuthApp, *, refresh_token: str | None, scope: str | None
) -> IssuedToken:
    """``grant_type=refresh_token``: rotate. The old access and refresh tokens stop working;
    the new pair has the same scopes, or fewer if ``scope`` asks for fewer."""
    if not refresh_token:
        raise ValidationError("the refresh_token parameter is required", reason="invalid_request")
    async with pool.acquire() as conn, conn.transaction():
        old = await oauth_db.get_token_by_refresh_hash(conn, secret_digest(refresh_token))
        if old is None or old.app_id != app.id or old.revoked_at is not None:
            raise _invalid_grant("the refresh token is invalid, revoked, or another client's")
        scopes = parse_scopes(scope, default=tuple(old.scopes))
        _check_subset(scopes, old.scopes)
        if not await oauth_db.revoke_token(conn, old.id):
            raise _invalid_grant("the refresh token was already used")
        return await _issue(conn, app, user_id=old.user_id, scopes=scopes)


async def revoke_token(db: Executor, app: OAuthApp, token: str | None) -> None:
    """RFC 7009: revoke an access or refresh token of ``app``. Unknown tokens are not an
    error; another app's token is ``PermissionDenied(unauthorized_client)``."""
    if not token:
        return
    digest = secret_digest(token)
    found = await oauth_db.get_token_by_hash(db, digest)
    if found is None:
        found = await oauth_db.get_token_by_refresh_hash(db, digest)
    if found is None:
        return
    if found.app_id != app.id:
        raise PermissionDenied(
            "you are not authorized to revoke this token", reason="unauthorized_client"
        )
    await oauth_db.revoke_token(db, found.id)


# --------------------------------------------------------------------------- API requests

_TOUCH_EVERY: Final = timedelta(minutes=5)


async def authenticate_token(db: Executor, access_token: str) -> Credentials:
    """The credentials behind a bearer token; ``Unauthorized`` (401) when it is unknown or
    revoked, or its member can no longer log in."""
    found = await oauth_db.get_token_with_bearer(db, secret_digest(access_token))
    if found is None:
        raise Unauthorized("The access token is invalid", reason="invalid_token")
    token, app, user, actor = found.token, found.app, found.user, found.actor
    if token.revoked_at is not None:
        raise Unauthorized("The access token was revoked", reason="invalid_token")
    if token.user_id is not None and (user is None or actor is None):
        raise Unauthorized("The access token is invalid", reason="invalid_token")
    credentials = Credentials(token=token, app=app, user=user, actor=actor, version=found.version)
    if credentials.touch_due(datetime.now(UTC)):
        await oauth_db.touch_token(db, token.id)
        # the row just written has a new version, which this process has not read
        credentials = replace(credentials, version="")
    return credentials
