"""Lists: CRUD, their accounts, the list timeline (and exclusive lists leaving home);
the hashtag timeline."""

from __future__ import annotations

import httpx

from fedinet.config import Settings
from fedinet.runtime import Runtime
from tests.web.api.actions import accept, follow, link_ids, person, post, token_with
from tests.web.api.schema import assert_matches


async def test_list_crud(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    made = await client.post("/api/v1/lists", headers=alice.headers, data={"title": "Friends"})
    assert made.status_code == 200, made.text
    assert_matches("List", made.json())
    assert made.json()["replies_policy"] == "list" and made.json()["exclusive"] is False
    list_id = made.json()["id"]

    changed = await client.put(
        f"/api/v1/lists/{list_id}",
        headers=alice.headers,
        json={"title": "Close friends", "replies_policy": "none", "exclusive": True},
    )
    assert changed.json() == {
        "id": list_id,
        "title": "Close friends",
        "replies_policy": "none",
        "exclusive": True,
    }
    assert (
        await client.get(f"/api/v1/lists/{list_id}", headers=alice.headers)
    ).json() == changed.json()
    assert [
        item["id"] for item in (await client.get("/api/v1/lists", headers=alice.headers)).json()
    ] == [list_id]

    # another member's list does not exist for bob
    assert (await client.get(f"/api/v1/lists/{list_id}", headers=bob.headers)).status_code == 404
    assert (
        await client.put(f"/api/v1/lists/{list_id}", headers=bob.headers, data={"title": "x"})
    ).status_code == 404
    assert (await client.delete(f"/api/v1/lists/{list_id}", headers=bob.headers)).status_code == 404
    assert (
        await client.get(f"/api/v1/lists/{list_id}/accounts", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/timelines/list/{list_id}", headers=bob.headers)
    ).status_code == 404
    assert (await client.get("/api/v1/lists", headers=bob.headers)).json() == []

    for bad in (
        {"title": ""},
        {"title": "x", "replies_policy": "everyone"},
        {"title": "x", "exclusive": "perhaps"},
    ):
        assert (
            await client.post("/api/v1/lists", headers=alice.headers, data=bad)
        ).status_code == 422
    assert (await client.post("/api/v1/lists", data={"title": "x"})).status_code == 401
    reader = await token_with(client, alice, "read:lists")
    assert (
        await client.post("/api/v1/lists", headers=reader, data={"title": "x"})
    ).status_code == 403
    assert (await client.get("/api/v1/lists", headers=reader)).status_code == 200

    deleted = await client.delete(f"/api/v1/lists/{list_id}", headers=alice.headers)
    assert deleted.status_code == 200
    assert (await client.get(f"/api/v1/lists/{list_id}", headers=alice.headers)).status_code == 404


async def test_list_accounts_and_timeline(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    carol = await person(client, runtime, settings, "carol")
    dave = await person(client, runtime, settings, "dave")
    for target in (bob, carol):
        await follow(client, alice, target)
        await accept(client, target, alice)
    list_id = (
        await client.post("/api/v1/lists", headers=alice.headers, data={"title": "L"})
    ).json()["id"]

    added = await client.post(
        f"/api/v1/lists/{list_id}/accounts",
        headers=alice.headers,
        data={"account_ids[]": [bob.id, carol.id]},
    )
    assert added.status_code == 200 and added.json() == {}
    not_followed = await client.post(
        f"/api/v1/lists/{list_id}/accounts",
        headers=alice.headers,
        data={"account_ids[]": [dave.id]},
    )
    assert not_followed.status_code == 404
    assert (
        await client.post(
            f"/api/v1/lists/{list_id}/accounts",
            headers=alice.headers,
            data={"account_ids[]": ["x"]},
        )
    ).status_code == 422

    accounts = await client.get(
        f"/api/v1/lists/{list_id}/accounts", headers=alice.headers, params={"limit": 1}
    )
    assert [a["username"] for a in accounts.json()] == ["carol"]
    assert_matches("Account", accounts.json()[0])
    rest = await client.get(
        f"/api/v1/lists/{list_id}/accounts",
        headers=alice.headers,
        params={"limit": 1, "max_id": link_ids(accounts)["next"]},
    )
    assert [a["username"] for a in rest.json()] == ["bob"]
    everyone = await client.get(
        f"/api/v1/lists/{list_id}/accounts", headers=alice.headers, params={"limit": "0"}
    )
    assert len(everyone.json()) == 2
    in_lists = await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice.headers)
    assert [item["id"] for item in in_lists.json()] == [list_id]

    await post(client, bob, "from bob")
    await post(client, dave, "from dave")
    carol_post = await post(client, carol, "from carol")
    await post(
        client,
        bob,
        "bob replies to dave's thread @dave",
        in_reply_to_id=(await post(client, dave, "dave thread"))["id"],
    )
    await post(client, bob, "bob answers carol", in_reply_to_id=carol_post["id"])
    await post(client, carol, "carol followers only", visibility="private")

    timeline = await client.get(f"/api/v1/timelines/list/{list_id}", headers=alice.headers)
    assert timeline.status_code == 200
    texts = [s["content"] for s in timeline.json()]
    for status in timeline.json():
        assert_matches("Status", status)
    assert any("carol followers only" in t for t in texts)
    assert any("bob answers carol" in t for t in texts)  # a reply within the list
    assert not any("dave" in t and "replies" not in t for t in texts)
    assert not any("bob replies to dave" in t for t in texts)  # a reply outside it
    assert any("from bob" in t for t in texts) and any("from carol" in t for t in texts)

    await client.put(
        f"/api/v1/lists/{list_id}", headers=alice.headers, data={"replies_policy": "none"}
    )
    texts = [
        s["content"]
        for s in (
            await client.get(f"/api/v1/timelines/list/{list_id}", headers=alice.headers)
        ).json()
    ]
    assert not any("bob answers carol" in t for t in texts)

    # an exclusive list takes its accounts out of home
    home = [
        s["content"]
        for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()
    ]
    assert any("from bob" in t for t in home)
    await client.put(f"/api/v1/lists/{list_id}", headers=alice.headers, data={"exclusive": "true"})
    home = [
        s["content"]
        for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()
    ]
    assert not any("from bob" in t for t in home)

    removed = await client.request(
        "DELETE",
        f"/api/v1/lists/{list_id}/accounts",
        headers=alice.headers,
        params={"account_ids[]": bob.id},
    )
    assert removed.status_code == 200
    left = await client.get(f"/api/v1/lists/{list_id}/accounts", headers=alice.headers)
    assert [a["username"] for a in left.json()] == ["carol"]
    texts = [
        s["content"]
        for s in (
            await client.get(f"/api/v1/timelines/list/{list_id}", headers=alice.headers)
        ).json()
    ]
    assert not any("from bob" in t for t in texts)

    reader = await token_with(client, alice, "read:statuses")
    assert (
        await client.get(f"/api/v1/timelines/list/{list_id}", headers=reader)
    ).status_code == 403
    assert (await client.get(f"/api/v1/timelines/list/{list_id}")).status_code == 401


async def test_tag_timeline(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    cats = await post(client, alice, "I love #Cats")
    dogs = await post(client, alice, "and #dogs")
    both = await post(client, alice, "#cats and #dogs")
    await post(client, alice, "#cats unlisted", visibility="unlisted")

    response = await client.get("/api/v1/timelines/tag/cats")
    assert response.status_code == 200
    for status in response.json():
        assert_matches("Status", status)
    assert [s["id"] for s in response.json()] == [both["id"], cats["id"]]
    assert [s["id"] for s in (await client.get("/api/v1/timelines/tag/CATS")).json()] == [
        both["id"],
        cats["id"],
    ]
    any_ = await client.get("/api/v1/timelines/tag/cats", params={"any[]": "dogs"})
    assert [s["id"] for s in any_.json()] == [both["id"], dogs["id"], cats["id"]]
    all_ = await client.get("/api/v1/timelines/tag/cats", params={"all[]": "dogs"})
    assert [s["id"] for s in all_.json()] == [both["id"]]
    none = await client.get("/api/v1/timelines/tag/cats", params={"none[]": "dogs"})
    assert [s["id"] for s in none.json()] == [cats["id"]]
    paged = await client.get("/api/v1/timelines/tag/cats", params={"limit": 1})
    assert link_ids(paged)["next"] == both["id"]
    assert (await client.get("/api/v1/timelines/tag/cats", params={"local": "true"})).json()[0][
        "id"
    ] == both["id"]
    assert (await client.get("/api/v1/timelines/tag/cats", params={"remote": "true"})).json() == []
    assert (
        await client.get("/api/v1/timelines/tag/cats", params={"only_media": "true"})
    ).json() == []
    assert (
        await client.get("/api/v1/timelines/tag/cats", params={"max_id": "x"})
    ).status_code == 422
    assert (
        await client.get("/api/v1/timelines/tag/cats", headers={"Authorization": "Bearer bad"})
    ).status_code == 401
