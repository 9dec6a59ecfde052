"""Account counters (``account_stats``, kept by the triggers of migration 0012): after
every kind of write they equal what counting the rows gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.db.counts import AccountCounts, StatusCounts
from fedinet.db.pool import Pool, create_pool
from fedinet.models import Actor


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


async def _actor(pool: Pool, name: str) -> Actor:
    return await actors_db.insert_actor(
        pool,
        uri=f"https://remote.example/users/{name}",
        is_local=False,
        username=name,
        domain="remote.example",
    )


async def _recounted(pool: Pool, actor_id: int) -> AccountCounts:
    """The counts as the rows give them (what count_account_stats computed before 0012)."""
    row = await pool.fetchrow(
        """
        SELECT (SELECT count(*) FROM follows WHERE followee_id = $1 AND state = 'accepted')
                   AS followers,
               (SELECT count(*) FROM follows WHERE follower_id = $1 AND state = 'accepted')
                   AS following,
               (SELECT count(*) FROM statuses WHERE actor_id = $1 AND deleted_at IS NULL
                  AND visibility <> 'direct') AS statuses,
               (SELECT max(published) FROM statuses WHERE actor_id = $1
                  AND deleted_at IS NULL AND visibility <> 'direct') AS last_status_at
        """,
        actor_id,
    )
    assert row is not None
    return AccountCounts(
        followers=row["followers"],
        following=row["following"],
        statuses=row["statuses"],
        last_status_at=None if row["last_status_at"] is None else row["last_status_at"].date(),
    )


async def _check(pool: Pool, *actors: Actor) -> dict[int, AccountCounts]:
    kept = await counts_db.count_account_stats(pool, [a.id for a in actors])
    for actor in actors:
        assert kept.get(actor.id, AccountCounts()) == await _recounted(pool, actor.id)
    return kept


async def test_status_counts_follow_inserts_deletes_and_visibility(pool: Pool) -> None:
    ana, ben = await _actor(pool, "ana"), await _actor(pool, "ben")
    assert (await _check(pool, ana, ben)).get(ana.id) is None  # nothing yet: all zero

    made = []
    for day, visibility in ((1, "public"), (2, "unlisted"), (3, "direct"), (4, "private")):
        made.append(
            await statuses_db.insert_status(
                pool,
                uri=f"https://remote.example/users/ana/statuses/{day}",
                actor_id=ana.id,
                is_local=False,
                visibility=visibility,
                content="<p>hi</p>",
                published=datetime(2026, 1, day, 12, tzinfo=UTC),
            )
        )
    kept = await _check(pool, ana, ben)
    assert kept[ana.id].statuses == 3 and kept[ana.id].last_status_at == date(2026, 1, 4)

    # a boost counts, as Mastodon counts it
    await statuses_db.insert_status(
        pool,
        uri="https://remote.example/users/ben/statuses/boost",
        actor_id=ben.id,
        is_local=False,
        visibility="public",
        reblog_of_id=made[0].id,
        published=datetime(2026, 1, 5, tzinfo=UTC),
    )
    assert (await _check(pool, ana, ben))[ben.id].statuses == 1

    # the latest one deleted (soft): one fewer, and the day of the one before it
    await pool.execute("UPDATE statuses SET deleted_at = now() WHERE id = $1", made[3].id)
    kept = await _check(pool, ana, ben)
    assert kept[ana.id].statuses == 2 and kept[ana.id].last_status_at == date(2026, 1, 2)

    # made direct: no longer counted; made public again: counted again
    await pool.execute("UPDATE statuses SET visibility = 'direct' WHERE id = $1", made[1].id)
    assert (await _check(pool, ana))[ana.id].last_status_at == date(2026, 1, 1)
    await pool.execute("UPDATE statuses SET visibility = 'public' WHERE id = $1", made[1].id)
    assert (await _check(pool, ana))[ana.id].statuses == 2

    # an edit changes nothing; a hard delete (its boost goes with it by cascade) counts
    await pool.execute("UPDATE statuses SET content = 'edited' WHERE id = $1", made[0].id)
    await _check(pool, ana, ben)
    await pool.execute("DELETE FROM statuses WHERE id = $1", made[0].id)
    kept = await _check(pool, ana, ben)
    assert kept[ana.id].statuses == 1 and kept[ben.id].statuses == 0


async def test_follow_counts_only_accepted_follows(pool: Pool) -> None:
    ana, ben, cid = await _actor(pool, "ana"), await _actor(pool, "ben"), await _actor(pool, "cid")
    pending = await follows_db.insert_follow(
        pool,
        uri="https://remote.example/f/1",
        follower_id=ana.id,
        followee_id=ben.id,
        accepted=False,
    )
    await follows_db.insert_follow(
        pool,
        uri="https://remote.example/f/2",
        follower_id=cid.id,
        followee_id=ben.id,
        accepted=True,
    )
    kept = await _check(pool, ana, ben, cid)
    assert kept[ben.id].followers == 1 and kept.get(ana.id, AccountCounts()).following == 0

    await follows_db.accept_follow(pool, pending.id)
    kept = await _check(pool, ana, ben, cid)
    assert kept[ben.id].followers == 2 and kept[ana.id].following == 1

    await follows_db.delete_follow(pool, ana.id, ben.id)
    kept = await _check(pool, ana, ben, cid)
    assert kept[ben.id].followers == 1 and kept[ana.id].following == 0

    # an actor that goes takes its follows (and its counters) with it
    await pool.execute("DELETE FROM actors WHERE id = $1", cid.id)
    kept = await _check(pool, ana, ben)
    assert kept[ben.id].followers == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM account_stats WHERE actor_id = $1", cid.id) == 0
    )


async def _status_recount(pool: Pool, status_id: int) -> StatusCounts:
    """The counts as the rows give them (what count_status_stats computed before 0015)."""
    row = await pool.fetchrow(
        """
        SELECT (SELECT count(*) FROM statuses r
                 WHERE r.in_reply_to_id = $1 AND r.deleted_at IS NULL) AS replies,
               (SELECT count(*) FROM statuses b
                 WHERE b.reblog_of_id = $1 AND b.deleted_at IS NULL) AS reblogs,
               (SELECT count(*) FROM favourites f WHERE f.status_id = $1) AS favourites
        """,
        status_id,
    )
    assert row is not None
    return StatusCounts(
        replies=row["replies"], reblogs=row["reblogs"], favourites=row["favourites"]
    )


async def _status_check(pool: Pool, *ids: int) -> dict[int, StatusCounts]:
    kept = await counts_db.count_status_stats(pool, list(ids))
    facts = await counts_db.status_page_facts(pool, list(ids), None)
    for status_id in ids:
        assert kept[status_id] == await _status_recount(pool, status_id)
        assert facts.counts[status_id] == kept[status_id]
    return kept


async def test_status_counters_follow_replies_boosts_favourites_and_deletes(pool: Pool) -> None:
    """``status_stats`` (migration 0015) equals a recount after every kind of write, and
    each change writes a new version of its row (the home timeline's cache relies on it)."""
    ana, ben, cid = await _actor(pool, "ana"), await _actor(pool, "ben"), await _actor(pool, "cid")
    serial = iter(range(1000))

    async def status(author: Actor, **values: object) -> int:
        made = await statuses_db.insert_status(
            pool,
            uri=f"https://remote.example/statuses/{next(serial)}",
            actor_id=author.id,
            is_local=False,
            visibility="public",
            content="<p>hi</p>",
            **values,
        )
        return made.id

    async def version(status_id: int) -> object:
        return await pool.fetchval("SELECT xmin FROM status_stats WHERE status_id = $1", status_id)

    post = await status(ana)
    assert (await _status_check(pool, post))[post] == StatusCounts()
    replies = [await status(who, in_reply_to_id=post) for who in (ben, cid)]
    boosts = [await status(who, reblog_of_id=post) for who in (ben, cid)]
    for who in (ben, cid):
        await pool.execute(
            "INSERT INTO favourites (uri, actor_id, status_id) VALUES ($1, $2, $3)",
            f"https://remote.example/likes/{who.username}",
            who.id,
            post,
        )
    assert (await _status_check(pool, post))[post] == StatusCounts(
        replies=2, reblogs=2, favourites=2
    )

    before = await version(post)
    await pool.execute("UPDATE statuses SET deleted_at = now() WHERE id = $1", replies[0])
    assert await version(post) != before
    await pool.execute("DELETE FROM statuses WHERE id = $1", boosts[0])
    await pool.execute("DELETE FROM favourites WHERE actor_id = $1", ben.id)
    assert (await _status_check(pool, post))[post] == StatusCounts(
        replies=1, reblogs=1, favourites=1
    )
    # back to an earlier count: the row version still moves on
    before = await version(post)
    await pool.execute("UPDATE statuses SET deleted_at = NULL WHERE id = $1", replies[0])
    await pool.execute("UPDATE statuses SET deleted_at = now() WHERE id = $1", replies[0])
    assert await version(post) != before
    await _status_check(pool, post)

    # a reply whose parent arrives later, then moves to another parent
    other = await status(ben)
    late = await status(cid)
    await pool.execute("UPDATE statuses SET in_reply_to_id = $2 WHERE id = $1", late, post)
    await _status_check(pool, post, other)
    await pool.execute("UPDATE statuses SET in_reply_to_id = $2 WHERE id = $1", late, other)
    kept = await _status_check(pool, post, other, late)
    assert kept[other].replies == 1

    # a status deleted for good takes its counters along; its replies lose their parent
    await pool.execute("DELETE FROM statuses WHERE id = $1", post)
    assert await pool.fetchval("SELECT count(*) FROM status_stats WHERE status_id = $1", post) == 0
    await _status_check(pool, other, late, *replies)
