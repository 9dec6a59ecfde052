"""Blocked and muted accounts, mutes with duration, and a member's own domain blocks
hiding content from their timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from fedinet.config import Settings
from fedinet.db.actors import upsert_remote_actor
from fedinet.db.interactions import add_to_home_feeds, insert_notification
from fedinet.db.statuses import insert_status
from fedinet.runtime import Runtime
from tests.web.api.actions import accept, follow, link_ids, person, post, token_with
from tests.web.api.schema import assert_matches


async def _home(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/v1/timelines/home", headers=headers)
    assert response.status_code == 200
    return [s["content"] for s in response.json()]


async def test_mute_hides_from_home_and_public(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    await follow(client, alice, bob)
    await accept(client, bob, alice)
    await post(client, bob, "bob speaks")
    assert any("bob speaks" in c for c in await _home(client, alice.headers))

    muted = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers, data={"duration": "3600"}
    )
    assert muted.status_code == 200
    assert_matches("Relationship", muted.json())
    assert muted.json()["muting"] is True and muted.json()["muting_notifications"] is True
    assert not any("bob speaks" in c for c in await _home(client, alice.headers))
    public = await client.get("/api/v1/timelines/public", headers=alice.headers)
    assert not any("bob speaks" in s["content"] for s in public.json())
    anonymous = await client.get("/api/v1/timelines/public")
    assert any("bob speaks" in s["content"] for s in anonymous.json())

    mutes = await client.get("/api/v1/mutes", headers=alice.headers)
    assert mutes.status_code == 200
    assert_matches("MutedAccount", mutes.json()[0])
    expires = datetime.fromisoformat(mutes.json()[0]["mute_expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice.headers)
    assert any("bob speaks" in c for c in await _home(client, alice.headers))
    assert (await client.get("/api/v1/mutes", headers=alice.headers)).json() == []


async def test_mute_errors_and_scopes(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    path = f"/api/v1/accounts/{bob.id}/mute"
    assert (await client.post(path)).status_code == 401
    reader = await token_with(client, alice, "read")
    assert (await client.post(path, headers=reader)).status_code == 403
    follow_scope = await token_with(client, alice, "follow")
    assert (await client.post(path, headers=follow_scope)).status_code == 200
    assert (await client.get("/api/v1/mutes", headers=follow_scope)).status_code == 200
    for bad in ({"duration": "soon"}, {"duration": "-5"}, {"notifications": "maybe"}):
        assert (await client.post(path, headers=alice.headers, data=bad)).status_code == 422
    assert (
        await client.post(f"/api/v1/accounts/{alice.id}/mute", headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post("/api/v1/accounts/999999/mute", headers=alice.headers)
    ).status_code == 404


async def test_blocks_list(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    others = [await person(client, runtime, settings, f"user{n}") for n in range(3)]
    for other in others:
        response = await client.post(f"/api/v1/accounts/{other.id}/block", headers=alice.headers)
        assert response.status_code == 200
    page = await client.get("/api/v1/blocks", headers=alice.headers, params={"limit": 2})
    assert page.status_code == 200
    for account in page.json():
        assert_matches("Account", account)
    assert [a["username"] for a in page.json()] == ["user2", "user1"]
    rest = await client.get(
        "/api/v1/blocks",
        headers=alice.headers,
        params={"limit": 2, "max_id": link_ids(page)["next"]},
    )
    assert [a["username"] for a in rest.json()] == ["user0"]
    assert (await client.get("/api/v1/blocks")).status_code == 401
    mutes_only = await token_with(client, alice, "read:mutes")
    assert (await client.get("/api/v1/blocks", headers=mutes_only)).status_code == 403


async def test_domain_blocks(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    remote = await upsert_remote_actor(
        runtime.pool,
        uri="https://noisy.example/users/loud",
        username="loud",
        domain="noisy.example",
        inbox_uri="https://noisy.example/users/loud/inbox",
    )
    status = await insert_status(
        runtime.pool,
        uri="https://noisy.example/notes/1",
        actor_id=remote.id,
        is_local=False,
        visibility="public",
        content="<p>LOUD NOISE</p>",
    )
    await add_to_home_feeds(runtime.pool, status.id, [alice.member.actor.id])
    await insert_notification(
        runtime.pool,
        recipient_id=alice.member.actor.id,
        notification_type="favourite",
        from_actor_id=remote.id,
        status_id=status.id,
    )
    assert any("LOUD" in c for c in await _home(client, alice.headers))
    notified = await client.get("/api/v1/notifications", headers=alice.headers)
    assert [n["account"]["acct"] for n in notified.json()] == ["loud@noisy.example"]

    blocked = await client.post(
        "/api/v1/domain_blocks", headers=alice.headers, data={"domain": "Noisy.Example"}
    )
    assert blocked.status_code == 200
    assert blocked.json() == {}
    assert (await client.get("/api/v1/domain_blocks", headers=alice.headers)).json() == [
        "noisy.example"
    ]
    assert not any("LOUD" in c for c in await _home(client, alice.headers))
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []
    public = await client.get("/api/v1/timelines/public", headers=alice.headers)
    assert not any("LOUD" in s["content"] for s in public.json())
    relationship = await client.get(
        "/api/v1/accounts/relationships", headers=alice.headers, params={"id[]": str(remote.id)}
    )
    assert relationship.json()[0]["domain_blocking"] is True

    for bad in ("", "not a domain", "fedinet.test"):
        response = await client.post(
            "/api/v1/domain_blocks", headers=alice.headers, data={"domain": bad}
        )
        assert response.status_code == 422, bad
    assert (
        await client.post("/api/v1/domain_blocks", data={"domain": "x.example"})
    ).status_code == 401
    reader = await token_with(client, alice, "read:blocks")
    assert (
        await client.post("/api/v1/domain_blocks", headers=reader, data={"domain": "x.example"})
    ).status_code == 403

    removed = await client.request(
        "DELETE", "/api/v1/domain_blocks", headers=alice.headers, params={"domain": "noisy.example"}
    )
    assert removed.status_code == 200
    assert (await client.get("/api/v1/domain_blocks", headers=alice.headers)).json() == []
    assert any("LOUD" in c for c in await _home(client, alice.headers))
