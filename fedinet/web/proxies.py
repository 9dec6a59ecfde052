"""Believe forwarded headers from trusted proxies only (``FEDINET_TRUSTED_PROXIES``).

When the peer that connected is a trusted proxy, the client address and the scheme are
taken from ``Forwarded`` (RFC 7239) or, without it, from ``X-Forwarded-For`` and
``X-Forwarded-Proto``, and written into the ASGI scope (``client``, ``scheme``), so the
access log, the rate limits and ``/metrics``' allow-list all see the real client. From
any other peer these headers are ignored: anyone can send them.

The address list is read from the right (the hop nearest to us) and every trusted
address is skipped; the first untrusted one is the client. So a client cannot pass
itself off as someone else by sending its own ``X-Forwarded-For``: the proxy appends the
address it saw, and that one is used. If every address is trusted, the leftmost is used.
A malformed entry ends the walk at the last good address.

``Host`` is never rewritten: HTTP signatures cover the ``Host`` the sender used, which
the proxy must pass unchanged. Ids come from ``FEDINET_URL``, not from the request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from fedinet.config import Network

__all__ = ["ProxyHeadersMiddleware", "forwarded_pairs", "is_trusted"]

_SCHEMES = frozenset({"http", "https"})
_PEER_CACHE = 4096


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted(address: str | None, networks: Sequence[Network]) -> bool:
    if address is None or not networks:
        return False
    ip = _ip(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def forwarded_pairs(value: str) -> list[tuple[str | None, str | None]]:
    """``(for, proto)`` of each element of a ``Forwarded`` header, left to right."""
    out: list[tuple[str | None, str | None]] = []
    for element in value.split(","):
        found: dict[str, str] = {}
        for pair in element.split(";"):
            name, sep, raw = pair.partition("=")
            if sep:
                found[name.strip().lower()] = raw.strip().strip('"')
        out.append((found.get("for"), found.get("proto")))
    return out


class ProxyHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self._peers: dict[str, bool] = {}
        """Whether a peer address is trusted: parsed once, not on every request."""

    def _trusted_peer(self, address: str) -> bool:
        known = self._peers.get(address)
        if known is None:
            if len(self._peers) >= _PEER_CACHE:
                self._peers.clear()
            known = self._peers[address] = is_trusted(address, self.trusted)
        return known

    def _resolve(self, scope: Scope) -> None:
        forwarded: list[bytes] = []
        xff: list[bytes] = []
        proto: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"forwarded":
                forwarded.append(value)
            elif name == b"x-forwarded-for":
                xff.append(value)
            elif name == b"x-forwarded-proto":
                proto = value
        hops: list[tuple[str | None, str | None]]
        if forwarded:
            hops = forwarded_pairs(b",".join(forwarded).decode("latin-1"))
        elif xff:
            addresses = b",".join(xff).decode("latin-1").split(",")
            hops = [(address.strip(), None) for address in addresses]
            if proto is not None:  # the nearest proxy's view, for the nearest hop
                last = proto.decode("latin-1").split(",")[-1].strip().lower()
                hops[-1] = (hops[-1][0], last)
        else:
            return
        client: str | None = None
        scheme: str | None = None
        for address, hop_proto in reversed(hops):
            if address is None or _ip(address) is None:
                break
            client = address
            if hop_proto is not None:
                scheme = hop_proto.lower()
            if not is_trusted(address, self.trusted):
                break
        if client is not None:
            ip = _ip(client)
            scope["client"] = (str(ip), 0)
        if scheme in _SCHEMES:
            scope["scheme"] = scheme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer and self.trusted and self._trusted_peer(peer[0]):
                self._resolve(scope)
        await self.app(scope, receive, send)
