"""Shared fixtures: one real PostgreSQL per test session, a clean database per test.

The server is an embedded PostgreSQL (the same wheel fedinet uses) unless
``FEDINET_TEST_DATABASE_URL`` names an existing server to use instead. Each test that asks
for a database gets a fresh copy of a template holding every migration.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.migrate import apply_migrations
from fedinet.db.pool import connect, drop_database, ensure_database, with_database
from fedinet.runtime import Runtime, open_runtime

# Test-only speed settings: durability is irrelevant for throw-away databases.
FAST_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of the PostgreSQL server (its ``postgres`` database).

    Its data lives outside pytest's temporary folder on purpose: every pytest process
    that starts resets that folder's root to mode 0700, which would lock the server's
    own user (PostgreSQL does not run as root) out of a concurrently running session.
    """
    external = os.environ.get("FEDINET_TEST_DATABASE_URL")
    if external:
        yield external
        return
    home = Path(tempfile.mkdtemp(prefix="fedinet-test-pg-"))
    server = EmbeddedPostgres(home / "postgres", server_settings=FAST_SERVER_SETTINGS)
    dsn = server.acquire()
    try:
        yield dsn
    finally:
        server.release()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(pg_server: str) -> Iterator[str]:
    """Name of a database holding every migration, copied for each test."""
    name = f"fedinet_template_{os.getpid()}"

    async def create() -> None:
        await drop_database(pg_server, name)
        await ensure_database(pg_server, name)
        conn = await connect(with_database(pg_server, name))
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()

    asyncio.run(create())
    try:
        yield name
    finally:
        asyncio.run(drop_database(pg_server, name))


class DatabaseFactory:
    """Makes fresh migrated databases on the test server and drops them afterwards."""

    def __init__(self, server: str, template: str) -> None:
        self.server = server
        self.template = template
        self.created: list[str] = []

    def __call__(self) -> str:
        name = f"fedinet_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(ensure_database(self.server, name, template=self.template))
        self.created.append(name)
        return with_database(self.server, name)

    def drop_all(self) -> None:
        for name in self.created:
            asyncio.run(drop_database(self.server, name))


@pytest.fixture
def new_database(pg_server: str, template_database: str) -> Iterator[DatabaseFactory]:
    """A factory: ``new_database()`` returns the DSN of a fresh migrated database."""
    factory = DatabaseFactory(pg_server, template_database)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="module")
def module_database(pg_server: str, template_database: str) -> Iterator[DatabaseFactory]:
    """Like ``new_database``, for servers shared by the tests of one module."""
    factory = DatabaseFactory(pg_server, template_database)
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(new_database: DatabaseFactory) -> str:
    return new_database()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        url="https://fedinet.test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-" + "x" * 40,
        allow_private_networks=False,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as opened:
        yield opened


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to the app in-process. ASGITransport runs no lifespan,
    so no background workers run: tests drive them explicitly."""
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as http:
        yield http
