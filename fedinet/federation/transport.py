"""The HTTP transport for every outgoing request: an SSRF guard plus the scheme policy.

The guard sits where connections are made. :class:`GuardedBackend` is an ``httpcore``
network backend: it resolves the host itself, vets **every** resolved address with
:func:`is_public_address` and then connects to a vetted IP, never to the name. So the check
applies to the address actually connected to: DNS rebinding is covered, and so is every
redirect hop, since each new origin makes a new connection. TLS still verifies the
certificate against the host name, because httpcore passes the name for SNI and checking.
A refused address raises :class:`~fedinet.errors.UnsafeAddress`, which httpx lets through
unchanged.

The scheme policy (:func:`candidate_urls`): a public host is reached over ``https`` only, and
an ``http://`` URL to one is upgraded to ``https://``. With ``allow_private_networks`` a
private or loopback host may also be reached over plain ``http``: ``https`` is tried first,
then ``http``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpcore
import httpx

from fedinet import __version__
from fedinet.config import Settings
from fedinet.errors import RemoteFetchError, UnsafeAddress

__all__ = [
    "GuardedBackend",
    "GuardedTransport",
    "IPAddress",
    "address_kind",
    "candidate_urls",
    "check_address",
    "is_public_address",
    "make_http_client",
    "make_ssl_context",
    "read_capped",
    "url_authority",
    "user_agent",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4, _V6 = ipaddress.IPv4Network, ipaddress.IPv6Network

# Special-purpose ranges (IANA registries) that no federation peer lives in, with the word
# used in error messages. Checked before the standard library's ``is_global`` so the answer
# does not depend on the Python version.
_BLOCKED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "reserved"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "reserved"),  # deprecated IPv4-compatible addresses
    (_V6("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_V6("100::/64"), "reserved"),  # discard-only
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments, Teredo among them
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("5f00::/16"), "reserved"),  # SRv6 SIDs
    (_V6("fc00::/7"), "private"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private"),  # deprecated site-local
    (_V6("ff00::/8"), "multicast"),
)
# Kinds refused even when private networks are allowed: never a peer, and link-local is
# where cloud metadata services answer.
_ALWAYS_REFUSED = frozenset({"unspecified", "multicast", "link-local"})

_NAT64 = _V6("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _as_ip(ip: str | IPAddress) -> IPAddress:
    return ipaddress.ip_address(ip) if isinstance(ip, str) else ip


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped, NAT64 or 6to4."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_kind(ip: str | IPAddress) -> str | None:
    """Why an address is not public (``"loopback"``, ``"private"`` …), or ``None`` if it is.

    IPv6 addresses carrying an IPv4 one (``::ffff:127.0.0.1``, NAT64, 6to4) are judged by it.
    """
    address = _as_ip(ip)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_kind(embedded)
        if address.scope_id:
            address = ipaddress.IPv6Address(int(address))
    for network, kind in _BLOCKED:
        if address.version == network.version and address in network:
            return kind
    if address.is_multicast:
        return "multicast"
    if not address.is_global:
        return "reserved"
    return None


def is_public_address(ip: str | IPAddress) -> bool:
    """Whether a federation request may connect to ``ip`` (public unicast only)."""
    return address_kind(ip) is None


def check_address(ip: str | IPAddress, *, host: str, allow_private: bool) -> None:
    """Raise :class:`UnsafeAddress` unless connecting to ``ip`` (for ``host``) is allowed."""
    kind = address_kind(ip)
    if kind is None or (allow_private and kind not in _ALWAYS_REFUSED):
        return
    target = f"{host} ({ip})" if str(ip) != host else str(ip)
    hint = (
        ""
        if allow_private or kind in _ALWAYS_REFUSED
        else "; FEDINET_ALLOW_PRIVATE_NETWORKS=true allows this for local setups"
    )
    raise UnsafeAddress(f"refusing to connect to {target}: a {kind} address{hint}")


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def _resolve(
    host: str, port: int, overrides: Mapping[str, str] | None = None
) -> list[IPAddress]:
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    if overrides:
        fixed = overrides.get(host.lower())
        if fixed is not None:  # FEDINET_RESOLVE (tests): vetted like any answer
            return [ipaddress.ip_address(fixed)]
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore backend that only connects to vetted addresses.

    The host is resolved here; if **any** resolved address is refused, the connection is
    refused (a name mixing public and private answers is not trusted). Otherwise the
    addresses are tried in resolver order until one connects.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        inner: httpcore.AsyncNetworkBackend | None = None,
        resolve: Mapping[str, str] | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolve = dict(resolve or {})
        """Host -> IP answered before DNS (``FEDINET_RESOLVE``, for tests)."""
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with anyio.fail_after(timeout):
                addresses = await _resolve(host, port, self.resolve)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            check_address(address, host=host, allow_private=self.allow_private)
        last_error: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeAddress("refusing to connect to a Unix socket for a federation request")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connection pool uses :class:`GuardedBackend`.

    httpx 0.28 does not take a network backend, so the pool it builds is replaced by an
    equivalent ``httpcore.AsyncConnectionPool`` that has one; proxies are never used.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = httpx.Limits(),  # noqa: B008 - immutable
        resolve: Mapping[str, str] | None = None,
    ) -> None:
        context = make_ssl_context() if ssl_context is None else ssl_context
        super().__init__(verify=context, limits=limits, trust_env=False)
        self.backend = GuardedBackend(allow_private=allow_private, resolve=resolve)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self.backend,
        )


def make_ssl_context() -> ssl.SSLContext:
    """The system CA store, or ``$SSL_CERT_FILE`` when set (as for curl and OpenSSL)."""
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)


def user_agent(settings: Settings) -> str:
    return f"fedinet/{__version__} (+{settings.url}/)"


def make_http_client(settings: Settings) -> httpx.AsyncClient:
    """The shared client for every outgoing federation request (use it as a context manager).

    Guarded transport, verified TLS, connect 5 s / read 10 s timeouts, no redirects followed
    (:mod:`fedinet.federation.fetch` follows them itself, re-checking each hop), no proxies,
    ``.netrc`` or other environment credentials.
    """
    transport = GuardedTransport(
        allow_private=settings.allow_private_networks,
        resolve=dict(settings.resolve),
        limits=httpx.Limits(
            max_connections=100, max_keepalive_connections=32, keepalive_expiry=30.0
        ),
    )
    return httpx.AsyncClient(
        transport=transport,
        headers={"User-Agent": user_agent(settings)},
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
        trust_env=False,
    )


def url_authority(url: str) -> str:
    """``host[:port]`` of an absolute URL, lower-cased, the port only when not the default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise RemoteFetchError(f"invalid port in URL {url!r}", reason="bad_url") from None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def _checked_host(url: str) -> str:
    """The host name of a URL fit for federation, or raise ``RemoteFetchError``."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise RemoteFetchError(
            f"only http and https URLs can be fetched, got {url!r}", reason="bad_url"
        )
    if not parts.hostname:
        raise RemoteFetchError(f"URL has no host: {url!r}", reason="bad_url")
    if parts.username is not None or parts.password is not None:
        raise RemoteFetchError(f"URL must not carry credentials: {url!r}", reason="bad_url")
    url_authority(url)  # validates the port
    return parts.hostname


def _with_scheme(url: str, scheme: str) -> str:
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    default = _DEFAULT_PORTS[parts.scheme.lower()]
    if parts.port == default:  # an explicit default port belongs to the old scheme
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


async def _is_private_host(host: str) -> bool:
    try:
        addresses = await _resolve(host, 443)
    except OSError:
        return False  # unresolvable: treat as public; connecting will fail clearly
    return any(not is_public_address(address) for address in addresses)


async def candidate_urls(url: str, allow_private: bool) -> list[str]:
    """The URLs to try, in order, for ``url`` under the scheme policy.

    * A public host: ``https`` only; ``http://`` is upgraded to ``https://``.
    * ``allow_private`` and a host that is, or resolves to, a private or loopback address:
      ``https`` first, then ``http``.
    * Without ``allow_private``, a literal non-public IP raises :class:`UnsafeAddress` at
      once; names are vetted when connecting (see :class:`GuardedBackend`).

    Schemes other than http(s), credentials in the URL or a bad port raise
    :class:`RemoteFetchError` with reason ``bad_url``.
    """
    host = _checked_host(url)
    literal = _literal_ip(host)
    if literal is not None:
        check_address(literal, host=host, allow_private=allow_private)
    https = _with_scheme(url, "https")
    if allow_private and (
        (literal is not None and not is_public_address(literal))
        or (literal is None and await _is_private_host(host))
    ):
        return [https, _with_scheme(url, "http")]
    return [https]


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read a streamed response body, refusing (``too_large``) once it exceeds ``max_bytes``.

    A ``Content-Length`` over the limit is refused before reading. The count is of decoded
    bytes, so a small compressed body that inflates past the limit is refused too.
    """
    url = str(response.request.url)
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise RemoteFetchError(
            f"{url} is {int(declared)} bytes, more than the {max_bytes} allowed",
            reason="too_large",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise RemoteFetchError(
                f"{url} sent more than the {max_bytes} bytes allowed", reason="too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)
