"""Conversations are found from the member's side (their direct statuses, their
mentions): exactly the direct statuses they wrote or were mentioned in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedinet.db import actors as actors_db
from fedinet.db import conversations as conversations_db
from fedinet.db import statuses as statuses_db
from fedinet.db.pool import Pool, create_pool
from fedinet.models import Actor, Status


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


async def test_only_the_members_direct_statuses_make_conversations(pool: Pool) -> None:
    ana, ben, cid = [
        await actors_db.insert_actor(
            pool,
            uri=f"https://here.example/users/{name}",
            is_local=True,
            username=name,
            domain="here.example",
        )
        for name in ("ana", "ben", "cid")
    ]
    count = 0

    async def status(author: Actor, visibility: str, mentioned: list[Actor]) -> Status:
        nonlocal count
        count += 1
        made = await statuses_db.insert_status(
            pool,
            uri=f"{author.uri}/statuses/{count}",
            actor_id=author.id,
            is_local=True,
            visibility=visibility,
        )
        for actor in mentioned:
            await pool.execute(
                "INSERT INTO mentions (status_id, actor_id) VALUES ($1, $2)", made.id, actor.id
            )
        return made

    to_self = await status(ana, "direct", [])  # a note to herself: no one else
    await status(ana, "public", [ben])  # not direct
    ben_to_cid = await status(ben, "direct", [cid])  # ana is not in it
    from_ben = await status(ben, "direct", [ana])
    group = await status(cid, "direct", [ana, ben])
    gone = await status(ana, "direct", [cid])
    await statuses_db.mark_status_deleted(pool, gone.id)
    latest_to_ben = await status(ana, "direct", [ben])

    found = await conversations_db.list_conversations(pool, ana.id)
    assert [(c.participant_ids, c.last_status_id, c.unread) for c in found] == [
        ([ben.id], latest_to_ben.id, False),
        (sorted([ben.id, cid.id]), group.id, True),
        ([], to_self.id, False),
    ]
    assert from_ben.id < latest_to_ben.id
    for_cid = await conversations_db.list_conversations(pool, cid.id)
    assert [(c.participant_ids, c.last_status_id) for c in for_cid] == [
        (sorted([ana.id, ben.id]), group.id),
        ([ben.id], ben_to_cid.id),
    ]
