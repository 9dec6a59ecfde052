"""What a running fedinet process holds: settings, the pool, the HTTP client.

``open_runtime`` is shared by ``fedinet serve`` (through the app's lifespan),
``fedinet worker`` and the admin commands.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from fedinet.config import Settings
from fedinet.db.database import Database
from fedinet.db.migrate import apply_migrations
from fedinet.db.pool import Pool, create_pool
from fedinet.federation.transport import make_http_client
from fedinet.models import Actor
from fedinet.services.accounts import ensure_instance_actor, ensure_system_account

__all__ = ["Runtime", "open_runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    pool: Pool
    http: httpx.AsyncClient
    instance_actor: Actor
    migrations_applied: tuple[str, ...] = ()


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, pool_max: int | None = None
) -> AsyncIterator[Runtime]:
    """Open the database (applying pending migrations) and the shared HTTP client.

    The pool holds at most ``pool_max`` connections (default ``FEDINET_DB_POOL_SIZE``)."""
    database = Database(settings)
    dsn = await database.open()
    try:
        pool = await create_pool(dsn, min_size=1, max_size=pool_max or settings.db_pool_size)
        try:
            async with pool.acquire() as conn:
                applied = await apply_migrations(conn)
                instance_actor = await ensure_instance_actor(conn, settings)
                await ensure_system_account(conn, settings)
            async with make_http_client(settings) as http:
                yield Runtime(
                    settings=settings,
                    pool=pool,
                    http=http,
                    instance_actor=instance_actor,
                    migrations_applied=tuple(applied),
                )
        finally:
            await pool.close()
    finally:
        await database.close()
