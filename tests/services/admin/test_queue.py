"""The delivery queue per server, retrying a server now, and the clean-up."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from fedinet.db import deliveries as deliveries_db
from fedinet.db import servers as servers_db
from fedinet.db.domain_blocks import add_domain_block
from fedinet.db.inbox import insert_inbox_item, mark_inbox_item
from fedinet.errors import ValidationError
from fedinet.runtime import Runtime
from fedinet.services.admin.queue import cleanup, queue_stats, retry_server
from tests.services.admin._common import member, queue_delivery, remote, remote_status


async def test_stats_and_retry(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    for n in range(3):
        await queue_delivery(runtime, ana, f"https://slow.example/users/{n}/inbox")
    await queue_delivery(runtime, ana, "https://fast.example/inbox")
    failed_id = await runtime.pool.fetchval(
        "SELECT id FROM deliveries WHERE inbox_uri = 'https://slow.example/users/0/inbox'"
    )
    await deliveries_db.mark_failed(runtime.pool, failed_id, 500, "HTTP 500")
    await runtime.pool.execute(
        "UPDATE deliveries SET next_attempt_at = now() + interval '5 hours', attempts = 4 "
        "WHERE domain = 'slow.example'"
    )
    for _ in range(12):
        await servers_db.record_failure(runtime.pool, "slow.example")

    stats = {s.domain: s for s in await queue_stats(runtime.pool)}
    assert (stats["slow.example"].pending, stats["slow.example"].failed) == (2, 1)
    assert (stats["fast.example"].pending, stats["fast.example"].failed) == (1, 0)
    assert stats["slow.example"].oldest_pending_age is not None

    async with runtime.pool.acquire() as conn:
        assert await retry_server(conn, " SLOW.example ") == 3
    rows = await runtime.pool.fetch(
        "SELECT id, state, attempts, next_attempt_at <= now() AS due FROM deliveries "
        "WHERE domain = 'slow.example'"
    )
    assert all(r["state"] == "pending" and r["due"] for r in rows)
    assert {r["id"]: r["attempts"] for r in rows}[failed_id] == 0
    server = await servers_db.get_server(runtime.pool, "slow.example")
    assert server is not None and server.consecutive_failures == 0
    claimed = await deliveries_db.claim_deliveries(
        runtime.pool, limit=10, lease=timedelta(minutes=1)
    )
    assert {d.domain for d in claimed} == {"slow.example", "fast.example"}


async def test_retry_refuses_bad_and_suspended_servers(runtime: Runtime) -> None:
    await add_domain_block(runtime.pool, "blocked.example", "suspend")
    async with runtime.pool.acquire() as conn:
        for server in ("", "a b", "x@y.example", "sub.blocked.example"):
            with pytest.raises(ValidationError):
                await retry_server(conn, server)
        assert await retry_server(conn, "https://idle.example") == 0


async def test_cleanup_deletes_only_what_is_past_retention(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    await queue_delivery(runtime, ana, "https://a.example/inbox")
    await queue_delivery(runtime, ana, "https://b.example/inbox")
    await queue_delivery(runtime, ana, "https://c.example/inbox")
    await runtime.pool.execute(
        "UPDATE deliveries SET state = 'delivered', created_at = now() - interval '30 days' "
        "WHERE domain IN ('a.example', 'c.example')"
    )
    await runtime.pool.execute(
        "UPDATE deliveries SET state = 'pending', created_at = now() - interval '30 days' "
        "WHERE domain = 'c.example'"
    )  # still pending however old: kept
    for n, state in enumerate(("done", "pending", "done")):
        await insert_inbox_item(
            runtime.pool,
            activity_id=f"https://x.example/a/{n}",
            activity_type="Like",
            actor_uri="https://x.example/u",
            recipient_actor_id=None,
            key_id="https://x.example/u#main-key",
            body_json=json.dumps({"type": "Like"}),
        )
        item_id = await runtime.pool.fetchval(
            "SELECT id FROM inbox_items WHERE activity_id = $1", f"https://x.example/a/{n}"
        )
        if state == "done":
            await mark_inbox_item(runtime.pool, item_id, "done")
    await runtime.pool.execute(
        "UPDATE inbox_items SET received_at = now() - interval '8 days' "
        "WHERE activity_id <> 'https://x.example/a/2'"
    )
    bob = await remote(runtime, "bob")
    old_untouched = await remote_status(runtime, bob)
    old_favourited = await remote_status(runtime, bob)
    old_mentioning = await remote_status(runtime, bob)
    fresh = await remote_status(runtime, bob)
    await runtime.pool.execute(
        "INSERT INTO favourites (uri, actor_id, status_id) VALUES ('f1', $1, $2)",
        ana.id,
        old_favourited.id,
    )
    await runtime.pool.execute(
        "INSERT INTO mentions (status_id, actor_id) VALUES ($1, $2)", old_mentioning.id, ana.id
    )
    await runtime.pool.execute(
        "UPDATE statuses SET created_at = now() - interval '100 days' WHERE id <> $1", fresh.id
    )

    done = await cleanup(runtime.pool, runtime.settings)
    assert (done.deliveries, done.inbox_items, done.remote_statuses) == (1, 1, 1)
    left = await runtime.pool.fetch("SELECT domain FROM deliveries ORDER BY domain")
    assert [r["domain"] for r in left] == ["b.example", "c.example"]
    statuses = await runtime.pool.fetch("SELECT id FROM statuses WHERE NOT is_local")
    assert {r["id"] for r in statuses} == {old_favourited.id, old_mentioning.id, fresh.id}
    assert old_untouched.id not in {r["id"] for r in statuses}

    keep_all = dataclasses.replace(runtime.settings, remote_content_days=0)
    await runtime.pool.execute("DELETE FROM favourites")
    assert (await cleanup(runtime.pool, keep_all)).remote_statuses == 0
