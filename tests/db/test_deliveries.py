from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from fedinet.db import servers as servers_db
from fedinet.db.actors import insert_actor
from fedinet.db.deliveries import (
    DELIVERY_CHANNEL,
    claim_deliveries,
    delivery_domain,
    enqueue_deliveries,
    get_activity_by_uri,
    get_delivery,
    insert_activity,
    list_deliveries_for_activity,
    list_outbox_activities,
    mark_delivered,
    mark_failed,
    queue_stats,
    release_deliveries,
    reschedule_deliveries,
    schedule_retry,
)
from fedinet.db.pool import Pool, create_pool
from fedinet.federation.transport import url_authority
from fedinet.models import Activity

LEASE = timedelta(minutes=5)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=4)
    yield opened
    await opened.close()


async def _actor_id(pool: Pool, username: str = "alice") -> int:
    actor = await insert_actor(
        pool,
        uri=f"https://fedinet.test/users/{username}",
        is_local=True,
        username=username,
        domain="fedinet.test",
    )
    return actor.id


async def _activity(
    pool: Pool, actor_id: int, n: int = 1, visibility: str = "public", **body: Any
) -> Activity:
    uri = f"https://fedinet.test/activities/{n}"
    return await insert_activity(
        pool,
        uri=uri,
        actor_id=actor_id,
        activity_type="Create",
        object_uri=f"https://fedinet.test/statuses/{n}",
        visibility=visibility,
        body={"id": uri, "type": "Create", **body},
    )


# --- activities -------------------------------------------------------------------------


async def test_insert_and_get_activity(pool: Pool) -> None:
    actor_id = await _actor_id(pool)
    activity = await _activity(pool, actor_id, content="héllo")
    assert activity.activity_type == "Create" and activity.visibility == "public"
    assert activity.body == {"id": activity.uri, "type": "Create", "content": "héllo"}
    assert await get_activity_by_uri(pool, activity.uri) == activity
    assert await get_activity_by_uri(pool, "https://fedinet.test/activities/none") is None


async def test_outbox_lists_public_and_unlisted_newest_first(pool: Pool) -> None:
    actor_id = await _actor_id(pool)
    other = await _actor_id(pool, "bob")
    visibilities = ["public", "unlisted", "private", "direct", "public"]
    made = [await _activity(pool, actor_id, n, v) for n, v in enumerate(visibilities)]
    await _activity(pool, other, 99)
    listed = await list_outbox_activities(pool, actor_id, limit=10)
    assert [a.uri for a in listed] == [made[4].uri, made[1].uri, made[0].uri]
    page = await list_outbox_activities(pool, actor_id, limit=1, max_id=made[4].id)
    assert [a.uri for a in page] == [made[1].uri]


# --- enqueueing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://Remote.Example/inbox",
        "https://remote.example:443/inbox",
        "http://remote.example:80/inbox",
        "https://remote.example:8443/users/a/inbox",
        "http://127.0.0.1:8080/inbox",
        "https://[2001:DB8::1]:8443/inbox",
        "https://[2001:db8::1]/inbox",
    ],
)
def test_delivery_domain_matches_url_authority(url: str) -> None:
    assert delivery_domain(url) == url_authority(url)


async def test_enqueue_dedupes_and_interleaves_domains(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    inboxes = [f"https://a.example/users/{n}/inbox" for n in range(3)]
    inboxes += ["https://b.example/inbox", "https://c.example:8443/inbox", inboxes[0]]
    assert await enqueue_deliveries(pool, activity.id, inboxes) == 5
    rows = await list_deliveries_for_activity(pool, activity.id)
    assert [row.domain for row in rows] == [
        "a.example",
        "b.example",
        "c.example:8443",
        "a.example",
        "a.example",
    ]
    assert all(row.state == "pending" and row.attempts == 0 for row in rows)
    # queuing the same inboxes again adds nothing
    assert await enqueue_deliveries(pool, activity.id, inboxes) == 0
    assert await enqueue_deliveries(pool, activity.id, []) == 0


async def test_enqueue_refuses_a_url_without_host(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    with pytest.raises(ValueError, match="no host"):
        await enqueue_deliveries(pool, activity.id, ["https:///inbox"])


async def test_enqueue_notifies_the_workers(pool: Pool, database_url: str) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    listener = await asyncpg.connect(database_url)
    woken = asyncio.Event()
    try:
        await listener.add_listener(DELIVERY_CHANNEL, lambda *_: woken.set())
        await enqueue_deliveries(pool, activity.id, ["https://a.example/inbox"])
        await asyncio.wait_for(woken.wait(), timeout=5)
        woken.clear()
        await enqueue_deliveries(pool, activity.id, ["https://a.example/inbox"])  # nothing new
        await asyncio.sleep(0.2)
        assert not woken.is_set()
    finally:
        await listener.close()


# --- claiming ---------------------------------------------------------------------------


async def test_claim_returns_what_delivering_needs(pool: Pool) -> None:
    actor_id = await _actor_id(pool)
    activity = await _activity(pool, actor_id, content="x")
    await enqueue_deliveries(pool, activity.id, ["https://a.example/inbox"])
    await servers_db.set_signature_format(pool, "a.example", "rfc9421")
    [claimed] = await claim_deliveries(pool, limit=10, lease=LEASE)
    assert claimed.activity_id == activity.id and claimed.activity_uri == activity.uri
    assert claimed.actor_id == actor_id
    assert claimed.inbox_uri == "https://a.example/inbox" and claimed.domain == "a.example"
    assert claimed.body == activity.body
    assert claimed.attempts == 1 and not claimed.probe and claimed.server_failures == 0
    assert claimed.signature_format == "rfc9421"
    # leased: nobody else gets it
    assert await claim_deliveries(pool, limit=10, lease=LEASE) == []


async def test_concurrent_claims_never_share_a_row(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    inboxes = [f"https://s{n % 7}.example/users/{n}/inbox" for n in range(60)]
    await enqueue_deliveries(pool, activity.id, inboxes)
    batches = await asyncio.gather(
        *(claim_deliveries(pool, limit=10, lease=LEASE) for _ in range(4))
    )
    ids = [d.id for batch in batches for d in batch]
    assert len(ids) == len(set(ids)) and 10 <= len(ids) <= 40
    # claims running at the same time may skip each other's candidates; the rest comes next
    while batch := await claim_deliveries(pool, limit=10, lease=LEASE):
        ids += [d.id for d in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_claim_skips_domains_and_caps_each_domain(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    inboxes = [f"https://a.example/users/{n}/inbox" for n in range(10)]
    inboxes += [f"https://b.example/users/{n}/inbox" for n in range(10)]
    await enqueue_deliveries(pool, activity.id, inboxes)
    first = await claim_deliveries(pool, limit=10, lease=LEASE, per_domain=2)
    assert sorted(d.domain for d in first) == ["a.example"] * 2 + ["b.example"] * 2
    second = await claim_deliveries(pool, limit=10, lease=LEASE, skip_domains=["a.example"])
    assert {d.domain for d in second} == {"b.example"} and len(second) == 8


async def test_claim_waits_for_due_time_and_expired_lease(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    await enqueue_deliveries(pool, activity.id, ["https://a.example/inbox"])
    [claimed] = await claim_deliveries(pool, limit=1, lease=timedelta(milliseconds=300))
    assert await claim_deliveries(pool, limit=1, lease=LEASE) == []
    await asyncio.sleep(0.4)  # the worker "died": its lease runs out
    [again] = await claim_deliveries(pool, limit=1, lease=LEASE)
    assert again.id == claimed.id and again.attempts == 2
    await schedule_retry(pool, again.id, timedelta(hours=1), 503, "HTTP 503")
    assert await claim_deliveries(pool, limit=1, lease=LEASE) == []
    row = await get_delivery(pool, again.id)
    assert row is not None and row.state == "pending" and row.locked_until is None
    assert row.last_status == 503 and row.last_error == "HTTP 503"
    assert await reschedule_deliveries(pool, domain="other.example") == 0
    assert await reschedule_deliveries(pool, domain="a.example") == 1
    [third] = await claim_deliveries(pool, limit=1, lease=LEASE)
    assert third.id == claimed.id and third.attempts == 3


async def test_unreachable_server_is_skipped_but_probed(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    await enqueue_deliveries(
        pool,
        activity.id,
        ["https://down.example/1", "https://down.example/2", "https://up.example/1"],
    )
    for _ in range(3):
        await servers_db.record_failure(pool, "down.example")
    claimed = await claim_deliveries(pool, limit=10, lease=LEASE, unreachable_after=3)
    assert [d.domain for d in claimed] == ["up.example"]
    # due for a probe: exactly one delivery, marked as a probe, and only one worker gets it
    every = timedelta(milliseconds=300)
    await asyncio.sleep(0.4)
    probes = await asyncio.gather(
        *(
            claim_deliveries(pool, limit=10, lease=LEASE, unreachable_after=3, probe_every=every)
            for _ in range(3)
        )
    )
    found = [d for batch in probes for d in batch]
    assert len(found) == 1 and found[0].probe and found[0].domain == "down.example"
    assert found[0].server_failures == 3
    # not due again right after
    again = await claim_deliveries(
        pool, limit=10, lease=LEASE, unreachable_after=3, probe_every=every
    )
    assert again == []
    await servers_db.record_success(pool, "down.example")
    [rest] = await claim_deliveries(pool, limit=10, lease=LEASE, unreachable_after=3)
    assert rest.domain == "down.example" and not rest.probe


async def test_marks_finish_rows_once(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    await enqueue_deliveries(pool, activity.id, ["https://a.example/1", "https://b.example/1"])
    a, b = await claim_deliveries(pool, limit=10, lease=LEASE)
    await mark_delivered(pool, [(a.id, 202)])
    await mark_delivered(pool, [])
    await mark_failed(pool, b.id, 410, "HTTP 410")
    await mark_failed(pool, a.id, 500, "late")  # a delivered row stays delivered
    rows = {row.id: row for row in await list_deliveries_for_activity(pool, activity.id)}
    assert rows[a.id].state == "delivered" and rows[a.id].last_status == 202
    assert rows[a.id].delivered_at is not None and rows[a.id].locked_until is None
    assert rows[b.id].state == "failed" and rows[b.id].last_status == 410
    assert await claim_deliveries(pool, limit=10, lease=LEASE) == []


async def test_release_hands_claimed_rows_back_at_once(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    await enqueue_deliveries(pool, activity.id, ["https://a.example/1", "https://b.example/1"])
    a, b = await claim_deliveries(pool, limit=10, lease=LEASE)
    await mark_delivered(pool, [(b.id, 202)])
    assert await release_deliveries(pool, [a.id, b.id]) == 1  # the delivered row stays
    assert await release_deliveries(pool, []) == 0
    row = await get_delivery(pool, a.id)
    assert row is not None and row.locked_until is None and row.attempts == 0
    delivered = await get_delivery(pool, b.id)
    assert delivered is not None and delivered.state == "delivered"
    (again,) = await claim_deliveries(pool, limit=10, lease=LEASE)  # no lease to wait out
    assert again.id == a.id and again.attempts == 1


async def test_queue_stats(pool: Pool) -> None:
    activity = await _activity(pool, await _actor_id(pool))
    await enqueue_deliveries(
        pool, activity.id, ["https://a.example/1", "https://a.example/2", "https://b.example/1"]
    )
    claimed = await claim_deliveries(pool, limit=10, lease=LEASE)
    b = next(d for d in claimed if d.domain == "b.example")
    await mark_failed(pool, b.id, 404, "HTTP 404")
    stats = {s.domain: s for s in await queue_stats(pool)}
    assert stats["a.example"].pending == 2 and stats["a.example"].failed == 0
    assert stats["b.example"].pending == 0 and stats["b.example"].failed == 1
    assert stats["a.example"].oldest_pending_age is not None
    assert stats["b.example"].oldest_pending_age is None
