"""The inbox worker: claims stored activities and hands each to its handler, once.

Handlers register themselves per activity type (``@handles("Follow")``). An activity type
nobody handles is kept and marked ``ignored``; an activity that breaks a rule (a forged
ownership, a malformed object) is dropped with its reason logged; a transient failure
(the other server is down, the database hiccups) is retried with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fedinet.db.inbox import (
    INBOX_CHANNEL,
    InboxItem,
    claim_inbox_items,
    mark_inbox_item,
    retry_inbox_item,
)
from fedinet.errors import (
    ActorMismatch,
    BadActivity,
    DomainBlocked,
    FedinetError,
    NotFound,
    PermissionDenied,
    RemoteFetchError,
)
from fedinet.runtime import Runtime

__all__ = [
    "HANDLERS",
    "Handler",
    "handles",
    "inbox_loop",
    "process_item",
    "process_pending",
]

log = logging.getLogger("fedinet.federation.processing")

Handler = Callable[[Runtime, InboxItem], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
BATCH = 20
IDLE_POLL = 5.0

# Errors that no retry will fix: the activity is dropped and the reason kept.
_PERMANENT = (BadActivity, ActorMismatch, PermissionDenied, DomainBlocked, NotFound)
# Fetch failures no retry will fix (others — timeouts, 5xx, unreachable — are retried).
_PERMANENT_FETCH_REASONS = frozenset(
    {
        "gone",
        "not_found",
        "id_mismatch",
        "bad_document",
        "bad_content_type",
        "too_large",
        "unsafe_address",
        "bad_url",
    }
)


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for activity_type in types:
            HANDLERS[activity_type] = handler
        return handler

    return register


def _backoff(attempts: int) -> timedelta:
    base = min(30 * 2 ** (attempts - 1), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


async def process_item(runtime: Runtime, item: InboxItem) -> str:
    """Process one claimed item; return the state it ended in."""
    handler = HANDLERS.get(item.activity_type)
    if handler is None:
        await mark_inbox_item(runtime.pool, item.id, "ignored", "no handler for this type")
        return "ignored"
    try:
        await handler(runtime, item)
    except RemoteFetchError as exc:
        if exc.reason not in _PERMANENT_FETCH_REASONS:
            return await _retry_or_fail(runtime, item, exc)
        return await _drop(runtime, item, exc)
    except _PERMANENT as exc:
        return await _drop(runtime, item, exc)
    except Exception as exc:
        return await _retry_or_fail(runtime, item, exc)
    await mark_inbox_item(runtime.pool, item.id, "done")
    return "done"


async def _drop(runtime: Runtime, item: InboxItem, exc: FedinetError) -> str:
    log.warning(
        "activity dropped id=%s type=%s reason=%s message=%s",
        item.activity_id,
        item.activity_type,
        exc.reason,
        exc,
    )
    await mark_inbox_item(runtime.pool, item.id, "ignored", f"{exc.reason}: {exc}")
    return "ignored"


async def _retry_or_fail(runtime: Runtime, item: InboxItem, exc: Exception) -> str:
    message = f"{type(exc).__name__}: {exc}"
    if item.attempts >= MAX_ATTEMPTS:
        log.error("activity failed for good id=%s error=%s", item.activity_id, message)
        await mark_inbox_item(runtime.pool, item.id, "failed", message)
        return "failed"
    log.warning("activity will be retried id=%s error=%s", item.activity_id, message)
    await retry_inbox_item(runtime.pool, item.id, _backoff(item.attempts), message)
    return "pending"


async def process_pending(runtime: Runtime, *, limit: int = BATCH) -> int:
    """Claim and process one batch; return how many items were claimed."""
    items = await claim_inbox_items(runtime.pool, limit=limit, lease=LEASE)
    for item in items:
        await process_item(runtime, item)
    return len(items)


async def inbox_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    """Process the inbox until ``stop``; woken at once by NOTIFY, else polling."""
    wake = asyncio.Event()

    def on_notify(*_: object) -> None:
        wake.set()

    async with runtime.pool.acquire() as listener:
        await listener.add_listener(INBOX_CHANNEL, on_notify)
        try:
            while not stop.is_set():
                wake.clear()
                if await process_pending(runtime):
                    continue
                stop_wait = asyncio.ensure_future(stop.wait())
                wake_wait = asyncio.ensure_future(wake.wait())
                try:
                    await asyncio.wait(
                        [stop_wait, wake_wait],
                        timeout=IDLE_POLL,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    for waiter in (stop_wait, wake_wait):
                        waiter.cancel()
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(INBOX_CHANNEL, on_notify)
