"""Accounts: verify_credentials, by id, lookup — and the Account entity's counts."""

from __future__ import annotations

from typing import Any

import httpx

from fedinet.config import Settings
from fedinet.db.actors import upsert_remote_actor
from fedinet.models import Actor
from fedinet.runtime import Runtime
from tests.web.api.conftest import Member, bearer, make_member, password_token, register
from tests.web.api.schema import assert_matches


async def remote_actor(runtime: Runtime) -> Actor:
    return await upsert_remote_actor(
        runtime.pool,
        uri="https://remote.example/users/Carol",
        username="Carol",
        domain="remote.example",
        display_name="Carol C",
        summary="<p>Hello</p>",
        url="https://remote.example/@Carol",
        avatar_url="https://remote.example/avatar.png",
        fields=[{"name": "Site", "value": "<a href='https://c.example'>c</a>"}],
        manually_approves_followers=True,
        actor_type="Service",
    )


async def test_verify_credentials(
    client: httpx.AsyncClient, oauth_app: dict[str, Any], alice: Member
) -> None:
    token = await password_token(client, oauth_app, alice)
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert_matches("CredentialAccount", body)
    assert body["id"] == str(alice.actor.id)
    assert body["acct"] == "alice"
    assert body["url"] == "https://fedinet.test/@alice"
    assert body["avatar"] == "https://fedinet.test/avatars/original/missing.png"
    assert body["source"]["privacy"] == "public"
    assert body["source"]["follow_requests_count"] == 0
    assert body["role"]["name"] == "Owner"  # alice is an admin
    assert body["created_at"].endswith("T00:00:00.000Z")


async def test_get_local_and_remote_accounts(
    client: httpx.AsyncClient, runtime: Runtime, alice: Member
) -> None:
    local = await client.get(f"/api/v1/accounts/{alice.actor.id}")
    assert local.status_code == 200
    assert_matches("Account", local.json())
    assert "source" not in local.json()
    carol = await remote_actor(runtime)
    remote = await client.get(f"/api/v1/accounts/{carol.id}")
    body = remote.json()
    assert_matches("Account", body)
    assert body["acct"] == "Carol@remote.example"
    assert body["username"] == "Carol"
    assert body["bot"] is True
    assert body["locked"] is True
    assert body["avatar"] == "https://remote.example/avatar.png"
    assert body["header"] == "https://fedinet.test/headers/original/missing.png"
    assert body["fields"][0]["name"] == "Site"
    assert body["note"] == "<p>Hello</p>"


async def test_unknown_accounts_are_404(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    for path in ("/api/v1/accounts/999999", "/api/v1/accounts/abc", "/api/v1/accounts/" + "9" * 25):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "Record not found"
    instance_actor = runtime.instance_actor.id
    assert (await client.get(f"/api/v1/accounts/{instance_actor}")).status_code == 404
    bob = await make_member(runtime, settings, "bob")
    await runtime.pool.execute("UPDATE actors SET deleted_at = now() WHERE id = $1", bob.actor.id)
    assert (await client.get(f"/api/v1/accounts/{bob.actor.id}")).status_code == 404


async def test_suspended_account_shows_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    carol = await remote_actor(runtime)
    await runtime.pool.execute("UPDATE actors SET suspended_at = now() WHERE id = $1", carol.id)
    body = (await client.get(f"/api/v1/accounts/{carol.id}")).json()
    assert_matches("Account", body)
    assert body["suspended"] is True
    assert body["display_name"] == "" and body["note"] == "" and body["fields"] == []


async def test_lookup(client: httpx.AsyncClient, runtime: Runtime, alice: Member) -> None:
    await remote_actor(runtime)
    for acct, expected in [
        ("alice", "alice"),
        ("ALICE", "alice"),
        ("alice@fedinet.test", "alice"),
        ("@alice@fedinet.test", "alice"),
        ("carol@remote.example", "Carol@remote.example"),
        ("Carol@REMOTE.example", "Carol@remote.example"),
    ]:
        response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert response.status_code == 200, acct
        assert response.json()["acct"] == expected
    for acct in ("nobody", "carol@elsewhere.example", "", "@"):
        response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert response.status_code == 404, acct


async def test_token_on_public_account_endpoints_needs_read_scope(
    client: httpx.AsyncClient, alice: Member
) -> None:
    app = await register(client, scopes="write read")
    write_only = await password_token(client, app, alice, scope="write")
    path = f"/api/v1/accounts/{alice.actor.id}"
    assert (await client.get(path, headers=bearer(write_only))).status_code == 403
    assert (await client.get(path, headers=bearer("bogus"))).status_code == 401
    reader = await password_token(client, app, alice, scope="read")
    assert (await client.get(path, headers=bearer(reader))).status_code == 200


async def test_counts(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    bob = await make_member(runtime, settings, "bob")
    carol = await remote_actor(runtime)
    db = runtime.pool
    follows = [
        (bob.actor.id, alice.actor.id, "accepted"),
        (carol.id, alice.actor.id, "accepted"),
        (alice.actor.id, carol.id, "accepted"),
        (alice.actor.id, bob.actor.id, "pending"),
    ]
    for i, (follower, followee, state) in enumerate(follows):
        await db.execute(
            "INSERT INTO follows (uri, follower_id, followee_id, state) VALUES ($1, $2, $3, $4)",
            f"https://fedinet.test/follows/{i}",
            follower,
            followee,
            state,
        )
    for i, visibility in enumerate(["public", "unlisted", "direct", "private"]):
        await db.execute(
            "INSERT INTO statuses (uri, actor_id, is_local, visibility, published) "
            "VALUES ($1, $2, true, $3, '2024-05-06T07:08:09Z')",
            f"https://fedinet.test/statuses/{i}",
            alice.actor.id,
            visibility,
        )
    body = (await client.get(f"/api/v1/accounts/{alice.actor.id}")).json()
    assert body["followers_count"] == 2
    assert body["following_count"] == 1
    assert body["statuses_count"] == 3  # direct messages are not counted
    assert body["last_status_at"] == "2024-05-06"
    bob_body = (await client.get(f"/api/v1/accounts/{bob.actor.id}")).json()
    assert (bob_body["followers_count"], bob_body["following_count"]) == (0, 1)
    assert bob_body["last_status_at"] is None
