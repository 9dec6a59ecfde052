"""The stream-event triggers of migration 0011: what they NOTIFY, and only on commit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fedinet.db import actors as actors_db
from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.db import streaming as streaming_db
from fedinet.db.pool import Pool, create_pool


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=3)
    yield opened
    await opened.close()


class Heard:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def __call__(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        assert isinstance(payload, str)
        self.events.append(json.loads(payload))
        self.arrived.set()

    async def settle(self) -> list[dict[str, Any]]:
        await asyncio.sleep(0.3)
        return self.events


async def test_triggers_notify_ids_on_commit(pool: Pool) -> None:
    heard = Heard()
    async with pool.acquire() as listener:
        await streaming_db.listen(listener, heard)
        actor = await actors_db.insert_actor(
            pool, uri="https://r.example/users/a", is_local=False, username="a", domain="r.example"
        )
        async with pool.acquire() as conn, conn.transaction():
            public = await statuses_db.insert_status(
                conn,
                uri="https://r.example/1",
                actor_id=actor.id,
                is_local=False,
                visibility="public",
            )
            await statuses_db.insert_status(
                conn,
                uri="https://r.example/2",
                actor_id=actor.id,
                is_local=False,
                visibility="private",
            )
            await interactions_db.add_to_home_feeds(conn, public.id, [actor.id])
            await interactions_db.insert_notification(
                conn,
                recipient_id=actor.id,
                notification_type="mention",
                from_actor_id=actor.id,
                status_id=public.id,
            )
            await asyncio.sleep(0.2)
            assert heard.events == []  # nothing before the commit
        events = await heard.settle()
        notification_id = await pool.fetchval("SELECT id FROM notifications")
        assert sorted(events, key=lambda e: e["e"]) == [
            {"e": "home", "o": actor.id, "s": public.id},
            {"e": "notification", "o": actor.id, "n": notification_id},
            {"e": "public", "s": public.id, "l": False},
        ]

        heard.events.clear()
        await statuses_db.mark_status_deleted(pool, public.id)
        assert await heard.settle() == [{"e": "delete", "s": public.id}]

        # Rolled back: nothing is heard.
        heard.events.clear()
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn, conn.transaction():
                await statuses_db.insert_status(
                    conn,
                    uri="https://r.example/3",
                    actor_id=actor.id,
                    is_local=False,
                    visibility="public",
                )
                raise RuntimeError("roll back")
        assert await heard.settle() == []
        await streaming_db.unlisten(listener, heard)


async def test_bulk_loaders_can_turn_events_off(pool: Pool) -> None:
    heard = Heard()
    async with pool.acquire() as listener:
        await streaming_db.listen(listener, heard)
        actor = await actors_db.insert_actor(
            pool, uri="https://r.example/users/b", is_local=False, username="b", domain="r.example"
        )
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL fedinet.stream_events = 'off'")
            await statuses_db.insert_status(
                conn,
                uri="https://r.example/4",
                actor_id=actor.id,
                is_local=False,
                visibility="public",
            )
        assert await heard.settle() == []
        await streaming_db.unlisten(listener, heard)
