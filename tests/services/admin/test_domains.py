"""Domain blocks and what they do to federation: suspend cuts everything, silence limits."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from fedinet.db import domain_blocks as blocks_db
from fedinet.db import interactions as interactions_db
from fedinet.db.timelines import public_timeline
from fedinet.errors import NotFound, ValidationError
from fedinet.federation.inbox_state import BLOCK_TTL
from fedinet.runtime import Runtime
from fedinet.services.admin.domains import block_domain, list_domain_blocks, unblock_domain
from tests.helpers.queue import store_and_process
from tests.helpers.remote import RemoteServer
from tests.services.admin._common import follow, member, queue_delivery, remote, remote_status


@pytest.mark.parametrize(
    ("block", "target"),
    [
        ("example.com", "example.com"),
        ("example.com", "a.b.example.com"),
        ("example.com", "example.com:8443"),
        ("example.com", "a.example.com:8443"),
        ("example.com", "notexample.com"),
        ("example.com", "example.com.evil"),
        ("example.com:8443", "example.com"),
        ("example.com:8443", "example.com:8443"),
        ("example.com:8443", "a.example.com:8443"),
        ("com", "example.com"),
        ("3.4", "1.2.3.4"),
        ("1.2.3.4", "1.2.3.4:8000"),
        ("[::1]", "[::1]:8000"),
        ("[::1]:8000", "[::1]"),
        ("ex_ample.com", "exxample.com"),
        ("Example.COM.", "www.example.com"),
    ],
)
async def test_sql_covering_rule_agrees_with_python(
    runtime: Runtime, block: str, target: str
) -> None:
    for severity in ("silence", "suspend"):
        await blocks_db.add_domain_block(runtime.pool, block, severity)
        expected = await blocks_db.find_domain_block(runtime.pool, target)
        got = await blocks_db.domain_block_severity(runtime.pool, target)
        assert got == (expected.severity if expected else None), (block, target, severity)


async def test_the_strongest_covering_block_wins(runtime: Runtime) -> None:
    await blocks_db.add_domain_block(runtime.pool, "example.com", "suspend")
    await blocks_db.add_domain_block(runtime.pool, "a.example.com", "silence")
    assert await blocks_db.domain_block_severity(runtime.pool, "a.example.com") == "suspend"
    assert await blocks_db.is_domain_blocked(runtime.pool, "a.example.com")


async def test_suspend_severs_follows_feeds_notifications_and_deliveries(
    runtime: Runtime,
) -> None:
    ana = await member(runtime, "ana")
    bob = await remote(runtime, "bob", "https://spam.example")
    sub = await remote(runtime, "sub", "https://eu.spam.example")
    carol = await remote(runtime, "carol", "https://good.example")
    for a, b in ((ana, bob), (bob, ana), (sub, ana), (carol, ana), (ana, carol)):
        await follow(runtime, a, b)
    bad_post = await remote_status(runtime, bob)
    good_post = await remote_status(runtime, carol)
    await interactions_db.add_to_home_feeds(runtime.pool, bad_post.id, [ana.id])
    await interactions_db.add_to_home_feeds(runtime.pool, good_post.id, [ana.id])
    for who in (bob, carol):
        await interactions_db.insert_notification(
            runtime.pool, recipient_id=ana.id, notification_type="follow", from_actor_id=who.id
        )
    await queue_delivery(runtime, ana, "https://spam.example/inbox")
    await queue_delivery(runtime, ana, "https://eu.spam.example:8443/inbox")
    await queue_delivery(runtime, ana, "https://good.example/inbox")

    async with runtime.pool.acquire() as conn:
        done = await block_domain(conn, runtime.settings, "SPAM.example", "suspend", " spam ")
    assert done.block.domain == "spam.example" and done.block.reason == "spam"
    assert (done.follows_severed, done.deliveries_cancelled, done.feed_entries_removed) == (
        3,
        2,
        1,
    )

    follows = await runtime.pool.fetch("SELECT follower_id, followee_id FROM follows")
    assert {(r["follower_id"], r["followee_id"]) for r in follows} == {
        (carol.id, ana.id),
        (ana.id, carol.id),
    }
    feed = await runtime.pool.fetch("SELECT status_id FROM home_feed WHERE owner_id = $1", ana.id)
    assert [r["status_id"] for r in feed] == [good_post.id]
    senders = await runtime.pool.fetch("SELECT from_actor_id FROM notifications")
    assert [r["from_actor_id"] for r in senders] == [carol.id]
    rows = await runtime.pool.fetch("SELECT domain, state, last_error FROM deliveries")
    states = {r["domain"]: (r["state"], r["last_error"]) for r in rows}
    assert states == {
        "spam.example": ("failed", "domain suspended"),
        "eu.spam.example:8443": ("failed", "domain suspended"),
        "good.example": ("pending", None),
    }

    # New activities are never queued for the suspended domain.
    await queue_delivery(runtime, ana, "https://spam.example/users/x/inbox")
    await queue_delivery(runtime, ana, "https://good.example/users/y/inbox")
    pending = await runtime.pool.fetch(
        "SELECT inbox_uri FROM deliveries WHERE state = 'pending' ORDER BY id"
    )
    assert [r["inbox_uri"] for r in pending] == [
        "https://good.example/inbox",
        "https://good.example/users/y/inbox",
    ]

    # An activity of theirs stored before the block is dropped by the worker.
    item = await store_and_process(
        runtime,
        {"id": f"{bob.uri}/likes/1", "type": "Like", "actor": bob.uri, "object": "x"},
        bob.uri,
    )
    assert item.state == "ignored" and item.error is not None
    assert item.error.startswith("domain_blocked")


async def test_silence_hides_from_public_timelines_and_strangers_notifications(
    runtime: Runtime,
) -> None:
    ana = await member(runtime, "ana")
    ben = await member(runtime, "ben")
    loud = await remote(runtime, "loud", "https://loud.example")
    quiet = await remote(runtime, "quiet", "https://quiet.example")
    await follow(runtime, ana, loud)
    loud_post = await remote_status(runtime, loud)
    quiet_post = await remote_status(runtime, quiet)

    async with runtime.pool.acquire() as conn:
        done = await block_domain(conn, runtime.settings, "loud.example", "limit", "")
    assert done.block.severity == "silence" and done.follows_severed == 0

    timeline = await public_timeline(runtime.pool, local_only=False, remote_only=False, limit=20)
    assert [s.id for s in timeline] == [quiet_post.id]
    for who in (ana, ben):
        await interactions_db.insert_notification(
            runtime.pool,
            recipient_id=who.id,
            notification_type="mention",
            from_actor_id=loud.id,
            status_id=loud_post.id,
        )
    got = await runtime.pool.fetch("SELECT recipient_id FROM notifications")
    assert [r["recipient_id"] for r in got] == [ana.id]  # ana follows loud, ben does not
    assert await runtime.pool.fetchval("SELECT count(*) FROM follows") == 1

    async with runtime.pool.acquire() as conn:
        await unblock_domain(conn, "loud.example")
    timeline = await public_timeline(runtime.pool, local_only=False, remote_only=False, limit=20)
    assert {s.id for s in timeline} == {quiet_post.id, loud_post.id}


async def test_bad_blocks_are_refused(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        for domain, severity, field in (
            ("fedinet.test", "suspend", "domain"),
            ("test", "suspend", "domain"),
            ("https://spam.example/", "suspend", "domain"),
            ("", "suspend", "domain"),
            ("spam.example", "obliterate", "severity"),
            ("a b.example", "silence", "domain"),
        ):
            with pytest.raises(ValidationError) as caught:
                await block_domain(conn, runtime.settings, domain, severity)
            assert caught.value.field == field, domain
        with pytest.raises(NotFound):
            await unblock_domain(conn, "never.example")
        assert await list_domain_blocks(conn) == []


async def test_a_suspended_domains_signed_post_is_refused(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    with RemoteServer() as server:
        eve = server.add_account("eve")
        runtime_settings = runtime.settings
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{eve.uri}/activities/{uuid.uuid4()}",
                "type": "Like",
                "actor": eve.uri,
                "object": f"{runtime_settings.url}/notes/1",
            }
        ).encode()
        url = f"{runtime_settings.url}/inbox"
        # Without the block the signature is checked (and fails here: this test app may
        # not fetch keys from loopback); with it, the domain is refused before that.
        before = await client.post(url, content=body, headers=eve.sign("POST", url, body))
        assert before.status_code == 401
        async with runtime.pool.acquire() as conn:
            await block_domain(conn, runtime_settings, "127.0.0.1", "suspend", "test")
        await asyncio.sleep(BLOCK_TTL)  # what the inbox remembers of the earlier answer
        refused = await client.post(url, content=body, headers=eve.sign("POST", url, body))
        assert refused.status_code == 403
        assert refused.json()["reason"] == "domain_blocked"
