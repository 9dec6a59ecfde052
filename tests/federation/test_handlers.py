"""Activity handlers, fed through the real inbox queue and worker code.

Activities are stored as the inbox stores them after verifying a signature (that part is
tested in tests/web/test_inbox.py) and processed by ``process_pending``. Ownership
violations must be dropped, never applied.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fedinet.ap.actors import ap_to_actor
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.federation.actors import store_remote_actor
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from tests.helpers.queue import store_and_process
from tests.helpers.remote import RemoteAccount

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
REMOTE = "https://remote.example"


async def remote_actor(runtime: Runtime, name: str) -> Actor:
    account = RemoteAccount(name, REMOTE)
    return await store_remote_actor(
        runtime, ap_to_actor(account.document(), fetched_from=account.uri)
    )


async def member(
    runtime: Runtime, name: str, *, locked: bool = True, policy: str = "open"
) -> Actor:
    """A local member; ``policy`` is the follow-note policy (open: notes optional, so
    these tests see Mastodon's plain follow behaviour)."""
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, runtime.settings, username=name, email=f"{name}@example.org"
        )
        await conn.execute(
            "UPDATE users SET follow_note_policy = $2 WHERE id = $1", created.user.id, policy
        )
        if not locked:
            await conn.execute(
                "UPDATE actors SET manually_approves_followers = false WHERE id = $1",
                created.actor.id,
            )
    return created.actor


async def deliver(runtime: Runtime, actor: Actor, activity: dict[str, Any]) -> str:
    """Store as the inbox does, process, and return the item's final state + error."""
    activity.setdefault("id", f"{actor.uri}/activities/{uuid.uuid4()}")
    activity.setdefault("actor", actor.uri)
    item = await store_and_process(runtime, activity, actor.uri)
    return f"{item.state}: {item.error or ''}"


def note(author: Actor, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{author.uri}/statuses/{uuid.uuid4().int % 10**12}",
        "type": "Note",
        "attributedTo": author.uri,
        "content": text,
        "published": "2026-11-26T10:00:00Z",
        "to": [PUBLIC],
        "cc": [author.followers_uri],
        **extra,
    }


async def home_feed(runtime: Runtime, owner: Actor) -> list[str]:
    rows = await runtime.pool.fetch(
        "SELECT s.uri FROM home_feed h JOIN statuses s ON s.id = h.status_id "
        "WHERE h.owner_id = $1 ORDER BY s.id",
        owner.id,
    )
    return [r["uri"] for r in rows]


async def test_follow_of_a_locked_member_waits_for_approval(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    state = await deliver(runtime, bob, {"type": "Follow", "object": alice.uri})
    assert state.startswith("done")
    follow = await follows_db.get_follow(runtime.pool, bob.id, alice.id)
    assert follow is not None and follow.state == "pending"
    kinds = await runtime.pool.fetchval(
        "SELECT array_agg(notification_type) FROM notifications WHERE recipient_id = $1",
        alice.id,
    )
    assert kinds == ["follow_request"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM deliveries") == 0


async def test_follow_without_a_note_to_a_strict_member_awaits_one(runtime: Runtime) -> None:
    alice = await member(runtime, "alice", policy="strict")
    bob = await remote_actor(runtime, "bob")
    assert (await deliver(runtime, bob, {"type": "Follow", "object": alice.uri})).startswith("done")
    follow = await follows_db.get_follow(runtime.pool, bob.id, alice.id)
    assert follow is not None and follow.state == "awaiting_note"
    # no follow_request notification yet: the member only sees requests with notes
    assert await runtime.pool.fetchval("SELECT count(*) FROM notifications") == 0
    ask = await runtime.pool.fetchrow(
        "SELECT a.body, d.inbox_uri FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert ask["inbox_uri"] == bob.inbox_uri
    assert ask["body"]["type"] == "Create"
    assert ask["body"]["object"]["to"] == [bob.uri]
    assert "personal note" in ask["body"]["object"]["content"]


async def test_follow_of_an_unlocked_member_is_accepted_and_answered(runtime: Runtime) -> None:
    carol = await member(runtime, "carol", locked=False)
    bob = await remote_actor(runtime, "bob")
    follow_id = f"{bob.uri}/follows/1"
    assert await deliver(runtime, bob, {"id": follow_id, "type": "Follow", "object": carol.uri})
    follow = await follows_db.get_follow(runtime.pool, bob.id, carol.id)
    assert follow is not None and follow.state == "accepted"
    accept = await runtime.pool.fetchrow(
        "SELECT a.body, d.inbox_uri FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert accept["inbox_uri"] == bob.inbox_uri
    assert accept["body"]["type"] == "Accept"
    assert accept["body"]["object"]["id"] == follow_id


async def test_create_from_a_followed_actor_reaches_the_home_feed(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    await follows_db.insert_follow(
        runtime.pool,
        uri=f"{alice.uri}#f1",
        follower_id=alice.id,
        followee_id=bob.id,
        accepted=True,
    )
    post = note(bob, "<p>hello <script>alert(1)</script><b>world</b></p>")
    assert (await deliver(runtime, bob, {"type": "Create", "object": post})).startswith("done")
    assert await home_feed(runtime, alice) == [post["id"]]
    stored = await statuses_db.get_status_by_uri(runtime.pool, post["id"])
    assert stored is not None and "<script>" not in stored.content
    assert "alert" not in stored.content and "world" in stored.content


async def test_create_attributed_to_someone_else_is_dropped(runtime: Runtime) -> None:
    bob = await remote_actor(runtime, "bob")
    mallory = await remote_actor(runtime, "mallory")
    forged = note(bob, "I never said this")
    state = await deliver(runtime, mallory, {"type": "Create", "object": forged})
    assert state.startswith("ignored")
    assert await statuses_db.get_status_by_uri(runtime.pool, forged["id"]) is None


async def test_only_the_author_may_edit_or_delete(runtime: Runtime) -> None:
    bob = await remote_actor(runtime, "bob")
    mallory = await remote_actor(runtime, "mallory")
    post = note(bob, "original")
    await deliver(runtime, bob, {"type": "Create", "object": post})

    forged_edit = {**post, "attributedTo": mallory.uri, "content": "edited by mallory"}
    assert (await deliver(runtime, mallory, {"type": "Update", "object": forged_edit})).startswith(
        "ignored"
    )
    state = await deliver(runtime, mallory, {"type": "Delete", "object": post["id"]})
    assert state.startswith("ignored") and "only delete its own" in state
    stored = await statuses_db.get_status_by_uri(runtime.pool, post["id"])
    assert stored is not None and stored.deleted_at is None and "original" in stored.content

    edit = {**post, "content": "<p>edited</p>", "updated": "2026-11-26T11:00:00Z"}
    assert (await deliver(runtime, bob, {"type": "Update", "object": edit})).startswith("done")
    stored = await statuses_db.get_status_by_uri(runtime.pool, post["id"])
    assert stored is not None and stored.content == "<p>edited</p>" and stored.edited_at
    tombstone = {"id": post["id"], "type": "Tombstone"}
    assert (await deliver(runtime, bob, {"type": "Delete", "object": tombstone})).startswith("done")
    stored = await statuses_db.get_status_by_uri(runtime.pool, post["id"])
    assert stored is not None and stored.deleted_at is not None and stored.content == ""


async def test_only_the_followee_may_accept(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    mallory = await remote_actor(runtime, "mallory")
    follow = await follows_db.insert_follow(
        runtime.pool,
        uri=f"{alice.uri}#follow-bob",
        follower_id=alice.id,
        followee_id=bob.id,
        accepted=False,
    )
    state = await deliver(runtime, mallory, {"type": "Accept", "object": follow.uri})
    assert state.startswith("ignored") and "only answer follow requests made to it" in state
    pending = await follows_db.get_follow(runtime.pool, alice.id, bob.id)
    assert pending is not None and pending.state == "pending"

    embedded = {"type": "Follow", "actor": alice.uri, "object": bob.uri}  # no id, as some send
    assert (await deliver(runtime, bob, {"type": "Accept", "object": embedded})).startswith("done")
    accepted = await follows_db.get_follow(runtime.pool, alice.id, bob.id)
    assert accepted is not None and accepted.state == "accepted"


async def test_reject_removes_our_request(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    follow = await follows_db.insert_follow(
        runtime.pool,
        uri=f"{alice.uri}#f",
        follower_id=alice.id,
        followee_id=bob.id,
        accepted=False,
    )
    assert (await deliver(runtime, bob, {"type": "Reject", "object": follow.uri})).startswith(
        "done"
    )
    assert await follows_db.get_follow(runtime.pool, alice.id, bob.id) is None


async def test_only_the_actor_may_undo(runtime: Runtime) -> None:
    alice = await member(runtime, "alice", locked=False)
    bob = await remote_actor(runtime, "bob")
    mallory = await remote_actor(runtime, "mallory")
    follow_id = f"{bob.uri}/follows/9"
    await deliver(runtime, bob, {"id": follow_id, "type": "Follow", "object": alice.uri})

    forged = {"type": "Undo", "object": {"id": follow_id, "type": "Follow", "actor": bob.uri}}
    assert (await deliver(runtime, mallory, forged)).startswith("ignored")
    by_id_only = {"type": "Undo", "object": follow_id}
    assert (await deliver(runtime, mallory, by_id_only)).startswith("ignored")
    assert await follows_db.get_follow(runtime.pool, bob.id, alice.id) is not None

    real = {
        "type": "Undo",
        "object": {"id": follow_id, "type": "Follow", "actor": bob.uri, "object": alice.uri},
    }
    assert (await deliver(runtime, bob, real)).startswith("done")
    assert await follows_db.get_follow(runtime.pool, bob.id, alice.id) is None


async def test_like_and_its_undo(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    async with runtime.pool.acquire() as conn:
        from fedinet.services.statuses import post_status

        async def nobody(acct: str) -> Actor | None:
            return None

        status = await post_status(
            conn, runtime.settings, alice, text="a post worth liking", resolve=nobody
        )
    like_id = f"{bob.uri}#likes/1"
    like = {"id": like_id, "type": "Like", "object": status.uri}
    assert (await deliver(runtime, bob, like)).startswith("done")
    assert await runtime.pool.fetchval("SELECT count(*) FROM favourites") == 1
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE notification_type = 'favourite'"
        )
        == 1
    )
    undo = {"type": "Undo", "object": {**like, "actor": bob.uri}}
    assert (await deliver(runtime, bob, undo)).startswith("done")
    assert await runtime.pool.fetchval("SELECT count(*) FROM favourites") == 0


async def test_block_removes_follows_both_ways(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    for follower, followee in ((alice, bob), (bob, alice)):
        await follows_db.insert_follow(
            runtime.pool,
            uri=f"{follower.uri}#f{followee.id}",
            follower_id=follower.id,
            followee_id=followee.id,
            accepted=True,
        )
    assert (await deliver(runtime, bob, {"type": "Block", "object": alice.uri})).startswith("done")
    assert await follows_db.get_follow(runtime.pool, alice.id, bob.id) is None
    assert await follows_db.get_follow(runtime.pool, bob.id, alice.id) is None
    # and bob's follow request is now refused with a Reject
    await deliver(runtime, bob, {"type": "Follow", "object": alice.uri})
    assert await follows_db.get_follow(runtime.pool, bob.id, alice.id) is None
    types = await runtime.pool.fetch(
        "SELECT a.body->>'type' AS t FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert [r["t"] for r in types] == ["Reject"]


async def test_flag_is_stored_as_a_report(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    flag = {"type": "Flag", "object": [alice.uri], "content": "spam"}
    assert (await deliver(runtime, bob, flag)).startswith("done")
    report = await runtime.pool.fetchrow("SELECT * FROM reports")
    assert report["target_actor_id"] == alice.id and report["comment"] == "spam"


@pytest.mark.parametrize("kind", ["Move", "Arrive", "EmojiReact"])
async def test_unknown_types_are_kept_and_ignored(runtime: Runtime, kind: str) -> None:
    bob = await remote_actor(runtime, "bob")
    state = await deliver(runtime, bob, {"type": kind, "object": bob.uri})
    assert state.startswith("ignored")


async def test_delete_of_an_actor_removes_its_content(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    bob = await remote_actor(runtime, "bob")
    await follows_db.insert_follow(
        runtime.pool,
        uri=f"{alice.uri}#f",
        follower_id=alice.id,
        followee_id=bob.id,
        accepted=True,
    )
    post = note(bob, "soon gone")
    await deliver(runtime, bob, {"type": "Create", "object": post})
    assert await home_feed(runtime, alice) == [post["id"]]
    assert (await deliver(runtime, bob, {"type": "Delete", "object": bob.uri})).startswith("done")
    assert await home_feed(runtime, alice) == []
    assert await follows_db.get_follow(runtime.pool, alice.id, bob.id) is None
