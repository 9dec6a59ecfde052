"""Connection pools and database bootstrap."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from fedinet.errors import DatabaseError

__all__ = [
    "Pool",
    "PoolConnection",
    "connect",
    "create_pool",
    "drop_database",
    "ensure_database",
    "with_database",
]


class Pool(asyncpg.Pool):
    """asyncpg's pool, handing connections out in the order they were asked for.

    asyncpg's pool keeps its free connections in an ``asyncio.Queue``, which does not
    queue its getters fairly: a connection given back wakes the longest waiter, but a
    request arriving before that waiter runs takes the connection first, and the waiter
    goes to the back of the line. Under load (50 requests sharing 10 connections) a few
    requests then waited 60 to 150 ms while most waited none. A semaphore of the pool's
    size in front of it makes requests take connections in turn: asyncio's
    ``Semaphore`` hands a released permit to its longest waiter and counts as locked
    while anyone waits (``locked()``, as in Python 3.11.7 here), so nobody cuts in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = asyncio.Semaphore(kwargs["max_size"])
        self._lent: set[object] = set()  # the proxies handed out, each holding a turn

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's)
        if timeout is None:
            await self._turns.acquire()
        else:
            await asyncio.wait_for(self._turns.acquire(), timeout)
        try:
            proxy = await super()._acquire(timeout)  # type: ignore[misc]
        except BaseException:
            self._turns.release()
            raise
        self._lent.add(proxy)
        return proxy

    async def release(
        self,
        connection: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (asyncpg's signature)
    ) -> None:
        try:
            await super().release(connection, timeout=timeout)
        finally:
            if connection in self._lent:
                self._lent.discard(connection)
                self._turns.release()


class PoolConnection(asyncpg.Connection):
    """A pooled connection that knows whether it holds session state.

    asyncpg resets every connection given back to the pool with one more round trip
    (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``). fedinet's queries
    leave no session state behind: no ``SET``, no session advisory lock but the
    migrations' (released in a ``finally``), no cursor outside a transaction (asyncpg
    ends any open transaction itself). What does leave state marks the connection
    (:meth:`add_listener`, :func:`holds_session_state`), and only then does giving it
    back pay for the reset."""

    _fedinet_session_state = False

    async def add_listener(self, channel: str, callback: Any) -> None:
        self._fedinet_session_state = True
        await super().add_listener(channel, callback)


def holds_session_state(conn: object) -> None:
    """Reset ``conn`` (a pooled connection) in full when it goes back to the pool."""
    # what ``pool.acquire()`` hands out is a proxy of the connection
    connection = getattr(conn, "_con", None) or conn
    if type(connection) is PoolConnection:
        connection._fedinet_session_state = True


async def _reset_connection(conn: asyncpg.Connection[Any]) -> None:
    if isinstance(conn, PoolConnection) and not conn._fedinet_session_state:
        return
    await conn.execute(conn.get_reset_query())
    if isinstance(conn, PoolConnection):
        conn._fedinet_session_state = False


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    """A pool whose connections decode json/jsonb to Python objects."""
    try:
        pool = Pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            max_queries=50_000,
            max_inactive_connection_lifetime=300.0,
            init=_init_connection,
            reset=_reset_connection,
            loop=None,
            connection_class=PoolConnection,
            record_class=asyncpg.Record,
        )
        await pool
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseError(f"cannot connect to the database: {exc}") from None
    return pool


async def connect(dsn: str) -> asyncpg.Connection[Any]:
    try:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseError(f"cannot connect to the database: {exc}") from None
    await _init_connection(conn)
    return conn


def with_database(dsn: str, database: str) -> str:
    """The same server DSN pointing at another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def ensure_database(server_dsn: str, name: str, *, template: str | None = None) -> None:
    """Create database ``name`` unless it exists (identifiers are quoted by PostgreSQL)."""
    conn = await connect(server_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return
        # CREATE DATABASE takes no parameters; quote_ident makes the name safe.
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        statement = f"CREATE DATABASE {quoted}"
        if template is not None:
            quoted_template = await conn.fetchval("SELECT quote_ident($1)", template)
            # FILE_COPY is much faster than WAL_LOG for the small databases tests copy.
            statement += f" TEMPLATE {quoted_template} STRATEGY FILE_COPY"
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute(statement)
    finally:
        await conn.close()


async def drop_database(server_dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, disconnecting its sessions."""
    conn = await connect(server_dsn)
    try:
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()
