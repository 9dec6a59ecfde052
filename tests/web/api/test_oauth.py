"""OAuth 2: app registration, the token endpoint's four grants, the authorization page,
revocation and metadata — every refusal checked for its status and OAuth error shape."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import oauth as oauth_db
from fedinet.runtime import Runtime
from tests.web.api.conftest import (
    PASSWORD,
    REDIRECT_URI,
    Member,
    bearer,
    make_member,
    password_token,
    register,
)
from tests.web.api.schema import assert_matches

OOB = "urn:ietf:wg:oauth:2.0:oob"


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert set(body) == {"error", "error_description"}
    assert_matches("Error", body)
    assert response.headers["cache-control"] == "no-store"


async def token_request(client: httpx.AsyncClient, **data: str) -> httpx.Response:
    return await client.post("/oauth/token", data=data)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --------------------------------------------------------------------------- apps


async def test_create_app_returns_a_credential_application(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/apps",
        data={
            "client_name": "Tusky",
            "redirect_uris": "https://tusky.example/cb\nurn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write push",
            "website": "https://tusky.example",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches("CredentialApplication", body)
    assert body["name"] == "Tusky"
    assert body["scopes"] == ["read", "write", "push"]
    assert body["redirect_uris"] == ["https://tusky.example/cb", OOB]
    assert body["redirect_uri"] == "https://tusky.example/cb\n" + OOB
    assert body["website"] == "https://tusky.example"
    assert len(body["client_id"]) >= 40 and len(body["client_secret"]) >= 40
    assert body["client_secret_expires_at"] == 0


async def test_create_app_defaults_and_other_encodings(client: httpx.AsyncClient) -> None:
    form_list = await client.post(
        "/api/v1/apps",
        data={"client_name": "A", "redirect_uris[]": ["myapp://oauth", "https://a.example/"]},
    )
    assert form_list.status_code == 200, form_list.text
    assert form_list.json()["redirect_uris"] == ["myapp://oauth", "https://a.example/"]
    assert form_list.json()["scopes"] == ["read"]
    as_json = await client.post(
        "/api/v1/apps",
        json={"client_name": "B", "redirect_uris": [OOB], "scopes": "read:accounts profile"},
    )
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["scopes"] == ["read:accounts", "profile"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"redirect_uris": OOB}, "client_name"),
        ({"client_name": "x"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": "/relative/path"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": "https://a.example/#frag"}, "redirect_uris"),
        ({"client_name": "x", "redirect_uris": OOB, "scopes": "read everything"}, "scopes"),
        ({"client_name": "x", "redirect_uris": OOB, "website": "ftp://x"}, "website"),
    ],
)
async def test_create_app_refuses_bad_input(
    client: httpx.AsyncClient, data: dict[str, str], field: str
) -> None:
    response = await client.post("/api/v1/apps", data=data)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert_matches("Error", response.json())


async def test_create_app_refuses_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/apps", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_app_verify_credentials(client: httpx.AsyncClient, oauth_app: dict[str, Any]) -> None:
    issued = await token_request(
        client,
        grant_type="client_credentials",
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
    )
    assert issued.status_code == 200
    assert "refresh_token" not in issued.json()
    response = await client.get(
        "/api/v1/apps/verify_credentials", headers=bearer(issued.json()["access_token"])
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches("Application", body)
    assert body["name"] == "Test client"
    assert "client_secret" not in body
    anonymous = await client.get("/api/v1/apps/verify_credentials")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "The access token is invalid"


# --------------------------------------------------------------------------- token


async def test_password_grant_accepts_email_and_username(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    for login in (alice.email, "alice", "ALICE@example.org"):
        response = await token_request(
            client,
            grant_type="password",
            client_id=oauth_app["client_id"],
            client_secret=oauth_app["client_secret"],
            username=login,
            password=PASSWORD,
            scope="read write",
        )
        assert response.status_code == 200, (login, response.text)
        body = response.json()
        assert_matches("Token", body)
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "read write"
        assert isinstance(body["created_at"], int)
        assert body["refresh_token"]
        assert response.headers["cache-control"] == "no-store"


async def test_password_grant_default_scope_is_read(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    response = await token_request(
        client,
        grant_type="password",
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
        username=alice.email,
        password=PASSWORD,
    )
    assert response.json()["scope"] == "read"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice@example.org", "wrong password!"), ("nobody@example.org", PASSWORD), ("", "")],
)
@pytest.mark.usefixtures("alice")
async def test_wrong_password_is_invalid_grant(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], username: str, password: str
) -> None:
    response = await token_request(
        client,
        grant_type="password",
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
        username=username,
        password=password,
    )
    # RFC 6749 §5.2 and Doorkeeper (so Mastodon): invalid_grant is a 400.
    assert_oauth_error(response, 400, "invalid_grant")


@pytest.mark.usefixtures("alice")
async def test_bad_client_credentials_are_invalid_client(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    common = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    for client_id, client_secret in [
        (oauth_app["client_id"], "not-the-secret"),
        ("no-such-client", oauth_app["client_secret"]),
        (oauth_app["client_id"], ""),
    ]:
        response = await token_request(
            client, client_id=client_id, client_secret=client_secret, **common
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_client_secret_basic(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    auth = httpx.BasicAuth(oauth_app["client_id"], oauth_app["client_secret"])
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": alice.email, "password": PASSWORD},
        auth=auth,
    )
    assert response.status_code == 200, response.text
    wrong = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(oauth_app["client_id"], "nope"),
    )
    assert_oauth_error(wrong, 401, "invalid_client")


async def test_grant_type_errors(client: httpx.AsyncClient, oauth_app: dict[str, Any]) -> None:
    creds = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    assert_oauth_error(await token_request(client, **creds), 400, "invalid_request")
    assert_oauth_error(
        await token_request(client, grant_type="implicit", **creds), 400, "unsupported_grant_type"
    )


@pytest.mark.usefixtures("alice")
async def test_scopes_must_be_known_and_within_the_apps(client: httpx.AsyncClient) -> None:
    app = await register(client, scopes="read")
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    login = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    for scope in ("write", "read admin:read", "everything"):
        response = await token_request(client, scope=scope, **creds, **login)
        assert_oauth_error(response, 400, "invalid_scope")
    narrower = await token_request(client, scope="read:accounts", **creds, **login)
    assert narrower.status_code == 200
    assert narrower.json()["scope"] == "read:accounts"


async def test_client_credentials_token_has_no_user(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    issued = await token_request(
        client,
        grant_type="client_credentials",
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
        scope="read",
    )
    response = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(issued.json()["access_token"])
    )
    assert response.status_code == 422
    assert response.json()["error"] == "This method requires an authenticated user"


async def test_refresh_token_rotates(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    creds = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    first = await token_request(
        client,
        grant_type="password",
        username=alice.email,
        password=PASSWORD,
        scope="read write",
        **creds,
    )
    old = first.json()
    refreshed = await token_request(
        client, grant_type="refresh_token", refresh_token=old["refresh_token"], **creds
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["scope"] == "read write"
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    gone = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(old["access_token"])
    )
    assert gone.status_code == 401
    works = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(new["access_token"])
    )
    assert works.status_code == 200
    again = await token_request(
        client, grant_type="refresh_token", refresh_token=old["refresh_token"], **creds
    )
    assert_oauth_error(again, 400, "invalid_grant")
    wider = await token_request(
        client,
        grant_type="refresh_token",
        refresh_token=new["refresh_token"],
        scope="read write follow",
        **creds,
    )
    assert_oauth_error(wider, 400, "invalid_scope")
    other_app = await register(client)
    stolen = await token_request(
        client,
        grant_type="refresh_token",
        refresh_token=new["refresh_token"],
        client_id=other_app["client_id"],
        client_secret=other_app["client_secret"],
    )
    assert_oauth_error(stolen, 400, "invalid_grant")


# --------------------------------------------------------------------------- revoke


async def test_revoke(client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member) -> None:
    token = await password_token(client, oauth_app, alice)
    assert (
        await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    ).status_code == 200
    creds = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    other = await register(client)
    refused = await client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
        },
    )
    assert_oauth_error(refused, 403, "unauthorized_client")
    bad_client = await client.post(
        "/oauth/revoke", data={"token": token, "client_id": creds["client_id"]}
    )
    assert_oauth_error(bad_client, 401, "invalid_client")
    revoked = await client.post("/oauth/revoke", data={"token": token, **creds})
    assert revoked.status_code == 200
    assert revoked.json() == {}
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == "The access token was revoked"
    unknown = await client.post("/oauth/revoke", data={"token": "never-issued", **creds})
    assert unknown.status_code == 200
    assert unknown.json() == {}


# --------------------------------------------------------------------------- authorize


def csrf_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))


async def authorize_params(
    app: dict[str, Any], *, redirect_uri: str = REDIRECT_URI, **extra: str
) -> dict[str, str]:
    return {
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "read write",
        "state": "xyz 123",
        **extra,
    }


async def log_in_and_consent(
    client: httpx.AsyncClient,
    params: dict[str, str],
    *,
    username: str = "alice",
    password: str = PASSWORD,
    decision: str = "approve",
) -> httpx.Response:
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = {**hidden_fields(page), "decision": decision}
    if 'name="password"' in page.text:
        form.update(username=username, password=password)
    return await client.post("/oauth/authorize", data=form)


@pytest.mark.usefixtures("alice")
async def test_authorization_code_flow_with_pkce(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    verifier, challenge = pkce_pair()
    params = await authorize_params(
        oauth_app, code_challenge=challenge, code_challenge_method="S256"
    )
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    assert "Test client" in page.text and 'name="password"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "no-store" in page.headers["cache-control"]
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/oauth" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower()

    redirect = await log_in_and_consent(client, params)
    assert redirect.status_code == 302, redirect.text
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 123"]
    code = query["code"][0]

    creds = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    wrong_verifier = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=pkce_pair()[0],
        **creds,
    )
    assert_oauth_error(wrong_verifier, 400, "invalid_grant")

    # The failed attempt did not burn the code (the transaction rolled back).
    issued = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
        **creds,
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["scope"] == "read write"
    token = issued.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.json()["username"] == "alice"

    replay = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
        **creds,
    )
    assert_oauth_error(replay, 400, "invalid_grant")
    # A replayed code revokes what it gave.
    after = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert after.status_code == 401


@pytest.mark.usefixtures("alice")
async def test_code_exchange_refusals(client: httpx.AsyncClient, oauth_app: dict[str, Any]) -> None:
    creds = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    verifier, challenge = pkce_pair()
    with_pkce = await authorize_params(
        oauth_app, code_challenge=challenge, code_challenge_method="S256"
    )
    code = parse_qs(
        urlsplit((await log_in_and_consent(client, with_pkce)).headers["location"]).query
    )["code"][0]
    missing_verifier = await token_request(
        client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, **creds
    )
    assert_oauth_error(missing_verifier, 400, "invalid_grant")
    other_redirect = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://client.example/other",
        code_verifier=verifier,
        **creds,
    )
    assert_oauth_error(other_redirect, 400, "invalid_grant")
    other_app = await register(client)
    stolen = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
        client_id=other_app["client_id"],
        client_secret=other_app["client_secret"],
    )
    assert_oauth_error(stolen, 400, "invalid_grant")
    bogus = await token_request(
        client, grant_type="authorization_code", code="made-up", redirect_uri=REDIRECT_URI, **creds
    )
    assert_oauth_error(bogus, 400, "invalid_grant")
    missing = await token_request(
        client, grant_type="authorization_code", redirect_uri=REDIRECT_URI, **creds
    )
    assert_oauth_error(missing, 400, "invalid_request")
    plain = await authorize_params(oauth_app)
    plain_code = parse_qs(
        urlsplit((await log_in_and_consent(client, plain)).headers["location"]).query
    )["code"][0]
    unexpected_verifier = await token_request(
        client,
        grant_type="authorization_code",
        code=plain_code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
        **creds,
    )
    assert_oauth_error(unexpected_verifier, 400, "invalid_grant")


async def test_authorize_refuses_unknown_clients_and_redirects_without_redirecting(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    unknown = await client.get(
        "/oauth/authorize",
        params={"client_id": "nope", "redirect_uri": REDIRECT_URI, "response_type": "code"},
    )
    assert unknown.status_code == 400
    assert "location" not in unknown.headers
    assert "no application with this client_id" in unknown.text
    evil = await client.get(
        "/oauth/authorize",
        params=await authorize_params(oauth_app, redirect_uri="https://evil.example/"),
    )
    assert evil.status_code == 400
    assert "location" not in evil.headers
    assert "not one the application registered" in evil.text


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"scope": "admin:write"}, "invalid_scope"),
        ({"scope": "nonsense"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "a" * 43}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
async def test_authorize_reports_other_errors_to_the_client(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], extra: dict[str, str], error: str
) -> None:
    response = await client.get(
        "/oauth/authorize", params=await authorize_params(oauth_app, **extra)
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert query["error"] == [error]
    assert query["state"] == ["xyz 123"]
    assert query["error_description"]


@pytest.mark.usefixtures("alice")
async def test_authorize_post_needs_the_csrf_token(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    params = await authorize_params(oauth_app)
    page = await client.get("/oauth/authorize", params=params)
    form = {**hidden_fields(page), "username": "alice", "password": PASSWORD}
    form_without = {k: v for k, v in form.items() if k != "csrf_token"}
    assert (await client.post("/oauth/authorize", data=form_without)).status_code == 403
    forged = {**form, "csrf_token": "forged"}
    assert (await client.post("/oauth/authorize", data=forged)).status_code == 403
    # A token is bound to its cookie: another browser's token does not work here.
    client.cookies.clear()
    refused = await client.post("/oauth/authorize", data=form)
    assert refused.status_code == 403
    assert "code=" not in refused.headers.get("location", "")


@pytest.mark.usefixtures("alice")
async def test_wrong_password_on_the_page_gives_no_code(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    response = await log_in_and_consent(
        client, await authorize_params(oauth_app), password="not it at all"
    )
    assert response.status_code == 401
    assert "location" not in response.headers
    assert "Invalid email/username or password." in response.text
    assert 'name="password"' in response.text


@pytest.mark.usefixtures("alice")
async def test_deny_redirects_with_access_denied(
    client: httpx.AsyncClient, oauth_app: dict[str, Any]
) -> None:
    response = await log_in_and_consent(client, await authorize_params(oauth_app), decision="deny")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["access_denied"]
    assert "code" not in query


@pytest.mark.usefixtures("alice")
async def test_oob_shows_the_code(client: httpx.AsyncClient) -> None:
    app = await register(client, redirect_uris=OOB, scopes="read")
    params = await authorize_params(app, redirect_uri=OOB, scope="read")
    page = await log_in_and_consent(client, params)
    assert page.status_code == 200
    code = re.search(r'<code class="oauth-code" id="oauth-code">([^<]+)</code>', page.text)
    assert code
    issued = await token_request(
        client,
        grant_type="authorization_code",
        code=code.group(1),
        redirect_uri=OOB,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    assert issued.status_code == 200, issued.text


@pytest.mark.usefixtures("alice")
async def test_session_cookie_skips_login_unless_force_login(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], runtime: Runtime, settings: Settings
) -> None:
    params = await authorize_params(oauth_app)
    assert (await log_in_and_consent(client, params)).status_code == 302
    again = await client.get("/oauth/authorize", params=params)
    assert 'name="password"' not in again.text
    assert "Logged in as <strong>@alice</strong>" in again.text
    consent_only = await client.post(
        "/oauth/authorize", data={**hidden_fields(again), "decision": "approve"}
    )
    assert consent_only.status_code == 302
    assert "code=" in consent_only.headers["location"]
    forced = await client.get("/oauth/authorize", params={**params, "force_login": "true"})
    assert 'name="password"' in forced.text
    forced_post = await client.post(
        "/oauth/authorize", data={**hidden_fields(forced), "decision": "approve"}
    )
    assert forced_post.status_code == 401  # force_login carried in the form: no password
    # A forged session cookie is ignored.
    client.cookies.set("fedinet_oauth_session", "1.99999999999.forged", path="/oauth")
    forged = await client.get("/oauth/authorize", params=params)
    assert 'name="password"' in forged.text


async def test_authorization_page_escapes_what_the_client_sent(
    client: httpx.AsyncClient,
) -> None:
    app = await register(client, name="<script>alert(1)</script>")
    page = await client.get("/oauth/authorize", params=await authorize_params(app))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    crafted = await client.get(
        "/oauth/authorize", params=await authorize_params(app, state='"><img src=x>')
    )
    assert '"><img src=x>' not in crafted.text


# --------------------------------------------------------------------------- scopes


async def test_scope_enforcement(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    for scope, status in [
        ("write", 403),
        ("push", 403),
        ("read", 200),
        ("read:accounts", 200),
        ("profile", 200),
        ("read:statuses", 403),
    ]:
        app = await register(client, scopes=scope)
        token = await password_token(client, app, alice, scope=scope)
        response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert response.status_code == status, (scope, response.text)
        if status == 403:
            assert response.json()["error"] == "This action is outside the authorized scopes"


async def test_bad_tokens_are_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "The access token is invalid"


async def test_token_in_query_parameter(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    token = await password_token(client, oauth_app, alice)
    response = await client.get(
        "/api/v1/accounts/verify_credentials", params={"access_token": token}
    )
    assert response.status_code == 200


async def test_suspended_member_cannot_use_their_token(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], runtime: Runtime, settings: Settings
) -> None:
    bob = await make_member(runtime, settings, "bob")
    token = await password_token(client, oauth_app, bob)
    await runtime.pool.execute("UPDATE actors SET suspended_at = now() WHERE id = $1", bob.actor.id)
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["error"] == "Your login is currently disabled"
    login = await token_request(
        client,
        grant_type="password",
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
        username=bob.email,
        password=PASSWORD,
    )
    assert_oauth_error(login, 400, "invalid_grant")


# --------------------------------------------------------------------------- metadata


async def test_authorization_server_metadata(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = response.json()
    assert_matches("DiscoverOauthServerConfigurationResponse", body)
    assert body["issuer"] == "https://fedinet.test/"
    assert body["token_endpoint"] == "https://fedinet.test/oauth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "password",
        "client_credentials",
        "refresh_token",
    }
    assert "read:statuses" in body["scopes_supported"]


async def test_userinfo(client: httpx.AsyncClient, alice: Member) -> None:
    app = await register(client, scopes="profile read")
    token = await password_token(client, app, alice, scope="profile")
    response = await client.get("/oauth/userinfo", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == alice.actor.uri
    assert body["preferred_username"] == "alice"
    read_only = await password_token(client, app, alice, scope="read")
    assert (await client.get("/oauth/userinfo", headers=bearer(read_only))).status_code == 403


async def test_expired_codes_are_refused_and_purged(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member, runtime: Runtime
) -> None:
    location = (await log_in_and_consent(client, await authorize_params(oauth_app))).headers[
        "location"
    ]
    code = parse_qs(urlsplit(location).query)["code"][0]
    await runtime.pool.execute("UPDATE oauth_codes SET expires_at = now() - interval '2 days'")
    expired = await token_request(
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        client_id=oauth_app["client_id"],
        client_secret=oauth_app["client_secret"],
    )
    assert_oauth_error(expired, 400, "invalid_grant")
    assert await oauth_db.delete_expired_codes(runtime.pool) == 1
