"""Forwarded headers are believed from trusted proxies only (``FEDINET_TRUSTED_PROXIES``)."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from fedinet.app import create_app
from fedinet.config import EVERYWHERE, LOOPBACK, Network, Settings
from fedinet.runtime import Runtime
from fedinet.web.proxies import ProxyHeadersMiddleware, forwarded_pairs, is_trusted

PROXY = "10.0.0.5"
TRUSTED: tuple[Network, ...] = (*LOOPBACK, ipaddress.ip_network("10.0.0.0/24"))


def _net(text: str) -> Network:
    return ipaddress.ip_network(text)


async def _seen(
    headers: list[tuple[str, str]], *, peer: str, trusted: tuple[Network, ...] = TRUSTED
) -> tuple[str, str]:
    """(client address, scheme) the app behind the middleware sees."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["client"], seen["scheme"] = scope["client"][0], scope["scheme"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(
        app=ProxyHeadersMiddleware(app, trusted=trusted), client=(peer, 40000)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://fedinet.test") as http:
        assert (await http.get("/", headers=headers)).status_code == 204
    return seen["client"], seen["scheme"]


async def test_trusted_proxy_sets_client_and_scheme() -> None:
    headers = [("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https")]
    assert await _seen(headers, peer=PROXY) == ("198.51.100.7", "https")


async def test_untrusted_peer_headers_are_ignored() -> None:
    headers = [("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https")]
    assert await _seen(headers, peer="203.0.113.9") == ("203.0.113.9", "http")
    forwarded = [("Forwarded", 'for="198.51.100.7";proto=https')]
    assert await _seen(forwarded, peer="203.0.113.9") == ("203.0.113.9", "http")


async def test_no_trusted_proxies_trusts_nobody() -> None:
    headers = [("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https")]
    assert await _seen(headers, peer="127.0.0.1", trusted=()) == ("127.0.0.1", "http")


async def test_a_spoofed_chain_yields_the_address_the_proxy_saw() -> None:
    # The client sent its own X-Forwarded-For; the proxy appended the address it saw.
    headers = [("X-Forwarded-For", "1.2.3.4, 198.51.100.7")]
    assert await _seen(headers, peer=PROXY) == ("198.51.100.7", "http")
    # Two trusted proxies in a row are both skipped.
    headers = [("X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.0.0.9")]
    assert await _seen(headers, peer=PROXY) == ("198.51.100.7", "http")
    # Only trusted hops: the leftmost one.
    headers = [("X-Forwarded-For", "10.0.0.8, 10.0.0.9")]
    assert await _seen(headers, peer=PROXY) == ("10.0.0.8", "http")


async def test_malformed_entries_stop_the_walk() -> None:
    headers = [("X-Forwarded-For", "198.51.100.7, not-an-ip")]
    assert await _seen(headers, peer=PROXY) == (PROXY, "http")
    headers = [("X-Forwarded-For", "not-an-ip, 10.0.0.9"), ("X-Forwarded-Proto", "gopher")]
    assert await _seen(headers, peer=PROXY) == ("10.0.0.9", "http")


async def test_forwarded_header_wins_and_handles_ipv6_and_ports() -> None:
    headers = [
        ("Forwarded", 'for="[2001:db8::7]:4711";proto=https, for=10.0.0.9'),
        ("X-Forwarded-For", "192.0.2.1"),
    ]
    assert await _seen(headers, peer=PROXY) == ("2001:db8::7", "https")
    headers = [("Forwarded", "for=198.51.100.7:5555;proto=http")]
    assert await _seen(headers, peer=PROXY) == ("198.51.100.7", "http")
    headers = [("Forwarded", "for=_hidden;proto=https")]  # obfuscated: not an address
    assert await _seen(headers, peer=PROXY) == (PROXY, "http")


def test_forwarded_pairs_and_is_trusted() -> None:
    assert forwarded_pairs('for=a;proto=https, For="b" ;by=c') == [("a", "https"), ("b", None)]
    assert is_trusted("127.0.0.1", LOOPBACK)
    assert is_trusted("::ffff:10.0.0.5", TRUSTED)
    assert not is_trusted("10.0.1.5", TRUSTED)
    assert not is_trusted("127.0.0.1", ())
    assert is_trusted("2001:db8::1", EVERYWHERE)
    assert not is_trusted("garbage", EVERYWHERE)


# --- the app: access log and rate limits key on the resolved client ---------------------


@pytest.fixture
async def behind_proxy(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two clients of one app trusting 10.0.0.0/24: one connecting from the proxy,
    one from an untrusted address."""
    app = create_app(dataclasses.replace(settings, trusted_proxies=TRUSTED), runtime=runtime)
    via_proxy = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(PROXY, 40000)), base_url=settings.url
    )
    direct = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 40000)),
        base_url=settings.url,
    )
    async with via_proxy, direct:
        yield via_proxy, direct


def _remaining(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.headers["X-RateLimit-Remaining"])


async def test_rate_limits_key_on_the_forwarded_client_only_from_the_proxy(
    behind_proxy: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    via_proxy, direct = behind_proxy
    one = {"X-Forwarded-For": "198.51.100.1"}
    two = {"X-Forwarded-For": "198.51.100.2"}
    assert _remaining(await via_proxy.get("/api/v1/instance", headers=one)) == 299
    assert _remaining(await via_proxy.get("/api/v1/instance", headers=one)) == 298
    assert _remaining(await via_proxy.get("/api/v1/instance", headers=two)) == 299
    # From an untrusted peer the header changes nothing: one bucket for the peer.
    assert _remaining(await direct.get("/api/v1/instance", headers=one)) == 299
    assert _remaining(await direct.get("/api/v1/instance", headers=two)) == 298
    assert _remaining(await direct.get("/api/v1/instance", headers=one)) == 297


async def test_access_log_shows_the_forwarded_client_only_from_the_proxy(
    behind_proxy: tuple[httpx.AsyncClient, httpx.AsyncClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    via_proxy, direct = behind_proxy
    caplog.set_level(logging.INFO, logger="fedinet.access")
    spoof = {"X-Forwarded-For": "198.51.100.1"}
    await via_proxy.get("/livez", headers=spoof)
    await direct.get("/livez", headers=spoof)
    lines = [r.getMessage() for r in caplog.records if r.name == "fedinet.access"]
    assert [line.rsplit(" ", 1)[1] for line in lines] == [
        "client=198.51.100.1",
        "client=203.0.113.9",
    ]
