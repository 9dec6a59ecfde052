"""Notifications: made where members act on each other, read with Mastodon's filters and
pages, dismissed and cleared."""

from __future__ import annotations

import httpx

from fedinet.config import Settings
from fedinet.runtime import Runtime
from tests.web.api.actions import accept, follow, link_ids, person, post, token_with
from tests.web.api.schema import assert_matches


async def test_every_kind_of_notification(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    await follow(client, bob, alice)  # alice approves followers by hand: a request
    await accept(client, alice, bob)
    first = await post(client, alice, "hello")
    await post(client, bob, "hi @alice")
    assert (
        await client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=bob.headers)
    ).status_code == 200
    assert (
        await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=bob.headers)
    ).status_code == 200
    await client.put(
        f"/api/v1/statuses/{first['id']}", headers=alice.headers, data={"status": "hello, edited"}
    )

    response = await client.get("/api/v1/notifications", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    for item in body:
        assert_matches("Notification", item)
        assert item["account"]["id"] == bob.id
        assert item["group_key"] == f"ungrouped-{item['id']}"
    types = [item["type"] for item in body]
    assert types == ["reblog", "favourite", "mention", "follow_request"]
    assert body[0]["status"]["id"] == first["id"]
    assert "status" not in body[-1]

    bob_sees = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [n["type"] for n in bob_sees] == ["update"]  # he boosted what alice then edited
    assert bob_sees[0]["status"]["id"] == first["id"]


async def test_filters_and_pages(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    carol = await person(client, runtime, settings, "carol")
    for n in range(3):
        await post(client, bob, f"@alice number {n}")
    await post(client, carol, "@alice from carol")
    await follow(client, carol, alice)

    async def ids(**params: object) -> list[str]:
        response = await client.get("/api/v1/notifications", headers=alice.headers, params=params)
        assert response.status_code == 200, response.text
        return [n["type"] + ":" + n["account"]["username"] for n in response.json()]

    assert await ids(**{"types[]": ["follow_request"]}) == ["follow_request:carol"]
    assert await ids(**{"exclude_types[]": ["mention"]}) == ["follow_request:carol"]
    assert await ids(account_id=carol.id) == ["follow_request:carol", "mention:carol"]
    assert len(await ids(**{"types[]": ["mention", "follow_request"]})) == 5

    page = await client.get("/api/v1/notifications", headers=alice.headers, params={"limit": 2})
    assert len(page.json()) == 2
    links = link_ids(page)
    assert links["next"] == page.json()[-1]["id"]
    assert links["prev"] == page.json()[0]["id"]
    older = await client.get(
        "/api/v1/notifications", headers=alice.headers, params={"limit": 2, "max_id": links["next"]}
    )
    assert [n["id"] for n in older.json()] < [n["id"] for n in page.json()]
    newer = await client.get(
        "/api/v1/notifications",
        headers=alice.headers,
        params={"min_id": older.json()[-1]["id"], "limit": 2},
    )
    # the two just above min_id, newest first
    assert [n["id"] for n in newer.json()] == [page.json()[1]["id"], older.json()[0]["id"]]

    bad = await client.get(
        "/api/v1/notifications", headers=alice.headers, params={"types[]": "nonsense"}
    )
    assert bad.status_code == 422
    bad = await client.get("/api/v1/notifications", headers=alice.headers, params={"max_id": "x"})
    assert bad.status_code == 422


async def test_one_dismiss_clear_and_errors(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    await post(client, bob, "@alice one")
    await post(client, bob, "@alice two")
    listed = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    one = await client.get(f"/api/v1/notifications/{listed[0]['id']}", headers=alice.headers)
    assert one.status_code == 200
    assert_matches("Notification", one.json())
    assert one.json() == listed[0]

    # bob cannot read nor dismiss alice's
    assert (
        await client.get(f"/api/v1/notifications/{listed[0]['id']}", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/notifications/{listed[0]['id']}/dismiss", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.get("/api/v1/notifications/nope", headers=alice.headers)
    ).status_code == 404

    count = await client.get("/api/v1/notifications/unread_count", headers=alice.headers)
    assert count.json() == {"count": 2}
    await client.post(
        "/api/v1/markers",
        headers=alice.headers,
        data={"notifications[last_read_id]": listed[1]["id"]},
    )
    count = await client.get("/api/v1/notifications/unread_count", headers=alice.headers)
    assert count.json() == {"count": 1}

    dismissed = await client.post(
        f"/api/v1/notifications/{listed[0]['id']}/dismiss", headers=alice.headers
    )
    assert dismissed.status_code == 200
    assert dismissed.json() == {}
    left = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["id"] for n in left] == [listed[1]["id"]]
    cleared = await client.post("/api/v1/notifications/clear", headers=alice.headers)
    assert cleared.status_code == 200
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []


async def test_scopes_and_tokens(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.post("/api/v1/notifications/clear")).status_code == 401
    reader = await token_with(client, alice, "read:notifications")
    assert (await client.get("/api/v1/notifications", headers=reader)).status_code == 200
    assert (await client.post("/api/v1/notifications/clear", headers=reader)).status_code == 403
    statuses_only = await token_with(client, alice, "read:statuses")
    assert (await client.get("/api/v1/notifications", headers=statuses_only)).status_code == 403


async def test_mutes_and_domain_blocks_hide_notifications(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    await post(client, bob, "@alice hello")
    assert len((await client.get("/api/v1/notifications", headers=alice.headers)).json()) == 1
    muted = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers, data={"notifications": "false"}
    )
    assert muted.json()["muting"] is True
    assert muted.json()["muting_notifications"] is False
    assert len((await client.get("/api/v1/notifications", headers=alice.headers)).json()) == 1
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers)
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []
    await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice.headers)
    assert len((await client.get("/api/v1/notifications", headers=alice.headers)).json()) == 1


async def test_status_notifications_for_notify_follows(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    carol = await person(client, runtime, settings, "carol")
    asked = await client.post(
        f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers, data={"notify": "true"}
    )
    assert asked.json()["notifying"] is True
    await accept(client, alice, bob)
    await follow(client, carol, alice)  # without notify
    await accept(client, alice, carol)

    news = await post(client, alice, "news for subscribers")
    await post(
        client, alice, "a reply elsewhere", in_reply_to_id=(await post(client, carol, "q"))["id"]
    )
    await post(client, alice, "a secret @carol", visibility="direct")
    thread = await post(client, alice, "my own thread continues", in_reply_to_id=news["id"])

    seen = (
        await client.get("/api/v1/notifications", headers=bob.headers, params={"types[]": "status"})
    ).json()
    assert [n["status"]["id"] for n in seen] == [thread["id"], news["id"]]
    assert_matches("Notification", seen[0])
    carol_sees = (
        await client.get(
            "/api/v1/notifications", headers=carol.headers, params={"types[]": "status"}
        )
    ).json()
    assert carol_sees == []

    off = await client.post(
        f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers, data={"notify": "false"}
    )
    assert off.json()["notifying"] is False
    await post(client, alice, "quiet now")
    again = (
        await client.get("/api/v1/notifications", headers=bob.headers, params={"types[]": "status"})
    ).json()
    assert len(again) == 2
