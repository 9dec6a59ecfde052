"""Type aliases for the database layer."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["Connection", "Executor", "Record"]

Record: TypeAlias = asyncpg.Record
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# Anything that can run a query: a pool (one statement, its own connection) or a connection
# (inside a transaction, for work that must commit together).
Executor: TypeAlias = (
    "asyncpg.Pool[asyncpg.Record] | asyncpg.Connection[asyncpg.Record] "
    "| PoolConnectionProxy[asyncpg.Record]"
)
