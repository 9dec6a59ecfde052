"""The migration runner.

Migrations are plain SQL files ``NNNN_description.sql`` shipped in ``fedinet.migrations``
(the repository's top-level ``migrations/`` folder). Each pending one is applied in its
own transaction and recorded with its SHA-256 checksum. A session-level advisory lock
serialises concurrent starts. An applied migration whose file has since changed is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from fedinet.db.pool import holds_session_state
from fedinet.db.types import Connection
from fedinet.errors import MigrationError

__all__ = ["Migration", "apply_migrations", "load_migrations", "pending_migrations"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# An arbitrary constant: fedinet's advisory-lock key for migrations.
_LOCK_KEY = 0x0FED1E7_0001

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS fedinet_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(package: str = "fedinet.migrations") -> list[Migration]:
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"two migrations share number {version:04d}: {found[version].name} and {entry.name}"
            )
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def _applied(conn: Connection) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch("SELECT version, name, checksum FROM fedinet_migrations")
    return {row["version"]: (row["name"], row["checksum"]) for row in rows}


def _check(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> list[Migration]:
    known = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {name} which this fedinet does not know; "
                "it was migrated by a newer version"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.name} was edited after it was applied "
                f"(checksum {checksum[:12]} in the database, {migration.checksum[:12]} on disk); "
                "never edit an applied migration, add a new one"
            )
    return [m for m in migrations if m.version not in applied]


async def pending_migrations(
    conn: Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    migrations = load_migrations() if migrations is None else migrations
    await conn.execute(_CREATE_TABLE)
    return _check(await _applied(conn), migrations)


async def apply_migrations(
    conn: Connection, migrations: list[Migration] | None = None
) -> list[str]:
    """Apply every pending migration; return the names applied."""
    migrations = load_migrations() if migrations is None else migrations
    holds_session_state(conn)  # the session lock: a full reset when the pool gets it back
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        pending = _check(await _applied(conn), migrations)
        done: list[str] = []
        for migration in pending:
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO fedinet_migrations (version, name, checksum) "
                        "VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {migration.name} failed: {exc}") from None
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
