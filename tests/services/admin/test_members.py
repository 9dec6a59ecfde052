"""Suspending, deleting and fixing members' accounts, seen through the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import interactions as interactions_db
from fedinet.db.timelines import public_timeline
from fedinet.errors import Conflict, NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.services.admin import members
from tests.services.admin._common import follow, remote, remote_status
from tests.web.api.conftest import (
    PASSWORD,
    bearer,
    build_app,
    make_member,
    register,
)

AP = "application/activity+json"


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as http:
        yield http


async def login(
    client: httpx.AsyncClient, app: dict[str, Any], email: str, password: str
) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": email,
            "password": password,
            "scope": "read",
        },
    )


async def me(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    return response.status_code


async def test_suspend_refuses_logins_and_tokens_until_lifted(
    runtime: Runtime, settings: Settings, client: httpx.AsyncClient
) -> None:
    dana = await make_member(runtime, settings, "dana")
    app = await register(client)
    token = (await login(client, app, dana.email, PASSWORD)).json()["access_token"]
    assert await me(client, token) == 200
    actor_url = dana.actor.uri

    reader = await make_member(runtime, settings, "reader")
    post = await remote_status(runtime, dana.actor)
    await interactions_db.add_to_home_feeds(runtime.pool, post.id, [reader.actor.id])
    everyone = {"local_only": False, "remote_only": False, "limit": 20}
    assert [s.id for s in await public_timeline(runtime.pool, **everyone)] == [post.id]

    async with runtime.pool.acquire() as conn:
        suspended = await members.suspend_member(conn, settings, "@dana")
        assert suspended.suspended_at is not None
        with pytest.raises(Conflict):
            await members.suspend_member(conn, settings, "dana")

    assert await me(client, token) == 401  # revoked
    assert await public_timeline(runtime.pool, **everyone) == []
    assert await runtime.pool.fetchval("SELECT count(*) FROM home_feed") == 0
    refused = await login(client, app, dana.email, PASSWORD)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    gone = await client.get(actor_url, headers={"Accept": AP})
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"

    async with runtime.pool.acquire() as conn:
        await members.unsuspend_member(conn, settings, f"dana@{settings.domain}")
        with pytest.raises(Conflict):
            await members.unsuspend_member(conn, settings, "dana")
    assert await me(client, token) == 401  # old tokens stay revoked
    again = await login(client, app, dana.email, PASSWORD)
    assert again.status_code == 200
    assert await me(client, again.json()["access_token"]) == 200
    assert (await client.get(actor_url, headers={"Accept": AP})).status_code == 200


async def test_delete_federates_a_delete_and_keeps_a_tombstone(
    runtime: Runtime, settings: Settings, client: httpx.AsyncClient
) -> None:
    ana = await make_member(runtime, settings, "ana")
    follower = await remote(runtime, "fan", "https://fans.example")
    followed = await remote(runtime, "star", "https://stars.example")
    await follow(runtime, follower, ana.actor)
    await follow(runtime, ana.actor, followed)
    own = await remote_status(runtime, ana.actor)

    async with runtime.pool.acquire() as conn:
        deleted = await members.delete_member(conn, settings, "ana")
    assert deleted.servers_notified == 2 and deleted.actor.deleted_at is not None

    rows = await runtime.pool.fetch(
        "SELECT d.inbox_uri, a.body FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert {r["inbox_uri"] for r in rows} == {follower.shared_inbox_uri, followed.shared_inbox_uri}
    for row in rows:
        assert row["body"]["type"] == "Delete" and row["body"]["object"] == ana.actor.uri
    assert await runtime.pool.fetchval("SELECT count(*) FROM follows") == 0
    status = await runtime.pool.fetchrow(
        "SELECT content, deleted_at FROM statuses WHERE id = $1", own.id
    )
    assert status["content"] == "" and status["deleted_at"] is not None
    gone = await client.get(ana.actor.uri, headers={"Accept": AP})
    assert gone.status_code == 410

    async with runtime.pool.acquire() as conn:
        with pytest.raises(NotFound):
            await members.delete_member(conn, settings, "ana")
        with pytest.raises(Conflict):  # the name is never handed out again
            await create_member(conn, settings, username="ana", email="new@example.org")
    app = await register(client)
    assert (await login(client, app, ana.email, PASSWORD)).status_code == 400


async def test_reset_password_revokes_tokens(
    runtime: Runtime, settings: Settings, client: httpx.AsyncClient
) -> None:
    eve = await make_member(runtime, settings, "eve")
    app = await register(client)
    token = (await login(client, app, eve.email, PASSWORD)).json()["access_token"]
    async with runtime.pool.acquire() as conn:
        with pytest.raises(ValidationError) as short:
            await members.reset_password(conn, settings, "eve", "short")
        assert short.value.field == "password"
        generated = await members.reset_password(conn, settings, "eve")
    assert generated is not None and len(generated) >= 16
    assert await me(client, token) == 401
    assert (await login(client, app, eve.email, PASSWORD)).status_code == 400
    assert (await login(client, app, eve.email, generated)).status_code == 200
    async with runtime.pool.acquire() as conn:
        assert await members.reset_password(conn, settings, "eve", "chosen password") is None
    assert (await login(client, app, eve.email, "chosen password")).status_code == 200


async def test_make_admin_and_unknown_members(runtime: Runtime, settings: Settings) -> None:
    await make_member(runtime, settings, "finn")
    async with runtime.pool.acquire() as conn:
        made = await members.set_member_admin(conn, settings, "FINN", admin=True)
        assert made.user.is_admin
        unmade = await members.set_member_admin(conn, settings, "finn", admin=False)
        assert not unmade.user.is_admin
        for name in ("nobody", "", "fedinet", "finn@elsewhere.example"):
            with pytest.raises(NotFound):
                await members.suspend_member(conn, settings, name)
