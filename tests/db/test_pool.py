"""The pool gives connections back without asyncpg's reset round trip unless they hold
session state (a LISTEN, a session advisory lock), and then resets them in full."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedinet.db.pool import Pool, create_pool, holds_session_state


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=1)  # always the same one
    yield opened
    await opened.close()


async def test_plain_use_skips_the_reset(pool: Pool) -> None:
    async with pool.acquire() as conn:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        # what fedinet never does: proves the reset query did not run
        await conn.execute("SET application_name = 'left behind'")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == backend
        assert await conn.fetchval("SHOW application_name") == "left behind"


async def test_session_state_is_reset(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SET application_name = 'left behind'")
        holds_session_state(conn)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") != "left behind"
        # the mark is gone with the reset: the next plain use skips it again
        await conn.execute("SET application_name = 'again'")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") == "again"


@pytest.mark.filterwarnings("ignore:.*active notification listener")
async def test_a_listener_is_unlistened(pool: Pool) -> None:
    def callback(*_: object) -> None:
        pass

    async with pool.acquire() as conn:
        await conn.add_listener("fedinet_test_channel", callback)
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0


async def test_a_transaction_left_open_is_rolled_back(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE pool_probe (n int)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO pool_probe VALUES (1)")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pool_probe") == 0
