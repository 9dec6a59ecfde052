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
        (timelines_db._STATUSES_TO_SHOW, ([status.id],)),
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


async def test_home_hides_blocked_muted_and_their_boosts(pool: Pool) -> None:
    """The home queries skip the per-status ``fedinet_hides`` check only for owners with
    no blocks, mutes or domain blocks at all; with any, each status is checked again."""
    ana, cid, reader = [
        await actors_db.insert_actor(
            pool,
            uri=f"https://remote.example/users/{name}",
            is_local=False,
            username=name,
            domain="remote.example",
        )
        for name in ("ana", "cid", "reader")
    ]
    post = await statuses_db.insert_status(
        pool,
        uri="https://remote.example/users/ana/statuses/1",
        actor_id=ana.id,
        is_local=False,
        visibility="public",
        content="<p>ana</p>",
    )
    boost = await statuses_db.insert_status(
        pool,
        uri="https://remote.example/users/cid/boosts/1",
        actor_id=cid.id,
        is_local=False,
        visibility="public",
        reblog_of_id=post.id,
    )
    for status in (post, boost):
        await pool.execute(
            "INSERT INTO home_feed (owner_id, status_id) VALUES ($1, $2)", reader.id, status.id
        )

    async def shown() -> set[int]:
        newest = await timelines_db.home_timeline(pool, reader.id, limit=20)
        oldest = await timelines_db.home_timeline(pool, reader.id, limit=20, min_id=0)
        assert {s.id for s in newest} == {s.id for s in oldest}
        return {s.id for s in newest}

    assert await shown() == {post.id, boost.id}
    # ana blocks the reader: her post and the boost of it go
    await pool.execute(
        "INSERT INTO blocks (uri, actor_id, target_id) VALUES ('https://x/b', $1, $2)",
        ana.id,
        reader.id,
    )
    assert await shown() == set()
    await pool.execute("DELETE FROM blocks")
    assert await shown() == {post.id, boost.id}
    # the reader mutes someone else: nothing changes; then ana as well
    await pool.execute("INSERT INTO mutes (actor_id, target_id) VALUES ($1, $2)", reader.id, cid.id)
    assert await shown() == {post.id}
    await pool.execute("DELETE FROM mutes")
    await pool.execute("INSERT INTO mutes (actor_id, target_id) VALUES ($1, $2)", reader.id, ana.id)
    assert await shown() == set()
    # an expired mute hides nothing
    await pool.execute("UPDATE mutes SET expires_at = now() - interval '1 minute'")
    assert await shown() == {post.id, boost.id}
