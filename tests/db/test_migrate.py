from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fedinet.db.migrate import Migration, apply_migrations, load_migrations, pending_migrations
from fedinet.db.pool import connect
from fedinet.errors import MigrationError
from tests.conftest import DatabaseFactory

A = Migration(1, "0001_a.sql", "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);")
B = Migration(2, "0002_b.sql", "CREATE TABLE b (id int REFERENCES a (id));")
BROKEN = Migration(3, "0003_broken.sql", "CREATE TABLE c (id int); SELECT no_such_fn();")


@pytest.fixture
def empty_database(new_database: DatabaseFactory) -> str:
    """A database with fedinet's schema dropped, for running toy migrations."""
    url = new_database()

    async def wipe() -> None:
        conn = await connect(url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(wipe())
    return url


def test_shipped_migrations_are_numbered_in_order() -> None:
    migrations = load_migrations()
    assert migrations, "fedinet ships at least one migration"
    versions = [m.version for m in migrations]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)  # numbers may skip, never repeat
    assert migrations[0].name == "0001_initial.sql"


async def test_applies_in_order_then_is_idempotent(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        assert await apply_migrations(conn, [A, B]) == ["0001_a.sql", "0002_b.sql"]
        assert await apply_migrations(conn, [A, B]) == []
        assert await pending_migrations(conn, [A, B]) == []
        rows = await conn.fetch("SELECT version, name FROM fedinet_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(1, "0001_a.sql"), (2, "0002_b.sql")]
        assert await conn.fetchval("SELECT count(*) FROM a") == 1
    finally:
        await conn.close()


async def test_refuses_an_edited_migration(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        await apply_migrations(conn, [A])
        edited = Migration(1, "0001_a.sql", A.sql + " -- changed")
        with pytest.raises(MigrationError, match=r"0001_a\.sql was edited after it was applied"):
            await apply_migrations(conn, [edited, B])
        # nothing after the refusal was applied
        assert await conn.fetchval("SELECT to_regclass('b')") is None
    finally:
        await conn.close()


async def test_refuses_a_database_from_a_newer_version(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        await apply_migrations(conn, [A, B])
        with pytest.raises(MigrationError, match="newer version"):
            await apply_migrations(conn, [A])
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_alone(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        with pytest.raises(MigrationError, match=r"0003_broken\.sql failed"):
            await apply_migrations(conn, [A, B, BROKEN])
        assert await conn.fetchval("SELECT count(*) FROM fedinet_migrations") == 2
        assert await conn.fetchval("SELECT to_regclass('c')") is None
    finally:
        await conn.close()


async def test_concurrent_starts_apply_each_migration_once(empty_database: str) -> None:
    slow = Migration(1, "0001_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE slow (id int);")
    other = Migration(2, "0002_other.sql", "CREATE TABLE other (id int);")
    conns = [await connect(empty_database) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, [slow, other]) for c in conns))
        assert sorted(len(r) for r in results) == [0, 0, 0, 2]
        assert await conns[0].fetchval("SELECT count(*) FROM fedinet_migrations") == 2
    finally:
        for c in conns:
            await c.close()


def test_duplicate_numbers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "dupmigrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_one.sql").write_text("SELECT 1;")
    (package / "0001_two.sql").write_text("SELECT 2;")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MigrationError, match="share number 0001"):
        load_migrations("dupmigrations")
