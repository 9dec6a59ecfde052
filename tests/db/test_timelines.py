"""Timeline queries: every column but ``raw``, paged newest first; the local ones as the
shared ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import lists as lists_db
from fedinet.db import statuses as statuses_db
from fedinet.db import timelines as timelines_db
from fedinet.db.pool import Pool, create_pool
from fedinet.models import Actor


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
    author = await _person(pool, "ana", local=False)
    await pool.execute("UPDATE actors SET raw = $2 WHERE id = $1", author.id, {"type": "Person"})
    reader = await _person(pool, "ben", local=True)
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


async def _person(pool: Pool, name: str, *, local: bool) -> Actor:
    domain = "here.example" if local else "remote.example"
    return await actors_db.insert_actor(
        pool,
        uri=f"https://{domain}/users/{name}",
        is_local=local,
        username=name,
        domain=domain,
    )


async def test_tag_list_and_local_pages_carry_every_column_but_raw(pool: Pool) -> None:
    """The hashtag, list and local queries name their columns too (``raw`` left out)."""
    ana = await _person(pool, "ana", local=True)
    reader = await _person(pool, "ben", local=True)
    status = await statuses_db.insert_status(
        pool,
        uri="https://here.example/users/ana/statuses/1",
        actor_id=ana.id,
        is_local=True,
        visibility="public",
        content="<p>#cats</p>",
        raw={"type": "Note", "content": "<p>#cats</p>"},
    )
    await statuses_db.set_tags(pool, status.id, ["cats"])
    listed = await lists_db.insert_list(
        pool, reader.id, title="friends", replies_policy="list", exclusive=False
    )
    await pool.execute(
        "INSERT INTO list_accounts (list_id, actor_id) VALUES ($1, $2)", listed.id, ana.id
    )

    statuses_wanted = await _columns(pool, "statuses") - {"raw"}
    for sql, args in (
        (timelines_db._PUBLIC_LOCAL_DESC, (20, None, None, None)),
        (timelines_db._PUBLIC_LOCAL_ASC, (20, None, 0, None)),
        (timelines_db._TAG_DESC, (["cats"], False, False, False, 20, None, None, None, [])),
        (timelines_db._TAG_ASC, (["cats"], False, False, False, 20, None, 0, None, [])),
        (timelines_db._TAG_LOCAL_DESC, (["cats"], False, 20, None, None, None, [])),
        (timelines_db._TAG_LOCAL_ASC, (["cats"], False, 20, None, 0, None, [])),
        (timelines_db._LIST, (listed.id, 20, None, None, None)),
    ):
        rows = await pool.fetch(sql, *args)
        assert [row["id"] for row in rows] == [status.id]
        assert set(rows[0].keys()) == statuses_wanted
    assert (await timelines_db.tag_timeline(pool, ["cats"], limit=20))[0].raw is None


async def test_local_timelines_match_the_shared_queries(pool: Pool) -> None:
    """The local public and hashtag timelines have their own queries (so that a generic
    plan can use statuses_local_public_idx): page for page, they return what the shared
    queries return with ``local_only``, whatever the cursor, viewer or filter."""
    ana = await _person(pool, "ana", local=True)
    ben = await _person(pool, "ben", local=True)
    cid = await _person(pool, "cid", local=True)  # suspended below
    rem = await _person(pool, "rem", local=False)
    made = []
    for n, (author, visibility) in enumerate(
        [
            (ana, "public"),
            (rem, "public"),
            (ben, "public"),
            (ana, "unlisted"),
            (ana, "direct"),
            (cid, "public"),
            (rem, "public"),
            (ben, "public"),
            (ana, "public"),
            (ana, "private"),
            (ben, "public"),
            (ana, "public"),
        ]
    ):
        status = await statuses_db.insert_status(
            pool,
            uri=f"{author.uri}/statuses/{n}",
            actor_id=author.id,
            is_local=author.is_local,
            visibility=visibility,
            content=f"<p>{n}</p>",
            attachments=[{"type": "image"}] if n % 4 == 0 else [],
        )
        await statuses_db.set_tags(pool, status.id, ["cats", "dogs"] if n % 3 else ["cats"])
        made.append(status)
    boost = await statuses_db.insert_status(
        pool,
        uri=f"{ben.uri}/boosts/1",
        actor_id=ben.id,
        is_local=True,
        visibility="public",
        reblog_of_id=made[1].id,
    )
    await statuses_db.set_tags(pool, boost.id, ["cats"])  # hashtag timelines keep boosts
    await statuses_db.mark_status_deleted(pool, made[8].id)
    await pool.execute("UPDATE actors SET suspended_at = now() WHERE id = $1", cid.id)
    await pool.execute("INSERT INTO mutes (actor_id, target_id) VALUES ($1, $2)", ana.id, ben.id)

    ids = sorted(s.id for s in [*made, boost])
    cursors: list[dict[str, int | None]] = [{}]
    for pivot in (ids[2], ids[6], ids[10]):
        cursors += [{"max_id": pivot}, {"since_id": pivot}, {"min_id": pivot}]
    cursors += [{"max_id": ids[11], "min_id": ids[1]}, {"min_id": 0}]
    seen_public: set[int] = set()
    seen_tagged: set[int] = set()
    for viewer in (None, ana.id):
        for limit in (2, 20):
            for cursor in cursors:
                min_id, max_id, since_id = (
                    cursor.get("min_id"),
                    cursor.get("max_id"),
                    cursor.get("since_id"),
                )
                if min_id is not None:
                    shared = await pool.fetch(
                        timelines_db._PUBLIC_ASC, True, False, limit, max_id, min_id, viewer
                    )
                else:
                    shared = await pool.fetch(
                        timelines_db._PUBLIC_DESC, True, False, limit, max_id, since_id, viewer
                    )
                own = await timelines_db.public_timeline(
                    pool,
                    local_only=True,
                    remote_only=False,
                    limit=limit,
                    viewer_id=viewer,
                    **cursor,
                )
                assert [s.id for s in own] == [row["id"] for row in shared], (viewer, cursor)
                seen_public |= {s.id for s in own}
                for tags, none, media in (
                    (["cats"], [], False),
                    (["dogs"], [], False),
                    (["cats"], ["dogs"], False),
                    (["cats"], [], True),
                ):
                    query, cursor_id = (
                        (timelines_db._TAG_ASC, min_id)
                        if min_id is not None
                        else (timelines_db._TAG_DESC, since_id)
                    )
                    shared = await pool.fetch(
                        query, tags, True, False, media, limit, max_id, cursor_id, viewer, none
                    )
                    own = await timelines_db.tag_timeline(
                        pool,
                        tags,
                        limit=limit,
                        local_only=True,
                        only_media=media,
                        none_tags=none,
                        viewer_id=viewer,
                        **cursor,
                    )
                    assert [s.id for s in own] == [row["id"] for row in shared], (tags, cursor)
                    seen_tagged |= {s.id for s in own}
    # what the local timelines may show, and nothing else, was shown (the hashtag
    # timelines keep boosts and, as before, do not check for suspended authors)
    assert seen_public == {made[n].id for n in (0, 2, 7, 10, 11)}
    assert seen_tagged == {made[n].id for n in (0, 2, 5, 7, 10, 11)} | {boost.id}
    assert (
        await timelines_db.public_timeline(pool, local_only=True, remote_only=True, limit=20) == []
    )
    assert (
        await timelines_db.tag_timeline(pool, ["cats"], limit=20, local_only=True, remote_only=True)
        == []
    )
