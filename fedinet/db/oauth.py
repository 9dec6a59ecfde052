"""Named queries for OAuth: applications, authorization codes and access tokens.

Secrets are never stored: callers pass SHA-256 hex digests (``*_hash``) and look rows up
by digest. The row dataclasses live here, next to the only code that builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor, Record
from fedinet.models import Actor, User

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "AuthorizedApp",
    "BearerToken",
    "OAuthApp",
    "consume_code",
    "credentials_version",
    "delete_expired_codes",
    "get_app_by_client_id",
    "get_app_by_id",
    "get_code_by_hash",
    "get_token_by_hash",
    "get_token_by_refresh_hash",
    "get_token_with_bearer",
    "get_user_by_id",
    "insert_app",
    "insert_code",
    "insert_token",
    "list_authorized_apps",
    "record_login",
    "revoke_app_for_user",
    "revoke_token",
    "revoke_tokens_for_code",
    "revoke_tokens_for_user",
    "touch_token",
]


@dataclass(frozen=True, slots=True)
class OAuthApp:
    id: int
    client_id: str
    client_secret_hash: str
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    website: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    """An application holding live tokens of a member, with what they allow."""

    app_id: int
    name: str
    website: str | None
    scopes: list[str]
    """Every scope any of its live tokens carries."""
    tokens: int
    authorized_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    id: int
    code_hash: str
    app_id: int
    user_id: int
    scopes: list[str]
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: datetime
    used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccessToken:
    id: int
    token_hash: str
    refresh_token_hash: str | None
    app_id: int
    user_id: int | None
    """``None`` for a client_credentials token: it acts as the application alone."""
    code_id: int | None
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _app(row: Record) -> OAuthApp:
    return OAuthApp(**dict(row))


def _code(row: Record) -> AuthorizationCode:
    return AuthorizationCode(**dict(row))


def _token(row: Record) -> AccessToken:
    return AccessToken(**dict(row))


# --------------------------------------------------------------------------- applications


async def insert_app(
    db: Executor,
    *,
    client_id: str,
    client_secret_hash: str,
    name: str,
    redirect_uris: list[str],
    scopes: list[str],
    website: str | None,
) -> OAuthApp:
    row = await db.fetchrow(
        "INSERT INTO oauth_apps (client_id, client_secret_hash, name, redirect_uris, scopes, "
        "website) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        client_id,
        client_secret_hash,
        name,
        redirect_uris,
        scopes,
        website,
    )
    assert row is not None
    return _app(row)


async def get_app_by_client_id(db: Executor, client_id: str) -> OAuthApp | None:
    row = await db.fetchrow("SELECT * FROM oauth_apps WHERE client_id = $1", client_id)
    return None if row is None else _app(row)


async def get_app_by_id(db: Executor, app_id: int) -> OAuthApp | None:
    row = await db.fetchrow("SELECT * FROM oauth_apps WHERE id = $1", app_id)
    return None if row is None else _app(row)


# --------------------------------------------------------------------------- codes


async def insert_code(
    db: Executor,
    *,
    code_hash: str,
    app_id: int,
    user_id: int,
    scopes: list[str],
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
    ttl_seconds: int,
) -> AuthorizationCode:
    row = await db.fetchrow(
        """
        INSERT INTO oauth_codes (code_hash, app_id, user_id, scopes, redirect_uri,
                                 code_challenge, code_challenge_method, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))
        RETURNING *
        """,
        code_hash,
        app_id,
        user_id,
        scopes,
        redirect_uri,
        code_challenge,
        code_challenge_method,
        float(ttl_seconds),
    )
    assert row is not None
    return _code(row)


async def consume_code(db: Executor, code_hash: str, app_id: int) -> AuthorizationCode | None:
    """Mark an unexpired, unused code of ``app_id`` used and return it; ``None`` when there
    is no such code (unknown, another app's, expired or already used). Atomic: of two
    concurrent redemptions only one gets the code."""
    row = await db.fetchrow(
        "UPDATE oauth_codes SET used_at = now() "
        "WHERE code_hash = $1 AND app_id = $2 AND used_at IS NULL AND expires_at > now() "
        "RETURNING *",
        code_hash,
        app_id,
    )
    return None if row is None else _code(row)


async def delete_expired_codes(db: Executor, *, grace_seconds: int = 86400) -> int:
    """Delete codes expired for longer than ``grace_seconds`` (kept that long so that a
    late replay is still recognised and revokes its token). For a periodic worker."""
    status = await db.execute(
        "DELETE FROM oauth_codes WHERE expires_at < now() - make_interval(secs => $1)",
        float(grace_seconds),
    )
    return int(status.rsplit(" ", 1)[-1])


async def get_code_by_hash(db: Executor, code_hash: str) -> AuthorizationCode | None:
    row = await db.fetchrow("SELECT * FROM oauth_codes WHERE code_hash = $1", code_hash)
    return None if row is None else _code(row)


# --------------------------------------------------------------------------- tokens


async def insert_token(
    db: Executor,
    *,
    token_hash: str,
    refresh_token_hash: str | None,
    app_id: int,
    user_id: int | None,
    scopes: list[str],
    code_id: int | None = None,
) -> AccessToken:
    row = await db.fetchrow(
        "INSERT INTO oauth_tokens (token_hash, refresh_token_hash, app_id, user_id, scopes, "
        "code_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        token_hash,
        refresh_token_hash,
        app_id,
        user_id,
        scopes,
        code_id,
    )
    assert row is not None
    return _token(row)


async def get_token_by_hash(db: Executor, token_hash: str) -> AccessToken | None:
    """The token whatever its state (revoked ones included: callers say why they refuse)."""
    row = await db.fetchrow("SELECT * FROM oauth_tokens WHERE token_hash = $1", token_hash)
    return None if row is None else _token(row)


_BEARER_LOOKUP_SQL = """
    SELECT t.id AS t_id, t.token_hash AS t_token_hash,
           t.refresh_token_hash AS t_refresh_token_hash, t.app_id AS t_app_id,
           t.user_id AS t_user_id, t.code_id AS t_code_id, t.scopes AS t_scopes,
           t.created_at AS t_created_at, t.revoked_at AS t_revoked_at,
           t.last_used_at AS t_last_used_at,
           a.id AS a_id, a.client_id AS a_client_id,
           a.client_secret_hash AS a_client_secret_hash, a.name AS a_name,
           a.redirect_uris AS a_redirect_uris, a.scopes AS a_scopes,
           a.website AS a_website, a.created_at AS a_created_at,
           u.id AS u_id, u.actor_id AS u_actor_id, u.email::text AS u_email,
           u.password_hash AS u_password_hash, u.is_admin AS u_is_admin,
           u.approved AS u_approved, u.locale AS u_locale, u.created_at AS u_created_at,
           u.last_login_at AS u_last_login_at, u.private_motives AS u_private_motives,
           u.follow_note_policy AS u_follow_note_policy,
           u.registration_reason AS u_registration_reason,
           concat_ws(' ', t.xmin, a.xmin, u.xmin, c.xmin) AS version,
           c.*
    FROM oauth_tokens t
    JOIN oauth_apps a ON a.id = t.app_id
    LEFT JOIN users u ON u.id = t.user_id
    LEFT JOIN actors c ON c.id = u.actor_id
    WHERE t.token_hash = $1
"""


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A token as :func:`get_token_with_bearer` finds it. ``version`` changes whenever
    one of its four rows is written (revoked, touched, the member suspended or
    approved, …): the xmins of the rows (the transactions that last wrote them; every
    UPDATE writes a new row version). ``timelines.home_page`` reads the same version of
    a token it was handed, to check it in the same statement."""

    token: AccessToken
    app: OAuthApp
    user: User | None
    actor: Actor | None
    version: str


async def credentials_version(db: Executor, token_id: int) -> str | None:
    """The current :attr:`BearerToken.version` of token ``token_id`` (None once deleted)."""
    version: str | None = await db.fetchval(
        """
        SELECT concat_ws(' ', t.xmin, a.xmin, u.xmin, c.xmin)
        FROM oauth_tokens t
        JOIN oauth_apps a ON a.id = t.app_id
        LEFT JOIN users u ON u.id = t.user_id
        LEFT JOIN actors c ON c.id = u.actor_id
        WHERE t.id = $1
        """,
        token_id,
    )
    return version


async def get_token_with_bearer(db: Executor, token_hash: str) -> BearerToken | None:
    """The token (whatever its state), its application, and for a member's token the
    member and their actor, in one round trip (this runs on every API request)."""
    row = await db.fetchrow(_BEARER_LOOKUP_SQL, token_hash)
    if row is None:
        return None
    token: dict[str, object] = {}
    app: dict[str, object] = {}
    user: dict[str, object] = {}
    actor: dict[str, object] = {}
    for key, value in row.items():
        prefix = key[:2]
        if key == "version":
            continue
        if prefix == "t_":
            token[key[2:]] = value
        elif prefix == "a_":
            app[key[2:]] = value
        elif prefix == "u_":
            user[key[2:]] = value
        else:
            actor[key] = value
    return BearerToken(
        AccessToken(**token),  # type: ignore[arg-type]
        OAuthApp(**app),  # type: ignore[arg-type]
        None if user["id"] is None else User(**user),  # type: ignore[arg-type]
        None if actor["id"] is None else actor_from_row(actor),
        row["version"],
    )


async def get_token_by_refresh_hash(db: Executor, refresh_token_hash: str) -> AccessToken | None:
    row = await db.fetchrow(
        "SELECT * FROM oauth_tokens WHERE refresh_token_hash = $1", refresh_token_hash
    )
    return None if row is None else _token(row)


async def revoke_token(db: Executor, token_id: int) -> bool:
    """Revoke a token (and with it its refresh token); False if it already was."""
    status = await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return bool(status.endswith(" 1"))


async def revoke_tokens_for_code(db: Executor, code_id: int) -> int:
    """Revoke every token issued for an authorization code (used when it is replayed)."""
    status = await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE code_id = $1 AND revoked_at IS NULL",
        code_id,
    )
    return int(status.rsplit(" ", 1)[-1])


async def touch_token(db: Executor, token_id: int) -> None:
    """Record that a token was used (callers throttle how often they call this)."""
    await db.execute("UPDATE oauth_tokens SET last_used_at = now() WHERE id = $1", token_id)


async def record_login(db: Executor, user_id: int) -> None:
    """``users.last_login_at`` = now, after a password login (NodeInfo's active counts and
    the instance activity read it)."""
    await db.execute("UPDATE users SET last_login_at = now() WHERE id = $1", user_id)


async def get_user_by_id(db: Executor, user_id: int) -> User | None:
    """A member by ``users.id`` (tokens and codes refer to members by it)."""
    row = await db.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    if row is None:
        return None
    values = dict(row)
    values["email"] = str(values["email"])
    return User(**values)


async def revoke_tokens_for_user(db: Executor, user_id: int) -> int:
    """Revoke every access token of a member (suspension, new password); returns how many."""
    status = await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
    )
    return int(status.rsplit(" ", 1)[-1])


async def list_authorized_apps(db: Executor, user_id: int) -> list[AuthorizedApp]:
    """The applications with live (unrevoked) tokens of a member, most recently used first."""
    rows = await db.fetch(
        """
        SELECT a.id AS app_id, a.name, a.website,
               array(SELECT DISTINCT s FROM oauth_tokens t2, unnest(t2.scopes) AS s
                     WHERE t2.app_id = a.id AND t2.user_id = $1 AND t2.revoked_at IS NULL
                     ORDER BY s) AS scopes,
               count(*) AS tokens,
               min(t.created_at) AS authorized_at,
               max(t.last_used_at) AS last_used_at
        FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id
        WHERE t.user_id = $1 AND t.revoked_at IS NULL
        GROUP BY a.id
        ORDER BY max(coalesce(t.last_used_at, t.created_at)) DESC, a.id
        """,
        user_id,
    )
    return [
        AuthorizedApp(
            app_id=row["app_id"],
            name=row["name"],
            website=row["website"],
            scopes=list(row["scopes"]),
            tokens=int(row["tokens"]),
            authorized_at=row["authorized_at"],
            last_used_at=row["last_used_at"],
        )
        for row in rows
    ]


async def revoke_app_for_user(db: Executor, user_id: int, app_id: int) -> int:
    """Revoke every live token an application holds for a member; returns how many."""
    status = await db.execute(
        "UPDATE oauth_tokens SET revoked_at = now() "
        "WHERE user_id = $1 AND app_id = $2 AND revoked_at IS NULL",
        user_id,
        app_id,
    )
    return int(status.rsplit(" ", 1)[-1])
