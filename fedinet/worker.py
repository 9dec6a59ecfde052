"""Background workers: the loops that process queued work.

Each loop is an ``async def loop(runtime, stop)`` that claims work from PostgreSQL
(``FOR UPDATE SKIP LOCKED``) until ``stop`` is set, so any number of processes can share
the queues. ``fedinet serve`` runs them beside the web app; ``fedinet worker`` runs only
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fedinet.federation import handlers  # noqa: F401 - importing registers the handlers
from fedinet.federation.delivery import delivery_loop
from fedinet.federation.processing import inbox_loop
from fedinet.runtime import Runtime
from fedinet.services.admin.queue import cleanup_if_due
from fedinet.services.follows import expire_awaiting

__all__ = ["LOOPS", "WorkerLoop", "run_workers"]

log = logging.getLogger("fedinet.worker")

WorkerLoop = Callable[[Runtime, asyncio.Event], Awaitable[None]]

MAINTENANCE_EVERY = 600.0


async def maintenance_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    """Periodic chores: refuse follow requests that waited too long for a note; once a
    day (one worker of all, whoever claims it first) what ``fedinet admin cleanup`` does."""
    while not stop.is_set():
        async with runtime.pool.acquire() as conn:
            expired = await expire_awaiting(conn, runtime.settings, datetime.now(UTC))
        if expired:
            log.info("expired follow requests that never got a note count=%d", expired)
        done = await cleanup_if_due(runtime.pool, runtime.settings)
        if done is not None:
            log.info(
                "daily cleanup deliveries=%d inbox_items=%d remote_statuses=%d oauth_codes=%d",
                done.deliveries,
                done.inbox_items,
                done.remote_statuses,
                done.oauth_codes,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=MAINTENANCE_EVERY)


LOOPS: list[tuple[str, WorkerLoop]] = [
    ("inbox", inbox_loop),
    ("delivery", delivery_loop),
    ("maintenance", maintenance_loop),
]


async def _supervise(name: str, loop: WorkerLoop, runtime: Runtime, stop: asyncio.Event) -> None:
    """Run ``loop``; restart it after an unexpected crash, with a short pause."""
    while not stop.is_set():
        try:
            await loop(runtime, stop)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker loop crashed loop=%s; restarting in 1s", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


async def run_workers(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run every registered loop until ``stop`` is set, then wait for them to finish."""
    tasks = [
        asyncio.create_task(_supervise(name, loop, runtime, stop), name=f"worker:{name}")
        for name, loop in LOOPS
    ]
    log.info("workers started loops=%s", ",".join(name for name, _ in LOOPS) or "-")
    try:
        await stop.wait()
    finally:
        stop.set()
        if tasks:
            # the loops finish their work in hand within the grace, then release the rest
            bound = runtime.settings.shutdown_grace + 10
            _done, pending = await asyncio.wait(tasks, timeout=bound)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        log.info("workers stopped")
