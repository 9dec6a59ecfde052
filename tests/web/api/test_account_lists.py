"""An account's statuses, followers and following; familiar followers; account search;
private notes; removing a follower."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import follows as follows_db
from fedinet.db.actors import upsert_remote_actor
from fedinet.models import Actor
from fedinet.runtime import Runtime
from tests.web.api.conftest import Member, bearer, make_member, password_token, register
from tests.web.api.schema import assert_matches
from tests.web.api.test_media import png, upload


async def token_for(
    client: httpx.AsyncClient, member: Member, scope: str = "read write follow"
) -> str:
    app = await register(client, scopes="read write follow push")
    return await password_token(client, app, member, scope=scope)


async def follow(runtime: Runtime, follower: Actor, followee: Actor) -> int:
    made = await follows_db.insert_follow(
        runtime.pool,
        uri=f"{follower.uri}#follows/{followee.id}",
        follower_id=follower.id,
        followee_id=followee.id,
        accepted=True,
    )
    return made.id


async def remote(runtime: Runtime, name: str, domain: str = "remote.example") -> Actor:
    return await upsert_remote_actor(
        runtime.pool,
        uri=f"https://{domain}/users/{name}",
        username=name,
        domain=domain,
        display_name=f"{name} Remote",
        inbox_uri=f"https://{domain}/users/{name}/inbox",
        url=f"https://{domain}/@{name}",
    )


async def post(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/statuses", headers=bearer(token), json=fields)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def bob(runtime: Runtime, settings: Settings) -> Member:
    return await make_member(runtime, settings, "bob")


async def test_account_statuses_filters_and_pages(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member, bob: Member
) -> None:
    token = await token_for(client, alice)
    first = await post(client, token, status="first #Cats")
    reply_self = await post(client, token, status="thread", in_reply_to_id=first["id"])
    bob_token = await token_for(client, bob)
    bobs = await post(client, bob_token, status="bob's post")
    reply_other = await post(client, token, status="@bob hi", in_reply_to_id=bobs["id"])
    media = (await upload(client, token, png())).json()
    with_media = await post(client, token, status="pic", media_ids=[media["id"]])
    boost = await client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=bearer(token))
    assert boost.status_code == 200
    boost_id = boost.json()["id"]
    private = await post(client, token, status="friends only", visibility="private")

    url = f"/api/v1/accounts/{alice.actor.id}/statuses"
    everything = await client.get(url, headers=bearer(token))
    assert everything.status_code == 200
    ids = [s["id"] for s in everything.json()]
    assert ids == [
        private["id"],
        boost_id,
        with_media["id"],
        reply_other["id"],
        reply_self["id"],
        first["id"],
    ]
    for status in everything.json():
        assert_matches("Status", status)

    # Anonymous and strangers do not see the followers-only post.
    anonymous = await client.get(url)
    assert private["id"] not in [s["id"] for s in anonymous.json()]
    stranger = await client.get(url, headers=bearer(bob_token))
    assert private["id"] not in [s["id"] for s in stranger.json()]
    await follow(runtime, bob.actor, alice.actor)
    follower = await client.get(url, headers=bearer(bob_token))
    assert private["id"] in [s["id"] for s in follower.json()]

    no_replies = await client.get(url, params={"exclude_replies": "true"})
    assert [s["id"] for s in no_replies.json()] == [
        boost_id,
        with_media["id"],
        reply_self["id"],
        first["id"],
    ]
    no_boosts = await client.get(url, params={"exclude_reblogs": "1"})
    assert boost_id not in [s["id"] for s in no_boosts.json()]
    media_only = await client.get(url, params={"only_media": "true"})
    assert [s["id"] for s in media_only.json()] == [with_media["id"]]
    tagged = await client.get(url, params={"tagged": "cats"})
    assert [s["id"] for s in tagged.json()] == [first["id"]]
    pinned = await client.get(url, params={"pinned": "true"})
    assert pinned.json() == []

    page = await client.get(url, params={"limit": "2"})
    assert [s["id"] for s in page.json()] == [boost_id, with_media["id"]]
    link = page.headers["link"]
    assert f"max_id={with_media['id']}" in link and 'rel="next"' in link
    assert f"min_id={boost_id}" in link and 'rel="prev"' in link
    older = await client.get(url, params={"limit": "2", "max_id": with_media["id"]})
    assert [s["id"] for s in older.json()] == [reply_other["id"], reply_self["id"]]
    newer = await client.get(url, params={"min_id": first["id"], "limit": "2"})
    assert [s["id"] for s in newer.json()] == [reply_other["id"], reply_self["id"]]


async def test_account_statuses_errors(
    client: httpx.AsyncClient, runtime: Runtime, alice: Member, bob: Member
) -> None:
    assert (await client.get("/api/v1/accounts/999999/statuses")).status_code == 404
    assert (await client.get("/api/v1/accounts/abc/statuses")).status_code == 404
    bad = await client.get(
        f"/api/v1/accounts/{alice.actor.id}/statuses", headers=bearer("nonsense")
    )
    assert bad.status_code == 401
    wrong_scope = await token_for(client, alice, scope="write")
    refused = await client.get(
        f"/api/v1/accounts/{alice.actor.id}/statuses", headers=bearer(wrong_scope)
    )
    assert refused.status_code == 403
    cursor = await client.get(f"/api/v1/accounts/{alice.actor.id}/statuses", params={"max_id": "x"})
    assert cursor.status_code == 422
    # A block hides statuses both ways.
    token = await token_for(client, alice)
    await post(client, token, status="hello")
    bob_token = await token_for(client, bob)
    blocked = await client.post(
        f"/api/v1/accounts/{alice.actor.id}/block", headers=bearer(bob_token)
    )
    assert blocked.status_code == 200
    seen = await client.get(
        f"/api/v1/accounts/{alice.actor.id}/statuses", headers=bearer(bob_token)
    )
    assert seen.json() == []


async def test_followers_and_following_pages(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member, bob: Member
) -> None:
    people = [await remote(runtime, f"r{i}") for i in range(3)]
    follow_ids = [await follow(runtime, p, alice.actor) for p in people]
    await follow(runtime, bob.actor, alice.actor)
    await follow(runtime, alice.actor, people[0])

    url = f"/api/v1/accounts/{alice.actor.id}/followers"
    everyone = await client.get(url)
    assert everyone.status_code == 200
    assert [a["username"] for a in everyone.json()] == ["bob", "r2", "r1", "r0"]
    for account in everyone.json():
        assert_matches("Account", account)
    page = await client.get(url, params={"limit": "2"})
    assert [a["username"] for a in page.json()] == ["bob", "r2"]
    assert f"max_id={follow_ids[2]}" in page.headers["link"]
    rest = await client.get(url, params={"limit": "2", "max_id": str(follow_ids[2])})
    assert [a["username"] for a in rest.json()] == ["r1", "r0"]

    following = await client.get(f"/api/v1/accounts/{alice.actor.id}/following")
    assert [a["acct"] for a in following.json()] == ["r0@remote.example"]
    assert (await client.get("/api/v1/accounts/424242/followers")).status_code == 404

    # Hidden collections: empty for others, shown to the member.
    token = await token_for(client, alice)
    hidden = await client.patch(
        "/api/v1/accounts/update_credentials",
        headers=bearer(token),
        data={"hide_collections": "true"},
    )
    assert hidden.status_code == 200
    assert (await client.get(url)).json() == []
    bob_token = await token_for(client, bob)
    assert (await client.get(url, headers=bearer(bob_token))).json() == []
    mine = await client.get(url, headers=bearer(token))
    assert len(mine.json()) == 4
    assert "link" not in (await client.get(url)).headers


async def test_familiar_followers(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member, bob: Member
) -> None:
    carol = await make_member(runtime, settings, "carol")
    dan = await remote(runtime, "dan")
    await follow(runtime, alice.actor, bob.actor)
    await follow(runtime, alice.actor, carol.actor)
    await follow(runtime, bob.actor, dan)
    await follow(runtime, carol.actor, dan)
    token = await token_for(client, alice)
    response = await client.get(
        "/api/v1/accounts/familiar_followers",
        params=[("id[]", str(dan.id)), ("id[]", str(bob.actor.id))],
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [entry["id"] for entry in body] == [str(dan.id), str(bob.actor.id)]
    assert sorted(a["username"] for a in body[0]["accounts"]) == ["bob", "carol"]
    assert body[1]["accounts"] == []
    for entry in body:
        assert_matches("FamiliarFollowers", entry)
    assert (await client.get("/api/v1/accounts/familiar_followers")).status_code == 401
    read_only = await token_for(client, alice, scope="read:statuses")
    refused = await client.get(
        "/api/v1/accounts/familiar_followers",
        params={"id[]": str(dan.id)},
        headers=bearer(read_only),
    )
    assert refused.status_code == 403


async def test_account_search(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member, bob: Member
) -> None:
    await make_member(runtime, settings, "bobby_tables")
    far = await remote(runtime, "bobcat", "far.example")
    await follow(runtime, alice.actor, far)
    token = await token_for(client, alice)
    found = await client.get("/api/v1/accounts/search", params={"q": "bob"}, headers=bearer(token))
    assert found.status_code == 200, found.text
    names = [a["acct"] for a in found.json()]
    assert names[0] == "bob"  # the exact username first
    assert names[1] == "bobcat@far.example"  # then whom alice follows
    assert "bobby_tables" in names
    for account in found.json():
        assert_matches("Account", account)
    # "_" is matched literally, not as a wildcard.
    literal = await client.get(
        "/api/v1/accounts/search", params={"q": "bobby_t"}, headers=bearer(token)
    )
    assert [a["acct"] for a in literal.json()] == ["bobby_tables"]
    wildcard = await client.get(
        "/api/v1/accounts/search", params={"q": "b_b"}, headers=bearer(token)
    )
    assert wildcard.json() == []
    by_domain = await client.get(
        "/api/v1/accounts/search", params={"q": "bob@far.example"}, headers=bearer(token)
    )
    assert [a["acct"] for a in by_domain.json()] == ["bobcat@far.example"]
    following = await client.get(
        "/api/v1/accounts/search",
        params={"q": "bob", "following": "true"},
        headers=bearer(token),
    )
    assert [a["acct"] for a in following.json()] == ["bobcat@far.example"]
    limited = await client.get(
        "/api/v1/accounts/search", params={"q": "bob", "limit": "1"}, headers=bearer(token)
    )
    assert len(limited.json()) == 1
    # Not resolved without resolve=true, and unknown servers give nothing.
    unknown = await client.get(
        "/api/v1/accounts/search",
        params={"q": "someone@nowhere.invalid"},
        headers=bearer(token),
    )
    assert unknown.json() == []

    assert (await client.get("/api/v1/accounts/search", params={"q": "bob"})).status_code == 401
    empty = await client.get("/api/v1/accounts/search", headers=bearer(token))
    assert empty.status_code == 422
    write_only = await token_for(client, alice, scope="write")
    refused = await client.get(
        "/api/v1/accounts/search", params={"q": "bob"}, headers=bearer(write_only)
    )
    assert refused.status_code == 403


async def test_private_note(
    client: httpx.AsyncClient, runtime: Runtime, alice: Member, bob: Member
) -> None:
    token = await token_for(client, alice)
    response = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/note",
        headers=bearer(token),
        data={"comment": "met at the fair"},
    )
    assert response.status_code == 200, response.text
    assert_matches("Relationship", response.json())
    assert response.json()["note"] == "met at the fair"
    relationships = await client.get(
        "/api/v1/accounts/relationships", params={"id[]": str(bob.actor.id)}, headers=bearer(token)
    )
    assert relationships.json()[0]["note"] == "met at the fair"
    # Only alice sees her note.
    bob_token = await token_for(client, bob)
    theirs = await client.get(
        "/api/v1/accounts/relationships",
        params={"id[]": str(bob.actor.id)},
        headers=bearer(bob_token),
    )
    assert theirs.json()[0]["note"] == ""
    cleared = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/note", headers=bearer(token), data={"comment": ""}
    )
    assert cleared.json()["note"] == ""

    too_long = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/note", headers=bearer(token), data={"comment": "x" * 2001}
    )
    assert too_long.status_code == 422
    assert (
        await client.post(f"/api/v1/accounts/{bob.actor.id}/note", data={"comment": "x"})
    ).status_code == 401
    read_only = await token_for(client, alice, scope="read")
    assert (
        await client.post(
            f"/api/v1/accounts/{bob.actor.id}/note",
            headers=bearer(read_only),
            data={"comment": "x"},
        )
    ).status_code == 403
    assert (
        await client.post(
            "/api/v1/accounts/98765/note", headers=bearer(token), data={"comment": "x"}
        )
    ).status_code == 404


async def test_remove_from_followers(
    client: httpx.AsyncClient, runtime: Runtime, alice: Member, bob: Member
) -> None:
    far = await remote(runtime, "eve")
    await follow(runtime, far, alice.actor)
    await follow(runtime, bob.actor, alice.actor)
    token = await token_for(client, alice)

    removed = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/remove_from_followers", headers=bearer(token)
    )
    assert removed.status_code == 200, removed.text
    assert_matches("Relationship", removed.json())
    assert removed.json()["followed_by"] is False
    assert await follows_db.get_follow(runtime.pool, bob.actor.id, alice.actor.id) is None

    remote_removed = await client.post(
        f"/api/v1/accounts/{far.id}/remove_from_followers", headers=bearer(token)
    )
    assert remote_removed.json()["followed_by"] is False
    reject = await runtime.pool.fetchval(
        "SELECT body FROM activities WHERE actor_id = $1 AND activity_type = 'Reject'",
        alice.actor.id,
    )
    assert reject["object"]["actor"] == far.uri

    again = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/remove_from_followers", headers=bearer(token)
    )
    assert again.status_code == 200
    read_only = await token_for(client, alice, scope="read")
    refused = await client.post(
        f"/api/v1/accounts/{bob.actor.id}/remove_from_followers", headers=bearer(read_only)
    )
    assert refused.status_code == 403
    assert (
        await client.post("/api/v1/accounts/777/remove_from_followers", headers=bearer(token))
    ).status_code == 404


async def test_follow_lists_check_the_token(
    client: httpx.AsyncClient, alice: Member, bob: Member
) -> None:
    write_only = await token_for(client, alice, scope="write")
    for kind in ("followers", "following"):
        url = f"/api/v1/accounts/{bob.actor.id}/{kind}"
        assert (await client.get(url, headers=bearer("bogus"))).status_code == 401
        assert (await client.get(url, headers=bearer(write_only))).status_code == 403
        assert (await client.get(url, params={"since_id": "-1"})).status_code == 422
        assert (await client.get(f"/api/v1/accounts/0{kind}/{kind}")).status_code == 404


async def test_instance_actor_is_no_account_but_remote_bots_are(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    instance = runtime.instance_actor
    assert (await client.get(f"/api/v1/accounts/{instance.id}/statuses")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{instance.id}/followers")).status_code == 404
    relay = await upsert_remote_actor(
        runtime.pool,
        uri="https://relay.example/actor",
        username="relay",
        domain="relay.example",
        actor_type="Application",
        inbox_uri="https://relay.example/inbox",
    )
    assert (await client.get(f"/api/v1/accounts/{relay.id}/statuses")).status_code == 200
    token = await token_for(client, alice)
    domain_name = settings.domain.split(":")[0][:4]
    found = await client.get(
        "/api/v1/accounts/search", params={"q": domain_name}, headers=bearer(token)
    )
    assert instance.id not in [int(a["id"]) for a in found.json()]
    bots = await client.get("/api/v1/accounts/search", params={"q": "relay"}, headers=bearer(token))
    assert [a["acct"] for a in bots.json()] == ["relay@relay.example"]
    assert bots.json()[0]["bot"] is True
