"""Group commit for the inbox: the rows of concurrent requests in one INSERT, one commit.

Each accepted activity must be durable before its 202 goes out, and a durable commit costs
a WAL flush; each statement also costs the client far more than each row in it (about
35 µs of CPU per round trip with asyncpg, against a few µs per extra row).
:class:`InboxBatcher` lets concurrent requests share one statement
(``INSERT … SELECT FROM unnest(…)``), one ``pg_notify`` and one WAL flush. At most one
group is in flight; a group is sent ``linger`` seconds (1 ms) after its first row arrived,
or as soon as it holds ``flush_at`` rows, so that under load groups grow to tens of rows
at the price of at most a millisecond of latency. The batcher keeps its connection for
``idle_hold`` seconds (50 ms) after its last group: giving a connection back to the pool
costs a reset round trip, which under a steady stream of requests would otherwise be
paid every few groups.

Every caller's future resolves only after its row's statement has returned, that is
after the commit. When a group's statement fails on the server (a body PostgreSQL refuses
as jsonb, say) its rows are retried one by one, so one bad row cannot sink the others;
a row that still fails, or a group that fails for want of a connection, raises
:class:`~fedinet.errors.DatabaseError` (HTTP 503: the sender retries) or, for a body
PostgreSQL cannot store, :class:`~fedinet.errors.BadActivity`. Nothing is dropped
silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from fedinet.db.inbox import INBOX_CHANNEL
from fedinet.db.types import Executor
from fedinet.errors import BadActivity, DatabaseError

__all__ = ["InboxBatcher", "InboxRow", "insert_inbox_items"]

log = logging.getLogger("fedinet.db.inbox_batch")


@dataclass(slots=True)
class InboxRow:
    """One verified activity to store (the arguments of ``insert_inbox_item``).

    Not frozen, to keep it cheap to make on every inbox request; treat it as read-only.
    """

    activity_id: str | None
    activity_type: str
    actor_uri: str
    recipient_actor_id: int | None
    key_id: str
    body_json: str
    """The received JSON text; PostgreSQL parses it once into jsonb."""


_INSERT_MANY = """
WITH stored AS (
    INSERT INTO inbox_items
        (activity_id, activity_type, actor_uri, recipient_actor_id, key_id, body)
    SELECT a, t, u, r, k, b::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
        AS x(a, t, u, r, k, b)
    ON CONFLICT (activity_id) WHERE activity_id IS NOT NULL DO NOTHING
    RETURNING activity_id
), notified AS (
    SELECT pg_notify($7, '') WHERE EXISTS (SELECT 1 FROM stored)
)
SELECT stored.activity_id FROM stored, (SELECT count(*) FROM notified) AS n
"""


async def insert_inbox_items(db: Executor, rows: Sequence[InboxRow]) -> list[bool]:
    """Store ``rows`` in one statement (one commit) and wake the workers once.

    For each row, in order: True when newly stored, False for a replay of an activity id
    stored before (or earlier in ``rows``), as ``insert_inbox_item`` answers for one row.
    """
    if not rows:
        return []
    stored = await db.fetch(
        _INSERT_MANY,
        [row.activity_id for row in rows],
        [row.activity_type for row in rows],
        [row.actor_uri for row in rows],
        [row.recipient_actor_id for row in rows],
        [row.key_id for row in rows],
        [row.body_json for row in rows],
        INBOX_CHANNEL,
    )
    # Ids inserted by this statement; each may answer True once (a repeat within the
    # group was skipped by ON CONFLICT and is a replay).
    fresh = {record["activity_id"] for record in stored}
    results: list[bool] = []
    for row in rows:
        if row.activity_id is None:
            results.append(True)
        elif row.activity_id in fresh:
            fresh.discard(row.activity_id)
            results.append(True)
        else:
            results.append(False)
    return results


_Pending = tuple[InboxRow, "asyncio.Future[bool]"]


class InboxBatcher:
    """Stores inbox rows for the requests of one process, a group per commit.

    ``insert`` returns once the row is committed. At most one group is in flight; the
    rows that arrive meanwhile form the next group, sent when its oldest row has waited
    ``linger`` seconds or when it holds ``flush_at`` rows. The batcher holds one pool
    connection while it has work and gives it back once it has been idle for
    ``idle_hold`` seconds.
    """

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        *,
        linger: float = 0.001,
        flush_at: int = 64,
        max_batch: int = 256,
        idle_hold: float = 0.05,
    ) -> None:
        self.pool = pool
        self.linger = linger
        self.flush_at = min(flush_at, max_batch)
        self.max_batch = max_batch
        self.idle_hold = idle_hold
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._full: asyncio.Future[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        self._first_at = 0.0

    async def insert(self, row: InboxRow) -> bool:
        """Store ``row`` durably; True when new, False for a replay. Raises DatabaseError
        (or BadActivity for a body PostgreSQL cannot store) when it was not stored."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._pending:
            self._first_at = time.monotonic()
        self._pending.append((row, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        elif self._idle is not None:
            _resolve(self._idle)
        elif len(self._pending) >= self.flush_at and self._full is not None:
            _resolve(self._full)
        return await future

    async def _gather(self) -> None:
        """Wait until the oldest waiting row is ``linger`` old, or ``flush_at`` rows wait."""
        remaining = self._first_at + self.linger - time.monotonic()
        if remaining <= 0 or len(self._pending) >= self.flush_at:
            await asyncio.sleep(0)  # still let this loop iteration's requests join in
            return
        loop = asyncio.get_running_loop()
        self._full = full = loop.create_future()
        timer = loop.call_later(remaining, _resolve, full)
        try:
            await full
        finally:
            timer.cancel()
            self._full = None

    async def _wait_for_rows(self) -> bool:
        """Wait up to ``idle_hold`` seconds for a row to arrive; True if one did."""
        if self.idle_hold <= 0:
            return False
        loop = asyncio.get_running_loop()
        self._idle = idle = loop.create_future()
        timer = loop.call_later(self.idle_hold, _resolve, idle)
        try:
            await idle
        finally:
            timer.cancel()
            self._idle = None
        return bool(self._pending)

    async def _drain(self) -> None:
        try:
            await self._gather()
            async with self.pool.acquire() as conn:
                while self._pending:
                    group = self._pending[: self.max_batch]
                    del self._pending[: self.max_batch]
                    await self._store(conn, group)
                    if self._pending or await self._wait_for_rows():
                        await self._gather()
        except BaseException as exc:
            # No connection (or the loop is stopping): fail every waiting request.
            error = _as_database_error(exc)
            pending, self._pending = self._pending, []
            for _, future in pending:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            log.error("inbox rows not stored: %s", exc)
        finally:
            self._task = None
            if self._pending:  # arrived after the loop above ended, or left by a failure
                self._task = asyncio.create_task(self._drain())

    async def _store(self, conn: Executor, group: list[_Pending]) -> None:
        try:
            results = await insert_inbox_items(conn, [row for row, _ in group])
        except asyncpg.PostgresError as exc:
            if len(group) == 1:
                _settle(group[0][1], exc)
                return
            # One row may be the cause: store the others one by one.
            log.warning("inbox group of %d failed (%s); storing rows one by one", len(group), exc)
            for row, future in group:
                try:
                    (result,) = await insert_inbox_items(conn, [row])
                except asyncpg.PostgresError as row_exc:
                    _settle(future, row_exc)
                else:
                    if not future.done():
                        future.set_result(result)
            return
        except BaseException as exc:
            for _, future in group:
                if not future.done():
                    future.set_exception(_as_database_error(exc))
            raise
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():
                future.set_result(result)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _settle(future: asyncio.Future[bool], exc: asyncpg.PostgresError) -> None:
    if future.done():
        return
    if isinstance(exc, asyncpg.DataError):
        # e.g. a NaN or a \u0000 that Python's json accepts and jsonb does not
        future.set_exception(BadActivity(f"the activity cannot be stored: {exc}"))
    else:
        future.set_exception(_as_database_error(exc))


def _as_database_error(exc: BaseException) -> DatabaseError:
    if isinstance(exc, DatabaseError):
        return exc
    return DatabaseError(f"the activity was not stored: {type(exc).__name__}: {exc}")
