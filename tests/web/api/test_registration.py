"""``POST /api/v1/accounts``: registration modes, the Token, and Mastodon's 422 details."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedinet.db import instance as instance_db
from fedinet.runtime import Runtime
from tests.web.api.conftest import Member, bearer, register
from tests.web.api.schema import assert_matches

SIGN_UP = {
    "username": "newbie",
    "email": "newbie@example.org",
    "password": "a long enough password",
    "agreement": "true",
    "locale": "en",
    "reason": "I like the notes",
}


async def app_token(client: httpx.AsyncClient, scope: str = "read write follow") -> str:
    app = await register(client)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def password_login(client: httpx.AsyncClient) -> httpx.Response:
    app = await register(client)
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": SIGN_UP["email"],
            "password": SIGN_UP["password"],
        },
    )


async def sign_up(client: httpx.AsyncClient, token: str, **changes: Any) -> httpx.Response:
    return await client.post("/api/v1/accounts", headers=bearer(token), data={**SIGN_UP, **changes})


async def test_open_registration_returns_a_working_token(client: httpx.AsyncClient) -> None:
    token = await app_token(client)
    response = await sign_up(client, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches("Token", body)
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write follow"
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"])
    )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "newbie"
    assert me.json()["source"]["language"] == "en"
    # The new member can log in with the password too.
    assert (await password_login(client)).status_code == 200


async def test_approval_mode_creates_a_pending_member(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", "approved")
    token = await app_token(client)
    response = await sign_up(client, token)
    assert response.status_code == 200, response.text
    pending = response.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(pending))
    assert me.status_code == 403
    assert "pending approval" in me.json()["error"]
    login = await password_login(client)
    assert login.status_code == 400
    assert login.json()["error"] == "invalid_grant"
    row = await runtime.pool.fetchrow(
        "SELECT approved, registration_reason, locale FROM users WHERE email = $1",
        SIGN_UP["email"],
    )
    assert dict(row) == {
        "approved": False,
        "registration_reason": "I like the notes",
        "locale": "en",
    }
    # Not an account anyone can see yet.
    lookup = await client.get("/api/v1/accounts/lookup", params={"acct": "newbie"})
    assert lookup.status_code == 404


@pytest.mark.parametrize("mode", ["closed", "none", "invite"])
async def test_closed_registrations_are_403(
    client: httpx.AsyncClient, runtime: Runtime, mode: str
) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", mode)
    token = await app_token(client)
    response = await sign_up(client, token)
    assert response.status_code == 403
    assert response.json()["error"] == "This action is not allowed"
    assert await runtime.pool.fetchval("SELECT count(*) FROM users") == 0


async def test_registration_needs_an_app_token_with_write_accounts(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/api/v1/accounts", data=SIGN_UP)).status_code == 401
    assert (await sign_up(client, "not-a-token")).status_code == 401
    read_only = await app_token(client, scope="read")
    assert (await sign_up(client, read_only)).status_code == 403
    narrow = await app_token(client, scope="write:accounts")
    assert (await sign_up(client, narrow)).status_code == 200


async def test_validation_errors_have_mastodon_details(
    client: httpx.AsyncClient, alice: Member
) -> None:
    token = await app_token(client)
    response = await sign_up(
        client,
        token,
        username="bad name!",
        email="not-an-email",
        password="short",
        agreement="false",
        locale="???",
    )
    assert response.status_code == 422
    body = response.json()
    assert_matches("ValidationError", body)
    assert body["error"].startswith("Validation failed: ")
    codes = {field: [e["error"] for e in errors] for field, errors in body["details"].items()}
    assert codes == {
        "username": ["ERR_INVALID"],
        "email": ["ERR_INVALID"],
        "password": ["ERR_TOO_SHORT"],
        "agreement": ["ERR_ACCEPTED"],
        "locale": ["ERR_INCLUSION"],
    }

    taken = await sign_up(client, token, username="Alice", email="alice@example.org")
    assert taken.status_code == 422
    assert taken.json()["details"] == {
        "username": [{"error": "ERR_TAKEN", "description": "has already been taken"}],
        "email": [{"error": "ERR_TAKEN", "description": "has already been taken"}],
    }
    reserved = await sign_up(client, token, username="admin")
    assert reserved.json()["details"]["username"][0]["error"] == "ERR_RESERVED"
    blank = await client.post("/api/v1/accounts", headers=bearer(token), data={})
    assert blank.status_code == 422
    assert {f: e[0]["error"] for f, e in blank.json()["details"].items()} == {
        "username": "ERR_BLANK",
        "email": "ERR_BLANK",
        "password": "ERR_BLANK",
        "agreement": "ERR_ACCEPTED",
    }


async def test_sign_ups_are_limited_per_address(client: httpx.AsyncClient) -> None:
    """Five sign-up attempts per address in 30 minutes, as Mastodon's API allows."""
    token = await app_token(client)
    for i in range(5):
        attempt = await sign_up(client, token, username=f"user{i}", email=f"u{i}@example.org")
        assert attempt.status_code == 200, attempt.text
    refused = await sign_up(client, token, username="user5", email="u5@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
