"""Reports arrive as Flags through the real inbox queue; moderators resolve them."""

from __future__ import annotations

import pytest

from fedinet.db import interactions as interactions_db
from fedinet.errors import Conflict, NotFound
from fedinet.runtime import Runtime
from fedinet.services.admin.reports import list_reports, resolve_report
from tests.helpers.queue import store_and_process
from tests.services.admin._common import follow, member, remote


async def test_a_flag_is_listed_then_dismissed_or_acted_on(runtime: Runtime) -> None:
    dana = await member(runtime, "dana")
    moderator = await remote(runtime, "mod", "https://other.example")
    for n in (1, 2):
        flag = {
            "id": f"{moderator.uri}/flags/{n}",
            "type": "Flag",
            "actor": moderator.uri,
            "object": [dana.uri],
            "content": f"spam, round {n}",
        }
        assert (await store_and_process(runtime, flag, moderator.uri)).state == "done"

    first, second = await list_reports(runtime.pool)
    assert first.comment == "spam, round 1" and first.target_acct == dana.acct
    assert first.reporter_acct == moderator.acct and first.resolved_at is None

    admin = await member(runtime, "admin")
    async with runtime.pool.acquire() as conn:
        dismissed = await resolve_report(conn, first.id, by=admin)
        assert dismissed.resolution == "dismissed" and dismissed.resolved_by_actor_id == admin.id
        assert not dismissed.target_suspended
        with pytest.raises(Conflict):
            await resolve_report(conn, first.id)
        with pytest.raises(NotFound):
            await resolve_report(conn, 999_999)
        acted = await resolve_report(conn, second.id, suspend=True)
    assert acted.resolution == "suspended" and acted.target_suspended
    assert await list_reports(runtime.pool) == []
    assert [r.id for r in await list_reports(runtime.pool, include_resolved=True)] == [
        second.id,
        first.id,
    ]


async def test_suspending_a_remote_account_cuts_it_off(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    troll = await remote(runtime, "troll", "https://mixed.example")
    await follow(runtime, troll, ana)
    await follow(runtime, ana, troll)
    await interactions_db.insert_report(
        runtime.pool,
        uri=None,
        reporter_actor_id=ana.id,
        target_actor_id=troll.id,
        status_uris=[],
        comment="harassment",
        raw=None,
    )
    (report,) = await list_reports(runtime.pool)
    async with runtime.pool.acquire() as conn:
        await resolve_report(conn, report.id, suspend=True)
    assert await runtime.pool.fetchval("SELECT count(*) FROM follows") == 0
    like = {"id": f"{troll.uri}/likes/1", "type": "Like", "actor": troll.uri, "object": "x"}
    item = await store_and_process(runtime, like, troll.uri)
    assert item.state == "ignored" and item.error is not None
    assert item.error.startswith("forbidden")
