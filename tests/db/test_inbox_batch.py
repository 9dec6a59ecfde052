"""Group commit of inbox rows: one statement per group, every row answered, none dropped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from fedinet.db import inbox_batch
from fedinet.db.inbox import INBOX_CHANNEL, get_inbox_item_by_activity_id, insert_inbox_item
from fedinet.db.inbox_batch import InboxBatcher, InboxRow, insert_inbox_items
from fedinet.db.pool import Pool, connect, create_pool
from fedinet.errors import BadActivity, DatabaseError


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=4)
    yield opened
    await opened.close()


def row(n: int | None, body: str | None = None, **changes: Any) -> InboxRow:
    activity_id = None if n is None else f"https://remote.example/activities/{n}"
    values: dict[str, Any] = {
        "activity_id": activity_id,
        "activity_type": "Like",
        "actor_uri": "https://remote.example/users/mallory",
        "recipient_actor_id": None,
        "key_id": "https://remote.example/users/mallory#main-key",
        "body_json": body or json.dumps({"id": activity_id, "type": "Like"}),
    }
    values.update(changes)
    return InboxRow(**values)


async def count(pool: Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM inbox_items"))


async def test_many_rows_in_one_statement_answer_like_one_row(pool: Pool) -> None:
    assert await insert_inbox_item(
        pool,
        activity_id=row(1).activity_id,
        activity_type="Like",
        actor_uri=row(1).actor_uri,
        recipient_actor_id=None,
        key_id=row(1).key_id,
        body_json=row(1).body_json,
    )
    # 1 is a replay of the row above; 2 appears twice in the group: stored once, the
    # first answer True and the repeat False; rows without an id are always new.
    results = await insert_inbox_items(pool, [row(1), row(2), row(3), row(2), row(None)])
    assert results == [False, True, True, False, True]
    assert await count(pool) == 4
    item = await get_inbox_item_by_activity_id(pool, row(3).activity_id or "")
    assert item is not None and item.body == {"id": row(3).activity_id, "type": "Like"}
    assert await insert_inbox_items(pool, []) == []


async def test_a_group_wakes_the_workers_once(pool: Pool, database_url: str) -> None:
    listener = await connect(database_url)
    woken: list[str] = []
    await listener.add_listener(INBOX_CHANNEL, lambda *args: woken.append(args[2]))
    try:
        await insert_inbox_items(pool, [row(1), row(2), row(3)])
        await insert_inbox_items(pool, [row(1)])  # only replays: nothing new, no wake-up
        await asyncio.sleep(0.2)
    finally:
        await listener.close()
    assert woken == [INBOX_CHANNEL]


async def test_concurrent_requests_share_commits_and_each_is_answered(
    pool: Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    real = inbox_batch.insert_inbox_items

    async def counting(db: Any, rows: Sequence[InboxRow]) -> list[bool]:
        groups.append(len(rows))
        return await real(db, rows)

    monkeypatch.setattr(inbox_batch, "insert_inbox_items", counting)
    batcher = InboxBatcher(pool, max_batch=16)
    rows = [row(n) for n in range(100)] + [row(5), row(7)]
    results = await asyncio.gather(*(batcher.insert(r) for r in rows))
    assert results == [True] * 100 + [False, False]
    assert await count(pool) == 100
    assert sum(groups) == len(rows)
    assert len(groups) < len(rows) / 4, groups  # grouped, not one statement per row
    assert max(groups) <= 16

    # An idle batcher commits a lone row at once, and it is committed when answered.
    observer = await connect(database_url)
    try:
        assert await batcher.insert(row(1000)) is True
        stored = await observer.fetchval(
            "SELECT count(*) FROM inbox_items WHERE activity_id = $1", row(1000).activity_id
        )
    finally:
        await observer.close()
    assert stored == 1


async def test_a_row_postgresql_refuses_fails_alone(pool: Pool) -> None:
    batcher = InboxBatcher(pool)
    # Python's json accepts NaN; jsonb does not. The other rows of its group are stored.
    rows = [row(1), row(2, body='{"type": "Like", "x": NaN}'), row(3), row(None)]
    results = await asyncio.gather(*(batcher.insert(r) for r in rows), return_exceptions=True)
    assert results[0] is True and results[2] is True and results[3] is True
    assert isinstance(results[1], BadActivity)
    assert await count(pool) == 3
    assert await get_inbox_item_by_activity_id(pool, row(2).activity_id or "") is None


async def test_a_failed_group_answers_every_request_with_an_error(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = inbox_batch.insert_inbox_items
    failing = True

    async def flaky(db: Any, rows: Sequence[InboxRow]) -> list[bool]:
        if failing:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
        return await real(db, rows)

    monkeypatch.setattr(inbox_batch, "insert_inbox_items", flaky)
    batcher = InboxBatcher(pool)
    results = await asyncio.gather(
        *(batcher.insert(row(n)) for n in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, DatabaseError) for r in results), results
    assert await count(pool) == 0

    # The batcher recovers: later requests are stored.
    failing = False
    assert await asyncio.gather(*(batcher.insert(row(n)) for n in range(3))) == [True] * 3
    assert await count(pool) == 3


async def test_a_server_error_for_the_group_retries_rows_one_by_one(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = inbox_batch.insert_inbox_items

    async def groups_fail(db: Any, rows: Sequence[InboxRow]) -> list[bool]:
        if len(rows) > 1:
            raise asyncpg.exceptions.SerializationError("could not serialize access")
        return await real(db, rows)

    monkeypatch.setattr(inbox_batch, "insert_inbox_items", groups_fail)
    batcher = InboxBatcher(pool)
    results = await asyncio.gather(*(batcher.insert(row(n)) for n in [1, 2, 3, 1]))
    assert results == [True, True, True, False]
    assert await count(pool) == 3


async def test_no_connection_is_a_database_error(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    await pool.close()
    batcher = InboxBatcher(pool)
    with pytest.raises(DatabaseError):
        await batcher.insert(row(1))


async def test_the_connection_is_kept_while_rows_keep_coming(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[object] = []
    real = inbox_batch.insert_inbox_items

    async def recording(db: Any, rows: Sequence[InboxRow]) -> list[bool]:
        connections.append(db)
        return await real(db, rows)

    monkeypatch.setattr(inbox_batch, "insert_inbox_items", recording)
    batcher = InboxBatcher(pool, idle_hold=0.5)
    assert await batcher.insert(row(1)) is True
    assert pool.get_idle_size() == pool.get_size() - 1  # still held after the answer
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await batcher.insert(row(2)) is True
    assert loop.time() - started < 0.4  # a row during the hold is not held back by it
    assert connections[0] is connections[1]  # the same connection: no release, no reset
    await asyncio.sleep(0.7)
    assert pool.get_idle_size() == pool.get_size()  # given back once idle
    assert batcher._task is None
    assert await batcher.insert(row(3)) is True  # and taken again for the next row
    assert await count(pool) == 3
