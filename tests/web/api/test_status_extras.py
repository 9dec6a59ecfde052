"""A status's thread, source, history, who favourited and boosted it; bookmarks, pins
(and the featured collection they make), and Idempotency-Key on posting."""

from __future__ import annotations

import asyncio

import httpx

from fedinet.config import Settings
from fedinet.db.actors import upsert_remote_actor
from fedinet.db.deliveries import list_deliveries_for_activity, list_outbox_activities
from fedinet.db.follows import insert_follow
from fedinet.db.statuses import count_statuses
from fedinet.runtime import Runtime
from tests.web.api.actions import accept, follow, link_ids, person, post, token_with
from tests.web.api.schema import assert_matches

AP = {"Accept": "application/activity+json"}


async def test_context(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    root = await post(client, alice, "root")
    reply = await post(client, bob, "reply", in_reply_to_id=root["id"])
    deeper = await post(client, alice, "deeper", in_reply_to_id=reply["id"])
    side = await post(client, bob, "side", in_reply_to_id=root["id"])
    secret = await post(
        client, alice, "only for me and @alice", in_reply_to_id=root["id"], visibility="direct"
    )

    middle = await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=bob.headers)
    assert middle.status_code == 200
    assert_matches("Context", middle.json())
    assert [s["id"] for s in middle.json()["ancestors"]] == [root["id"]]
    assert [s["id"] for s in middle.json()["descendants"]] == [deeper["id"]]

    whole = await client.get(f"/api/v1/statuses/{root['id']}/context", headers=bob.headers)
    assert whole.json()["ancestors"] == []
    # bob does not see alice's direct note to herself
    assert [s["id"] for s in whole.json()["descendants"]] == [reply["id"], deeper["id"], side["id"]]
    mine = await client.get(f"/api/v1/statuses/{root['id']}/context", headers=alice.headers)
    assert secret["id"] in [s["id"] for s in mine.json()["descendants"]]
    anonymous = await client.get(f"/api/v1/statuses/{deeper['id']}/context")
    assert [s["id"] for s in anonymous.json()["ancestors"]] == [root["id"], reply["id"]]

    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers)
    muted = await client.get(f"/api/v1/statuses/{root['id']}/context", headers=alice.headers)
    assert [s["id"] for s in muted.json()["descendants"]] == [deeper["id"], secret["id"]]
    hidden = await client.get(f"/api/v1/statuses/{secret['id']}/context", headers=bob.headers)
    assert hidden.status_code == 404
    assert (await client.get("/api/v1/statuses/999/context")).status_code == 404


async def test_source_and_history(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    status = await post(client, alice, "first *words*", spoiler_text="cw")
    source = await client.get(f"/api/v1/statuses/{status['id']}/source", headers=alice.headers)
    assert source.status_code == 200
    assert_matches("StatusSource", source.json())
    assert source.json() == {"id": status["id"], "text": "first *words*", "spoiler_text": "cw"}

    once = await client.get(f"/api/v1/statuses/{status['id']}/history")
    assert once.status_code == 200
    assert len(once.json()) == 1
    edited = await client.put(
        f"/api/v1/statuses/{status['id']}", headers=alice.headers, data={"status": "second"}
    )
    assert edited.status_code == 200
    await client.put(
        f"/api/v1/statuses/{status['id']}", headers=alice.headers, data={"status": "third"}
    )
    history = (await client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    for version in history:
        assert_matches("StatusEdit", version)
        assert version["account"]["id"] == alice.id
    assert ["first" in v["content"] for v in history] == [True, False, False]
    assert "third" in history[-1]["content"]
    assert history[0]["spoiler_text"] == "cw" and history[-1]["spoiler_text"] == ""
    times = [v["created_at"] for v in history]
    assert times == sorted(times)

    assert (await client.get(f"/api/v1/statuses/{status['id']}/source")).status_code == 401
    dm = await post(client, alice, "psst", visibility="direct")
    bob = await person(client, runtime, settings, "bob")
    assert (
        await client.get(f"/api/v1/statuses/{dm['id']}/source", headers=bob.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{dm['id']}/history")).status_code == 404


async def test_favourited_and_reblogged_by(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    fans = [await person(client, runtime, settings, f"fan{n}") for n in range(3)]
    status = await post(client, alice, "like me")
    for fan in fans:
        await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=fan.headers)
    await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=fans[1].headers)

    page = await client.get(f"/api/v1/statuses/{status['id']}/favourited_by", params={"limit": 2})
    assert page.status_code == 200
    for account in page.json():
        assert_matches("Account", account)
    assert [a["username"] for a in page.json()] == ["fan2", "fan1"]
    rest = await client.get(
        f"/api/v1/statuses/{status['id']}/favourited_by",
        params={"limit": 2, "max_id": link_ids(page)["next"]},
    )
    assert [a["username"] for a in rest.json()] == ["fan0"]

    boosters = await client.get(f"/api/v1/statuses/{status['id']}/reblogged_by")
    assert [a["username"] for a in boosters.json()] == ["fan1"]
    assert (await client.get("/api/v1/statuses/12345/reblogged_by")).status_code == 404


async def test_bookmarks(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    one = await post(client, bob, "one")
    two = await post(client, bob, "two")
    dm = await post(client, bob, "for me only", visibility="direct")

    marked = await client.post(f"/api/v1/statuses/{one['id']}/bookmark", headers=alice.headers)
    assert marked.status_code == 200
    assert_matches("Status", marked.json())
    assert marked.json()["bookmarked"] is True
    await client.post(f"/api/v1/statuses/{two['id']}/bookmark", headers=alice.headers)
    assert (
        await client.post(f"/api/v1/statuses/{dm['id']}/bookmark", headers=alice.headers)
    ).status_code == 404

    listed = await client.get("/api/v1/bookmarks", headers=alice.headers, params={"limit": 1})
    assert [s["id"] for s in listed.json()] == [two["id"]]
    assert "next" in link_ids(listed)
    older = await client.get(
        "/api/v1/bookmarks",
        headers=alice.headers,
        params={"limit": 1, "max_id": link_ids(listed)["next"]},
    )
    assert [s["id"] for s in older.json()] == [one["id"]]
    assert (await client.get("/api/v1/bookmarks", headers=bob.headers)).json() == []

    unmarked = await client.post(f"/api/v1/statuses/{two['id']}/unbookmark", headers=alice.headers)
    assert unmarked.json()["bookmarked"] is False
    assert [
        s["id"] for s in (await client.get("/api/v1/bookmarks", headers=alice.headers)).json()
    ] == [one["id"]]

    assert (await client.get("/api/v1/bookmarks")).status_code == 401
    reader = await token_with(client, alice, "read:statuses")
    assert (await client.get("/api/v1/bookmarks", headers=reader)).status_code == 403
    writer = await token_with(client, alice, "write:favourites")
    assert (
        await client.post(f"/api/v1/statuses/{one['id']}/bookmark", headers=writer)
    ).status_code == 403


async def test_favourites_list(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    one = await post(client, bob, "one")
    two = await post(client, bob, "two")
    await client.post(f"/api/v1/statuses/{two['id']}/favourite", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{one['id']}/favourite", headers=alice.headers)
    listed = await client.get("/api/v1/favourites", headers=alice.headers)
    assert listed.status_code == 200
    # in the order they were favourited, the latest first
    assert [s["id"] for s in listed.json()] == [one["id"], two["id"]]
    assert all(s["favourited"] for s in listed.json())
    reader = await token_with(client, alice, "read:bookmarks")
    assert (await client.get("/api/v1/favourites", headers=reader)).status_code == 403


async def test_pins_and_featured_collection(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    mine = await post(client, alice, "pin me")
    theirs = await post(client, bob, "not yours")
    dm = await post(client, alice, "hi @bob", visibility="direct")

    pinned = await client.post(f"/api/v1/statuses/{mine['id']}/pin", headers=alice.headers)
    assert pinned.status_code == 200
    assert pinned.json()["pinned"] is True
    assert (
        await client.post(f"/api/v1/statuses/{theirs['id']}/pin", headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post(f"/api/v1/statuses/{dm['id']}/pin", headers=alice.headers)
    ).status_code == 422
    # pinned shows on the author's own view only
    assert (
        "pinned"
        not in (await client.get(f"/api/v1/statuses/{mine['id']}", headers=bob.headers)).json()
    )

    account_pins = await client.get(
        f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"}
    )
    assert [s["id"] for s in account_pins.json()] == [mine["id"]]
    more_pins = await client.get(
        f"/api/v1/accounts/{alice.id}/statuses",
        params={"pinned": "true", "max_id": mine["id"]},
    )
    assert more_pins.json() == []

    featured = (await client.get("/users/alice/collections/featured", headers=AP)).json()
    assert featured["totalItems"] == 1
    assert featured["orderedItems"][0]["id"] == mine["uri"]
    assert featured["orderedItems"][0]["type"] == "Note"

    for n in range(4):
        extra = await post(client, alice, f"more {n}")
        assert (
            await client.post(f"/api/v1/statuses/{extra['id']}/pin", headers=alice.headers)
        ).status_code == 200
    too_many = await post(client, alice, "sixth")
    assert (
        await client.post(f"/api/v1/statuses/{too_many['id']}/pin", headers=alice.headers)
    ).status_code == 422

    unpinned = await client.post(f"/api/v1/statuses/{mine['id']}/unpin", headers=alice.headers)
    assert unpinned.json()["pinned"] is False
    featured = (await client.get("/users/alice/collections/featured", headers=AP)).json()
    assert mine["uri"] not in [n["id"] for n in featured["orderedItems"]]

    read_only = await token_with(client, alice, "read write:statuses")
    assert (
        await client.post(f"/api/v1/statuses/{mine['id']}/pin", headers=read_only)
    ).status_code == 403


async def test_idempotency_key(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    key = {"Idempotency-Key": "abc-123"}

    async def send(headers: dict[str, str], text: str) -> httpx.Response:
        return await client.post(
            "/api/v1/statuses", headers={**headers, **key}, data={"status": text}
        )

    first, second = await asyncio.gather(send(alice.headers, "once"), send(alice.headers, "once"))
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    third = await send(alice.headers, "different text, same key")
    assert third.json()["id"] == first.json()["id"]

    other_token = await token_with(client, alice, "write:statuses")
    fourth = await send(other_token, "once")
    assert fourth.json()["id"] != first.json()["id"]  # the key is per token
    without = await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "once"})
    assert without.json()["id"] != first.json()["id"]
    assert await count_statuses(runtime.pool, alice.member.actor.id) == 3

    await client.delete(f"/api/v1/statuses/{first.json()['id']}", headers=alice.headers)
    after_delete = await send(alice.headers, "again")
    assert after_delete.json()["id"] != first.json()["id"]


async def test_followers_only_thread_needs_following(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    private = await post(client, alice, "followers only", visibility="private")
    assert (
        await client.get(f"/api/v1/statuses/{private['id']}/context", headers=bob.headers)
    ).status_code == 404
    await follow(client, bob, alice)
    await accept(client, alice, bob)
    assert (
        await client.get(f"/api/v1/statuses/{private['id']}/context", headers=bob.headers)
    ).status_code == 200


async def test_pins_are_sent_to_followers_as_add_and_remove(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    remote = await upsert_remote_actor(
        runtime.pool,
        uri="https://remote.example/users/rita",
        username="rita",
        domain="remote.example",
        inbox_uri="https://remote.example/users/rita/inbox",
    )
    await insert_follow(
        runtime.pool,
        uri="https://remote.example/follows/1",
        follower_id=remote.id,
        followee_id=alice.member.actor.id,
        accepted=True,
    )
    status = await post(client, alice, "pinned and told")
    await client.post(f"/api/v1/statuses/{status['id']}/pin", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{status['id']}/pin", headers=alice.headers)  # no repeat
    await client.post(f"/api/v1/statuses/{status['id']}/unpin", headers=alice.headers)
    sent = await list_outbox_activities(runtime.pool, alice.member.actor.id, limit=10)
    kinds = [a.activity_type for a in sent if a.activity_type in ("Add", "Remove")]
    assert kinds == ["Remove", "Add"]
    add = next(a for a in sent if a.activity_type == "Add")
    assert add.body["object"] == status["uri"]
    assert add.body["target"] == f"{settings.url}/users/alice/collections/featured"
    deliveries = await list_deliveries_for_activity(runtime.pool, add.id)
    assert [d.inbox_uri for d in deliveries] == ["https://remote.example/users/rita/inbox"]
