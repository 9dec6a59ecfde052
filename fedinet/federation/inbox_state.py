"""What one process keeps between inbox requests: small caches and the group commit.

Per database pool (so per :class:`~fedinet.runtime.Runtime`), :func:`inbox_state` holds:

* **keys**: ``key_id -> (actor, key)`` as last read from the database or fetched, for
  :data:`KEY_TTL` and at most :data:`KEY_CACHE_SIZE` keys (least recently used first out).
  Every signature is still verified; a key that fails is fetched again from its server
  (the sender may have rotated it) and the fresh key replaces the cached one.
  :func:`forget_actor_keys` drops an actor's keys when this process stores that actor
  again (``store_remote_actor``); another process's change is seen within the TTL.
* **blocks**: ``domain -> suspended?`` for :data:`BLOCK_TTL` (one second), so a domain
  block added or lifted anywhere takes effect here within a second.

Both are filled with :meth:`TTLCache.get_or_load`: when an entry is missing or has
expired, the concurrent requests that need it wait for one lookup instead of each
making their own (under load, an expiring block entry otherwise sent a burst of queries,
one per request in flight, every second). An entry in use during the last quarter of
its life is looked up again in the background, so under steady traffic it is replaced
before it expires: a sender's requests do not all wait every second for its domain's
block to be queried, nor every minute for its key to be read again (or fetched from
its server). Nothing older than the TTL is ever answered.
* **batcher**: the :class:`~fedinet.db.inbox_batch.InboxBatcher` (group commit).

Parsed public keys are cached by their PEM text (:func:`public_key_from_pem`): the same
text always parses to the same key.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from fedinet.crypto.keys import PublicKey, load_public_key
from fedinet.db.inbox_batch import InboxBatcher
from fedinet.db.pool import Pool
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime

__all__ = [
    "BLOCK_CACHE_SIZE",
    "BLOCK_TTL",
    "KEY_CACHE_SIZE",
    "KEY_TTL",
    "InboxState",
    "KeyCache",
    "TTLCache",
    "forget_actor_keys",
    "inbox_state",
    "public_key_from_pem",
]

KEY_TTL = 60.0
KEY_CACHE_SIZE = 4096
BLOCK_TTL = 1.0
BLOCK_CACHE_SIZE = 4096
PUBLIC_KEY_CACHE_SIZE = 4096

log = logging.getLogger("fedinet.federation.inbox_state")

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A bounded LRU map whose entries also expire ``ttl`` seconds after being put.

    With ``refresh_ahead`` > 0, :meth:`get_or_load` starts one load in the background
    when it answers an entry that has less than that many seconds left, so that an entry
    in steady use is replaced before it expires and its callers never wait for it. An
    expired entry is never answered.
    """

    def __init__(
        self,
        maxsize: int,
        ttl: float,
        *,
        refresh_ahead: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.ttl = ttl
        self.refresh_ahead = refresh_ahead
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loading: dict[K, asyncio.Future[V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    async def get_or_load(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        """The cached value, or else ``load(key)``'s, which is then cached.

        Concurrent calls for a key that is not cached share one ``load``; if it raises,
        each of them gets the exception and nothing is cached. A caller that is cancelled
        does not cancel the load the others wait for.

        An entry answered with less than ``refresh_ahead`` seconds left also starts
        that load (if none is in flight) without waiting for it; if it fails, it is
        logged, the entry is kept until it expires, and the next call tries again.
        """
        value = self.lookup(key, load)
        if value is not None:
            return value
        return await asyncio.shield(self._loader(key, load))

    def lookup(self, key: K, load: Callable[[K], Awaitable[V]]) -> V | None:
        """:meth:`get`, and the refresh ahead of expiry that :meth:`get_or_load` makes:
        the synchronous part of it, for callers that mostly find their entry."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        now = self.clock()
        if expires <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        if expires - now < self.refresh_ahead and key not in self._loading:
            self._loader(key, load).add_done_callback(_log_failed_refresh)
        return value

    def _loader(self, key: K, load: Callable[[K], Awaitable[V]]) -> asyncio.Future[V]:
        """The load of ``key`` in flight, started if there is none."""
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, load))
            loading.add_done_callback(_retrieve)
            self._loading[key] = loading
        return loading

    async def _load(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        try:
            value = await load(key)
            self.put(key, value)
            return value
        finally:
            del self._loading[key]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self.clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a shared load's exception as seen, even if every waiter was cancelled."""
    if not future.cancelled():
        future.exception()


def _log_failed_refresh(future: asyncio.Future[Any]) -> None:
    """A refresh ahead of expiry has no caller to tell: log its failure."""
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.info("refreshing a cached inbox entry failed: %s: %s", type(exc).__name__, exc)


class KeyCache(TTLCache[str, tuple[Actor, ActorKey]]):
    """``key_id -> (owner, key)``."""

    def forget_actor(self, actor_id: int) -> None:
        stale = [k for k, (_, (_, key)) in self._entries.items() if key.actor_id == actor_id]
        for key_id in stale:
            del self._entries[key_id]


class InboxState:
    def __init__(self, pool: Pool) -> None:
        self.keys = KeyCache(KEY_CACHE_SIZE, KEY_TTL, refresh_ahead=KEY_TTL / 4)
        self.blocks: TTLCache[str, bool] = TTLCache(
            BLOCK_CACHE_SIZE, BLOCK_TTL, refresh_ahead=BLOCK_TTL / 4
        )
        self.batcher = InboxBatcher(pool)


# id(pool) -> (pool, state); the pool is kept to tell a reused id from the same pool.
_STATES: dict[int, tuple[Pool, InboxState]] = {}


def inbox_state(runtime: Runtime) -> InboxState:
    """This process's inbox state for ``runtime``'s database."""
    pool = runtime.pool
    found = _STATES.get(id(pool))
    if found is not None and found[0] is pool:
        return found[1]
    for key, (other, _) in list(_STATES.items()):
        if other.is_closing():
            del _STATES[key]
    state = InboxState(pool)
    _STATES[id(pool)] = (pool, state)
    return state


def forget_actor_keys(runtime: Runtime, actor_id: int) -> None:
    """Drop the cached keys of ``actor_id`` (its keys were just stored again)."""
    found = _STATES.get(id(runtime.pool))
    if found is not None and found[0] is runtime.pool:
        found[1].keys.forget_actor(actor_id)


@functools.lru_cache(maxsize=PUBLIC_KEY_CACHE_SIZE)
def public_key_from_pem(pem: str) -> PublicKey:
    """``load_public_key``, remembered by PEM text. Raises ValueError (not remembered)."""
    return load_public_key(pem)
