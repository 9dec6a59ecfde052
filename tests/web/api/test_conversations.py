"""Direct-message conversations built from real direct statuses."""

from __future__ import annotations

import httpx

from fedinet.config import Settings
from fedinet.runtime import Runtime
from tests.web.api.actions import link_ids, person, post, token_with
from tests.web.api.schema import assert_matches


async def test_conversations(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    carol = await person(client, runtime, settings, "carol")
    first = await post(client, bob, "@alice psst", visibility="direct")
    group = await post(client, carol, "@alice @bob all three", visibility="direct")
    await post(client, alice, "@bob public mention")  # not direct: no conversation
    answer = await post(client, alice, "@bob yes?", visibility="direct", in_reply_to_id=first["id"])

    listed = await client.get("/api/v1/conversations", headers=alice.headers)
    assert listed.status_code == 200
    body = listed.json()
    for item in body:
        assert_matches("Conversation", item)
    assert [c["last_status"]["id"] for c in body] == [answer["id"], group["id"]]
    assert [a["username"] for a in body[0]["accounts"]] == ["bob"]
    assert sorted(a["username"] for a in body[1]["accounts"]) == ["bob", "carol"]
    assert body[0]["unread"] is False  # alice wrote the last one
    assert body[1]["unread"] is True

    bob_sees = (await client.get("/api/v1/conversations", headers=bob.headers)).json()
    assert [c["last_status"]["id"] for c in bob_sees] == [answer["id"], group["id"]]
    assert bob_sees[0]["unread"] is True
    assert [a["username"] for a in bob_sees[0]["accounts"]] == ["alice"]

    page = await client.get("/api/v1/conversations", headers=alice.headers, params={"limit": 1})
    assert len(page.json()) == 1
    older = await client.get(
        "/api/v1/conversations",
        headers=alice.headers,
        params={"limit": 1, "max_id": link_ids(page)["next"]},
    )
    assert older.json()[0]["id"] == body[1]["id"]

    read = await client.post(f"/api/v1/conversations/{body[1]['id']}/read", headers=alice.headers)
    assert read.status_code == 200
    assert_matches("Conversation", read.json())
    assert read.json()["unread"] is False
    again = (await client.get("/api/v1/conversations", headers=alice.headers)).json()
    assert [c["unread"] for c in again] == [False, False]

    # bob cannot touch alice's conversation
    assert (
        await client.post(f"/api/v1/conversations/{body[1]['id']}/read", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/conversations/{body[1]['id']}", headers=bob.headers)
    ).status_code == 404

    removed = await client.delete(f"/api/v1/conversations/{body[1]['id']}", headers=alice.headers)
    assert removed.status_code == 200
    left = (await client.get("/api/v1/conversations", headers=alice.headers)).json()
    assert [c["id"] for c in left] == [body[0]["id"]]
    # a new message brings it back, unread
    newer = await post(client, carol, "@alice @bob still there?", visibility="direct")
    back = (await client.get("/api/v1/conversations", headers=alice.headers)).json()
    assert back[0]["id"] == body[1]["id"]
    assert back[0]["last_status"]["id"] == newer["id"] and back[0]["unread"] is True

    assert (await client.get("/api/v1/conversations")).status_code == 401
    reader = await token_with(client, alice, "read:statuses")
    assert (await client.get("/api/v1/conversations", headers=reader)).status_code == 200
    assert (
        await client.post(f"/api/v1/conversations/{body[0]['id']}/read", headers=reader)
    ).status_code == 403
    assert (
        await client.post("/api/v1/conversations/nope/read", headers=alice.headers)
    ).status_code == 404
