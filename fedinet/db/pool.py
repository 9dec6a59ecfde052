"""Connection pools and database bootstrap."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from fedinet.errors import DatabaseError

__all__ = [
    "Pool",
    "connect",
    "create_pool",
    "drop_database",
    "ensure_database",
    "with_database",
]

Pool = asyncpg.Pool  # the one pool type the rest of fedinet sees


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    """A pool whose connections decode json/jsonb to Python objects."""
    try:
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=_init_connection
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseError(f"cannot connect to the database: {exc}") from None
    assert pool is not None
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
