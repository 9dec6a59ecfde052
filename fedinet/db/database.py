"""Where fedinet's data lives: an external PostgreSQL, or the embedded one."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fedinet.config import Settings
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.pool import ensure_database, with_database

__all__ = ["EMBEDDED_DATABASE", "Database"]

EMBEDDED_DATABASE = "fedinet"


class Database:
    """Resolve the DSN to use, starting the embedded server when no URL is configured."""

    def __init__(
        self, settings: Settings, *, server_settings: Mapping[str, str] | None = None
    ) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None
        if settings.database_url is None:
            self.embedded = EmbeddedPostgres(
                settings.data_dir / "postgres", server_settings=server_settings
            )

    async def open(self) -> str:
        """Return the DSN of fedinet's database, starting PostgreSQL if needed."""
        if self.settings.database_url is not None:
            return self.settings.database_url
        assert self.embedded is not None
        server_dsn = await asyncio.to_thread(self.embedded.acquire)
        try:
            await ensure_database(server_dsn, EMBEDDED_DATABASE)
        except BaseException:
            await asyncio.to_thread(self.embedded.release)
            raise
        return with_database(server_dsn, EMBEDDED_DATABASE)

    async def close(self) -> None:
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.release)
