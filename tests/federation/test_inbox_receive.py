"""``receive_activity`` with its per-process caches, against a real peer on loopback.

The key cache must never let a bad signature through, must follow a key rotation at
once, and a domain block must take effect within ``BLOCK_TTL``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from fedinet.config import Settings
from fedinet.crypto.keys import generate_rsa_keypair
from fedinet.db.domain_blocks import add_domain_block, remove_domain_block
from fedinet.db.inbox import get_inbox_item_by_activity_id
from fedinet.errors import DomainBlocked, SignatureInvalid
from fedinet.federation.actors import ActorResolver
from fedinet.federation.inbox import InboundRequest, receive_activity
from fedinet.federation.inbox_state import BLOCK_TTL, KEY_TTL, inbox_state
from fedinet.models import Actor, ActorKey
from fedinet.runtime import Runtime, open_runtime
from tests.helpers.remote import RemoteAccount, RemoteServer


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        server.add_account("mallory")
        yield server


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(
        url="https://fedinet.test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-" + "x" * 40,
        allow_private_networks=True,  # the peer is on loopback
    )
    async with open_runtime(settings) as opened:
        yield opened


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every key lookup that goes past the cache: (key_id, refresh)."""
    seen: list[tuple[str, bool]] = []
    real = ActorResolver.key_for

    async def counting(
        self: ActorResolver, key_id: str, *, refresh: bool = False
    ) -> tuple[Actor, ActorKey]:
        seen.append((key_id, refresh))
        return await real(self, key_id, refresh=refresh)

    monkeypatch.setattr(ActorResolver, "key_for", counting)
    return seen


def delivery(runtime: Runtime, account: RemoteAccount, **extra: Any) -> InboundRequest:
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{account.uri}/activities/{uuid.uuid4()}",
        "type": "Like",
        "actor": account.uri,
        "object": "https://fedinet.test/notes/1",
        **extra,
    }
    body = json.dumps(doc).encode()
    url = runtime.settings.url + "/inbox"
    headers = account.sign("POST", url, body)
    return InboundRequest("POST", url, "/inbox", tuple(headers.items()), body)


async def test_the_key_is_looked_up_once_then_cached(
    runtime: Runtime, remote: RemoteServer, lookups: list[tuple[str, bool]]
) -> None:
    mallory = remote.accounts["mallory"]
    for _ in range(3):
        assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert lookups == [(mallory.main_key_id, False)]


async def test_a_replay_is_stored_once(runtime: Runtime, remote: RemoteServer) -> None:
    request = delivery(runtime, remote.accounts["mallory"])
    assert await receive_activity(runtime, request, recipient=None) is True
    assert await receive_activity(runtime, request, recipient=None) is False
    activity_id = json.loads(request.body)["id"]
    item = await get_inbox_item_by_activity_id(runtime.pool, activity_id)
    assert item is not None and item.body == json.loads(request.body)


async def test_a_rotated_key_is_refetched_and_replaces_the_cached_one(
    runtime: Runtime, remote: RemoteServer, lookups: list[tuple[str, bool]]
) -> None:
    mallory = remote.accounts["mallory"]
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    signed_with_old_key = delivery(runtime, mallory)
    old_pem = mallory.rsa_public

    mallory.rsa_private, mallory.rsa_public = generate_rsa_keypair()  # the peer rotates
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert lookups == [(mallory.main_key_id, False), (mallory.main_key_id, True)]
    cached = inbox_state(runtime).keys.get(mallory.main_key_id)
    assert cached is not None and cached[1].public_key_pem == mallory.rsa_public

    # The old key is not trusted any more, cached or not; it is refetched once, not more.
    lookups.clear()
    with pytest.raises(SignatureInvalid):
        await receive_activity(runtime, signed_with_old_key, recipient=None)
    assert lookups == [(mallory.main_key_id, True)]
    assert old_pem != mallory.rsa_public
    # And a good signature still needs no lookup.
    lookups.clear()
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert lookups == []


async def test_a_forged_signature_is_refused_with_a_cached_key(
    runtime: Runtime, remote: RemoteServer
) -> None:
    mallory = remote.accounts["mallory"]
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    impostor = RemoteAccount("mallory", remote.base_url)  # same key id, another key
    with pytest.raises(SignatureInvalid):
        await receive_activity(runtime, delivery(runtime, impostor), recipient=None)


async def _soon(check: Callable[[], bool]) -> bool:
    """Whether ``check`` holds within half a second (a background refresh landing)."""
    for _ in range(50):
        if check():
            return True
        await asyncio.sleep(0.01)
    return check()


async def test_a_domain_block_takes_effect_within_the_block_ttl(
    runtime: Runtime, remote: RemoteServer
) -> None:
    mallory = remote.accounts["mallory"]
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    await add_domain_block(runtime.pool, "127.0.0.1", "suspend", "test")
    await asyncio.sleep(BLOCK_TTL)
    with pytest.raises(DomainBlocked):
        await receive_activity(runtime, delivery(runtime, mallory), recipient=None)

    await remove_domain_block(runtime.pool, "127.0.0.1")
    await asyncio.sleep(BLOCK_TTL)
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)


async def test_a_block_entry_in_use_is_refreshed_before_it_expires(
    runtime: Runtime, remote: RemoteServer
) -> None:
    # Under steady traffic the inbox answers from its block entry and refreshes it in
    # the background during the entry's last quarter, so no request waits for the query;
    # a block added meanwhile is seen as soon as that refresh is back.
    mallory = remote.accounts["mallory"]
    blocks = inbox_state(runtime).blocks
    now = [1000.0]
    blocks.clock = lambda: now[0]
    host = urlsplit(mallory.main_key_id).netloc  # what the entry is kept under
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert host in blocks
    await add_domain_block(runtime.pool, "127.0.0.1", "suspend", "test")
    now[0] += BLOCK_TTL * 0.8  # still fresh, in its last quarter
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert await _soon(lambda: blocks.get(host) is True)  # the background query
    with pytest.raises(DomainBlocked):
        await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    await remove_domain_block(runtime.pool, "127.0.0.1")


async def test_a_key_in_use_is_read_again_before_it_expires(
    runtime: Runtime, remote: RemoteServer
) -> None:
    mallory = remote.accounts["mallory"]
    keys = inbox_state(runtime).keys
    now = [1000.0]
    keys.clock = lambda: now[0]
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    assert keys.get(mallory.main_key_id) is not None
    now[0] += KEY_TTL * 0.8  # in the entry's last quarter: answered, and read again
    assert await receive_activity(runtime, delivery(runtime, mallory), recipient=None)
    now[0] += KEY_TTL * 0.3  # past the first entry's end: only a re-read entry is alive
    assert await _soon(lambda: keys.get(mallory.main_key_id) is not None)
