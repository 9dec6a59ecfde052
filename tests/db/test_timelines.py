"""Timeline queries: every column but ``raw``, paged newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import statuses as statuses_db
from fedinet.db import timelines as timelines_db
from fedinet.db.pool import Pool, create_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


async def _columns(pool: Pool, table: str) -> set[str]:
    rows = await pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
    )
    return {row["column_name"] for row in rows}


async def test_pages_carry_every_column_but_raw(pool: Pool) -> None:
    """The timeline and author queries list their columns (to leave ``raw`` out): a column
    added by a migration must be added there too, or pages would show its default."""
    author = await actors_db.insert_actor(
        pool,
        uri="https://remote.example/users/ana",
        is_local=False,
        username="ana",
        domain="remote.example",
    )
    await pool.execute("UPDATE actors SET raw = $2 WHERE id = $1", author.id, {"type": "Person"})
    reader = await actors_db.insert_actor(
        pool,
        uri="https://here.example/users/ben",
        is_local=True,
        username="ben",
        domain="here.example",
    )
    status = await statuses_db.insert_status(
        pool,
        uri="https://remote.example/users/ana/statuses/1",
        actor_id=author.id,
        is_local=False,
        visibility="public",
        content="<p>hello</p>",
        raw={"type": "Note", "content": "<p>hello</p>"},
    )
    await pool.execute(
        "INSERT INTO home_feed (owner_id, status_id) VALUES ($1, $2)", reader.id, status.id
    )

    statuses_wanted = await _columns(pool, "statuses") - {"raw"}
    for sql, args in (
        (timelines_db._HOME_DESC, (reader.id, 20, None, None)),
        (timelines_db._HOME_ASC, (reader.id, 20, None, 0)),
        (timelines_db._PUBLIC_DESC, (False, False, 20, None, None, None)),
        (timelines_db._PUBLIC_ASC, (False, False, 20, None, 0, None)),
    ):
        rows = await pool.fetch(sql, *args)
        assert [row["id"] for row in rows] == [status.id]
        assert set(rows[0].keys()) == statuses_wanted

    home = await timelines_db.home_timeline(pool, reader.id, limit=20)
    assert home[0].content == "<p>hello</p>" and home[0].raw is None

    everything = await actors_db.get_actors_by_ids(pool, [author.id])
    actor_columns = await _columns(pool, "actors") - {"raw"}
    authors, counts = await counts_db.get_authors_to_show(pool, [author.id])
    assert counts[author.id].statuses == 1
    for shown in (await actors_db.get_actors_to_show(pool, [author.id]), authors):
        assert shown[author.id].raw is None and everything[author.id].raw is not None
        assert {f: getattr(shown[author.id], f) for f in actor_columns} == {
            f: getattr(everything[author.id], f) for f in actor_columns
        }
