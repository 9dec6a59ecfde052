"""The inbox's per-process caches: bounded, expiring, and one set per database pool."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from fedinet.crypto.keys import generate_rsa_keypair
from fedinet.federation import inbox_state
from fedinet.federation.inbox_state import (
    BLOCK_TTL,
    KEY_TTL,
    KeyCache,
    TTLCache,
    forget_actor_keys,
    public_key_from_pem,
)
from fedinet.models import ActorKey


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10, 5.0, clock=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is None
    assert "a" not in cache  # dropped when found expired
    cache.put("a", 2)  # put again: a fresh lifetime
    clock.now += 4.9
    assert cache.get("a") == 2


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TTLCache[str, int] = TTLCache(3, 60.0)
    for name in "abc":
        cache.put(name, ord(name))
    assert cache.get("a") == ord("a")  # a is now the most recently used
    cache.put("d", 4)
    assert len(cache) == 3
    assert "b" not in cache
    assert [cache.get(n) for n in "acd"] == [ord("a"), ord("c"), 4]
    cache.pop("c")
    cache.pop("missing")
    assert "c" not in cache
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        TTLCache(0, 1.0)


def test_the_ttls_are_short() -> None:
    # A domain block takes effect in every process within BLOCK_TTL; a key changed by
    # another process is read again within KEY_TTL (a failing key is refetched at once).
    assert BLOCK_TTL <= 1.0
    assert KEY_TTL <= 60.0


def test_forgetting_an_actor_drops_only_its_keys() -> None:
    cache = KeyCache(10, 60.0)
    actor: Any = object()

    def key(key_id: str, actor_id: int) -> ActorKey:
        return ActorKey(key_id=key_id, actor_id=actor_id, kind="rsa", public_key_pem="x")

    cache.put("k1", (actor, key("k1", 1)))
    cache.put("k2", (actor, key("k2", 1)))
    cache.put("k3", (actor, key("k3", 2)))
    cache.forget_actor(1)
    assert "k1" not in cache and "k2" not in cache
    assert "k3" in cache


def test_one_state_per_pool_and_a_closed_pool_is_forgotten() -> None:
    class FakePool:
        closing = False

        def is_closing(self) -> bool:
            return self.closing

    first: Any = SimpleNamespace(pool=FakePool())
    second: Any = SimpleNamespace(pool=FakePool())
    state = inbox_state.inbox_state(first)
    assert inbox_state.inbox_state(first) is state
    assert inbox_state.inbox_state(second) is not state

    actor: Any = object()
    state.keys.put("k", (actor, ActorKey("k", 7, "rsa", "x")))
    forget_actor_keys(second, 7)  # another database: untouched
    assert "k" in state.keys
    forget_actor_keys(first, 7)
    assert "k" not in state.keys

    first.pool.closing = True
    inbox_state.inbox_state(SimpleNamespace(pool=FakePool()))  # a new pool sweeps
    assert all(pool is not first.pool for pool, _ in inbox_state._STATES.values())


def test_parsed_public_keys_are_reused_by_pem_text() -> None:
    _, pem = generate_rsa_keypair()
    assert public_key_from_pem(pem) is public_key_from_pem(pem)
    with pytest.raises(ValueError):
        public_key_from_pem("not a key")


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, bool] = TTLCache(10, 60.0)
    calls: list[str] = []
    release = asyncio.Event()

    async def load(domain: str) -> bool:
        calls.append(domain)
        await release.wait()
        return domain == "blocked.example"

    waiting = [asyncio.create_task(cache.get_or_load("blocked.example", load)) for _ in range(20)]
    other = asyncio.create_task(cache.get_or_load("fine.example", load))
    await asyncio.sleep(0)
    waiting[0].cancel()  # one caller gives up: the others still get the answer
    release.set()
    assert await asyncio.gather(*waiting[1:]) == [True] * 19
    assert await other is False
    assert calls == ["blocked.example", "fine.example"]
    assert cache.get("blocked.example") is True  # cached: no further load
    assert await cache.get_or_load("blocked.example", load) is True
    assert len(calls) == 2


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: TTLCache[str, bool] = TTLCache(10, 60.0)
    attempts = 0

    async def load(domain: str) -> bool:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        if attempts == 1:
            raise RuntimeError("database unavailable")
        return False

    results = await asyncio.gather(
        *(cache.get_or_load("x.example", load) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert attempts == 1
    assert "x.example" not in cache
    assert await cache.get_or_load("x.example", load) is False  # tried again
    assert attempts == 2


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_entry_near_its_end_is_answered_and_refreshed_in_the_background() -> None:
    clock = Clock()
    cache: TTLCache[str, str] = TTLCache(10, 4.0, refresh_ahead=1.0, clock=clock)
    cache.put("k", "old")
    loads: list[str] = []
    release = asyncio.Event()

    async def load(key: str) -> str:
        loads.append(key)
        await release.wait()
        return "new"

    clock.now += 2.9  # 1.1 s left: no refresh yet
    assert cache.lookup("k", load) == "old"
    await settle()
    assert loads == []
    clock.now += 0.2  # 0.9 s left: answered at once, and one refresh starts
    answers = await asyncio.wait_for(
        asyncio.gather(*(cache.get_or_load("k", load) for _ in range(10))), 1.0
    )
    assert answers == ["old"] * 10  # nobody waited for the refresh (else: a timeout)
    assert cache.lookup("k", load) == "old"
    await settle()
    assert loads == ["k"]  # one refresh for all of them
    release.set()
    await settle()
    clock.now += 3.5  # past the old entry's end, within the refreshed one's
    assert cache.get("k") == "new"
    assert loads == ["k"]


async def test_a_failed_refresh_is_logged_and_retried_and_nothing_expired_is_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    cache: TTLCache[str, str] = TTLCache(10, 4.0, refresh_ahead=1.0, clock=clock)
    cache.put("k", "old")
    attempts = 0

    async def load(key: str) -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database unavailable")
        return f"new{attempts}"

    clock.now += 3.5
    with caplog.at_level("INFO", logger="fedinet.federation.inbox_state"):
        assert await cache.get_or_load("k", load) == "old"
        await settle()
    assert attempts == 1
    assert "database unavailable" in caplog.text  # a background failure is not silent
    assert await cache.get_or_load("k", load) == "old"  # kept, and tried again
    await settle()
    assert attempts == 2 and cache.get("k") == "new2"

    # An expired entry is never answered: the caller waits for the load.
    cache.put("e", "old")
    clock.now += 4.0
    assert cache.lookup("e", load) is None
    assert await cache.get_or_load("e", load) == "new3"

    # Without refresh_ahead (the default), nothing is loaded before expiry.
    plain: TTLCache[str, str] = TTLCache(10, 4.0, clock=clock)
    plain.put("k", "old")
    clock.now += 3.9
    assert await plain.get_or_load("k", load) == "old"
    await settle()
    assert attempts == 3


def test_the_inbox_caches_refresh_in_the_last_quarter_of_their_life() -> None:
    pool: Any = SimpleNamespace()
    state = inbox_state.InboxState(pool)
    assert state.keys.refresh_ahead == KEY_TTL / 4
    assert state.blocks.refresh_ahead == BLOCK_TTL / 4
