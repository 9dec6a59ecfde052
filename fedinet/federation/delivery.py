"""Delivering the activities members author to other servers' inboxes.

The queue is ``deliveries`` (:mod:`fedinet.db.deliveries`), one row per (activity, inbox).
:func:`delivery_loop` claims due rows and POSTs each, signed as the activity's author with
its RSA key, in the signature format the server is known to accept; on 401/403 it knocks
once more in the other format and remembers the one that worked (double-knocking, as in
:mod:`fedinet.federation.signing`). What an answer leads to:

* 2xx: delivered.
* 401/403 (after the second knock), 408, 429, 5xx, a timeout or a connection failure:
  tried again after an exponential backoff with jitter (30 s doubling up to 14 h:
  :data:`MAX_ATTEMPTS` attempts span about three days), never earlier than a
  ``Retry-After`` given with 429 or 503.
* any other answer (400, 404, 410, 422, a redirect …), or an unsafe or malformed URL:
  given up at once.

A server that failed :data:`UNREACHABLE_AFTER` requests in a row (5xx, timeouts,
connection failures) is unreachable: its deliveries wait, and one of them is tried as a
probe every :data:`PROBE_EVERY`; any HTTP answer other than a 5xx makes it reachable again.

Requests to different servers run in parallel, at most :data:`GLOBAL_CONCURRENCY` in all
and :data:`PER_SERVER_CONCURRENCY` per server. Delivery is at least once: a claimed row is
leased (``FEDINET_DELIVERY_LEASE_SECONDS``, default :data:`LEASE`), and a worker that
dies leaves it to be claimed again when the lease runs out; receivers deduplicate by
activity id.

The POSTs go through :class:`Http1Transport`, a small HTTP/1.1 client made for this
one job: on the 2-core reference machines the shared httpx client cost about 0.7 ms of
CPU per request and aiohttp about 0.2 ms under load, against the 0.36 ms of the RSA
signature itself, and the delivery goal could not be reached with either
(``docs/benchmarks.md``, "Delivery fan-out"). It keeps the SSRF guard: every resolved
address is vetted, and so is the address actually connected to, with
:func:`~fedinet.federation.transport.check_address`. :class:`AiohttpTransport` (the
previous client) is kept for comparison by ``tests/bench/bench_delivery.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import re
import socket
import ssl
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Protocol, cast
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from fedinet.config import Settings
from fedinet.db import servers as servers_db
from fedinet.db.actors import get_local_private_key
from fedinet.db.deliveries import (
    DELIVERY_CHANNEL,
    Delivery,
    claim_deliveries,
    mark_delivered,
    mark_failed,
    release_deliveries,
    schedule_retry,
)
from fedinet.db.servers import SignatureFormat
from fedinet.db.types import Executor
from fedinet.errors import RemoteFetchError, UnsafeAddress
from fedinet.federation.signing import Signer, other_format
from fedinet.federation.transport import (
    candidate_urls,
    check_address,
    make_ssl_context,
    user_agent,
)
from fedinet.metrics import DELIVERIES
from fedinet.runtime import Runtime

__all__ = [
    "GLOBAL_CONCURRENCY",
    "LEASE",
    "MAX_ATTEMPTS",
    "PER_SERVER_CONCURRENCY",
    "PROBE_EVERY",
    "UNREACHABLE_AFTER",
    "AiohttpTransport",
    "Answer",
    "ConnectFailed",
    "DeliverySession",
    "DeliveryTransport",
    "Http1Transport",
    "Outcome",
    "deliver_one",
    "delivery_loop",
    "parse_retry_after",
    "retry_delay",
]

log = logging.getLogger("fedinet.federation.delivery")

Outcome = Literal["delivered", "pending", "failed"]

GLOBAL_CONCURRENCY = 32
PER_SERVER_CONCURRENCY = 4
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 16
UNREACHABLE_AFTER = 10
PROBE_EVERY = timedelta(minutes=30)
IDLE_POLL = 5.0
REQUEST_TIMEOUT = 30.0
"""Seconds for one POST, connecting and reading the answer included."""
MAX_RETRY_AFTER = timedelta(days=1)

_RETRY_BASE = 30.0
_RETRY_CAP = 14 * 3600.0
_RETRY_STATUSES = frozenset({401, 403, 408, 429})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_MAX_ANSWER_BYTES = 65_536
_REFILL_AT = 8  # claim again once this many slots are free (or nothing is in flight)
_FLUSH_AT = 64  # write the delivered marks once this many are waiting
_SIGNER_TTL = 300.0
_SUCCESS_RECORD_EVERY = 60.0
_CACHE_MAX = 10_000
_OUTCOME_LABELS: dict[str, str] = {"delivered": "delivered", "pending": "retry", "failed": "failed"}
AP_CONTENT_TYPE = "application/activity+json"


def retry_delay(attempts: int, *, first: float = _RETRY_BASE) -> timedelta:
    """The wait after failed attempt number ``attempts`` (1-based): ``first`` (30 s by
    default) doubling up to 14 h, times a random factor between 0.75 and 1.25."""
    base = min(first * 2 ** max(attempts - 1, 0), _RETRY_CAP)
    return timedelta(seconds=base * random.uniform(0.75, 1.25))


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A ``Retry-After`` value (seconds or an HTTP date) as a wait from ``now``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


# --- the transport ----------------------------------------------------------------------


class ConnectFailed(RemoteFetchError):
    """No connection could be made (DNS, TCP or TLS): the next candidate URL may work."""

    reason = "unreachable"


@dataclass(frozen=True, slots=True)
class Answer:
    """What an inbox answered."""

    status: int
    retry_after: str | None = None


class DeliveryTransport(Protocol):
    """Sends one POST. Raises :class:`ConnectFailed` when no connection could be made,
    :class:`~fedinet.errors.UnsafeAddress` for a refused address, and
    :class:`~fedinet.errors.RemoteFetchError` (``timeout``, ``unreachable``) otherwise."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer: ...

    async def aclose(self) -> None: ...


class _RefusedAddress(OSError):
    """Raised by the socket factory: aiohttp only lets ``OSError`` out of it."""


class _GuardedResolver(AbstractResolver):
    """Resolves with the system resolver and refuses a name if any address is refused
    (as :class:`~fedinet.federation.transport.GuardedBackend` does)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family
        )
        results: list[ResolveResult] = []
        for info_family, _type, proto, _canon, sockaddr in infos:
            address = str(sockaddr[0])
            check_address(address, host=host, allow_private=self.allow_private)
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=int(sockaddr[1]),
                    family=info_family,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"{host} has no address")
        return results

    async def close(self) -> None:
        return None


class AiohttpTransport:
    """POSTs through one aiohttp session: guarded, verified TLS (``SSL_CERT_FILE``
    honoured), keep-alive per server, no redirects, proxies or cookies."""

    def __init__(
        self,
        settings: Settings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.allow_private = settings.allow_private_networks
        connector = aiohttp.TCPConnector(
            resolver=_GuardedResolver(allow_private=self.allow_private),
            ssl=make_ssl_context() if ssl_context is None else ssl_context,
            limit=GLOBAL_CONCURRENCY * 2,
            limit_per_host=PER_SERVER_CONCURRENCY * 2,
            keepalive_timeout=30.0,
            socket_factory=self._open_socket,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": user_agent(settings)},
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0)),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
        )

    def _open_socket(self, addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _canon, sockaddr = addr_info
        try:
            check_address(str(sockaddr[0]), host=str(sockaddr[0]), allow_private=self.allow_private)
        except UnsafeAddress as exc:
            raise _RefusedAddress(str(exc)) from None
        return socket.socket(family=family, type=type_, proto=proto)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                received = 0
                async for chunk in response.content.iter_any():
                    received += len(chunk)
                    if received > _MAX_ANSWER_BYTES:
                        response.close()  # not worth reading; the connection is dropped
                        break
                return Answer(response.status, response.headers.get("Retry-After"))
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, _RefusedAddress):
                raise UnsafeAddress(str(exc.os_error)) from None
            raise ConnectFailed(f"POST {url}: cannot connect: {exc.os_error}") from None
        except aiohttp.ConnectionTimeoutError:
            raise ConnectFailed(f"POST {url}: connecting timed out") from None
        except TimeoutError:
            raise RemoteFetchError(f"POST {url} took too long", reason="timeout") from None
        except aiohttp.ClientError as exc:
            message = f"POST {url} failed: {type(exc).__name__}: {exc}"
            raise RemoteFetchError(message, reason="unreachable") from None

    async def aclose(self) -> None:
        await self._session.close()


# --- the HTTP/1.1 client ----------------------------------------------------------------

_CONNECT_TIMEOUT = 5.0
_KEEP_ALIVE = 30.0
"""Seconds an idle connection is kept for the next request to its server."""
_IDLE_PER_SERVER = PER_SERVER_CONCURRENCY * 2
_IDLE_MAX = GLOBAL_CONCURRENCY * 2
_SWEEP_EVERY = 10.0
_MAX_HEAD_BYTES = 65_536
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?:[ \t]|\Z)")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\n]*)?\r?\Z")
# Request headers the client writes itself.
_OWN_HEADERS = frozenset(
    {"host", "user-agent", "content-length", "transfer-encoding", "connection"}
)

_Head = tuple[Answer, int | None, bool]
"""An answer's head: the answer, the body's framing (its length; ``-1`` chunked; ``None``
ended by closing), and whether the connection may carry another request."""


class _BadAnswer(Exception):
    """The server's answer is not HTTP/1.x."""


class _Dropped(Exception):
    """The connection ended before the whole answer came."""

    def __init__(self, *, silent: bool, cause: BaseException | None) -> None:
        super().__init__("the connection closed before the answer ended")
        self.silent = silent
        """Nothing at all was received: a kept-alive connection the server had closed."""
        self.__cause__ = cause


def _read_head(head: bytes) -> _Head:
    lines = _LINE_END.split(head)
    match = _STATUS_LINE.match(lines[0])
    if match is None:
        raise _BadAnswer(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
    status = int(match.group(2))
    reusable = match.group(1) == b"1"
    length: int | None = None
    lengths: set[bytes] = set()
    coded = chunked = False
    retry_after = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue  # an obsolete folded line: nothing the delivery needs
        name = name.lower()
        if name == b"content-length":
            lengths.add(value.strip())
        elif name == b"transfer-encoding":
            coded = True
            chunked = value.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
        elif name == b"connection":
            if b"close" in (token.strip() for token in value.lower().split(b",")):
                reusable = False
        elif name == b"retry-after":
            retry_after = value.strip().decode("latin-1")
    answer = Answer(status, retry_after)
    if status < 200 or status in (204, 304):
        return answer, 0, reusable
    if coded:
        return answer, (-1 if chunked else None), reusable
    if len(lengths) == 1:
        [text] = lengths
        if text.isdigit():
            length = int(text)
    return answer, length, reusable  # no valid length: the body ends with the connection


def _chunked_end(buffer: bytearray) -> int | None:
    """Where the chunked body at the start of ``buffer`` ends (after its trailers), or
    ``None`` while it is incomplete. Raises :class:`_BadAnswer` if it is malformed."""
    pos = 0
    while True:
        eol = buffer.find(b"\n", pos)
        if eol < 0:
            return None
        match = _CHUNK_SIZE.match(buffer, pos, eol)
        if match is None:
            raise _BadAnswer("malformed chunk size")
        size = int(match.group(1), 16)
        pos = eol + 1
        if size == 0:
            while True:  # trailer fields, up to an empty line
                eol = buffer.find(b"\n", pos)
                if eol < 0:
                    return None
                empty = eol == pos or (eol == pos + 1 and buffer[pos] == 0x0D)
                pos = eol + 1
                if empty:
                    return pos
        pos += size
        if len(buffer) < pos + 2:
            return None
        if buffer[pos] == 0x0A:
            pos += 1
        elif buffer[pos : pos + 2] == b"\r\n":
            pos += 2
        else:
            raise _BadAnswer("chunk data longer than its size")


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, whose answer is parsed as it
    arrives. The waiter gets ``(answer, reusable)`` once the body ended (the body is
    discarded, and a body past :data:`_MAX_ANSWER_BYTES` is not read: the answer comes
    with ``reusable`` false)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[Answer, bool]] | None = None
        self._head: _Head | None = None
        self._received = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport instances: no isinstance check.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(_Dropped(silent=not self._received, cause=exc))

    def eof_received(self) -> bool:
        return False  # close: connection_lost tells a waiting request

    def send(self, request: bytes) -> asyncio.Future[tuple[Answer, bool]]:
        assert self.transport is not None
        self._buffer.clear()
        self._head = None
        self._received = False
        self._waiter = waiter = self.loop.create_future()
        self.transport.write(request)
        return waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        self._received = True
        self._buffer += data
        try:
            result = self._parse()
        except _BadAnswer as exc:
            self.close()
            waiter.set_exception(exc)
            return
        if result is not None:
            waiter.set_result(result)

    def _parse(self) -> tuple[Answer, bool] | None:
        buffer = self._buffer
        while self._head is None:
            found = _HEAD_END.search(buffer)
            if found is None:
                if len(buffer) > _MAX_HEAD_BYTES:
                    raise _BadAnswer("the answer's head is too large")
                return None
            head = _read_head(bytes(buffer[: found.start()]))
            del buffer[: found.end()]
            status = head[0].status
            if status == 101:
                raise _BadAnswer("the server switched protocols")
            if status >= 200:
                self._head = head
            # else an interim answer (100 Continue …): the real one follows
        answer, length, reusable = self._head
        if length is None or length > _MAX_ANSWER_BYTES:
            return answer, False
        if length >= 0:
            if len(buffer) < length:
                return None
            return answer, reusable and len(buffer) == length
        try:
            end = _chunked_end(buffer)
        except _BadAnswer:
            return answer, False  # the status is known; the connection is not reused
        if end is None:
            return (answer, False) if len(buffer) > _MAX_ANSWER_BYTES else None
        return answer, reusable and end == len(buffer)


def _expire(waiter: asyncio.Future[tuple[Answer, bool]]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Http1Transport:
    """POSTs over HTTP/1.1 connections of its own, kept alive per server: the only client
    that delivery needs, at a fraction of a general client's cost per request.

    Requests carry a ``Content-Length`` body; answers are read up to the end of their body
    (``Content-Length`` or chunked; at most :data:`_MAX_ANSWER_BYTES`, else the connection
    is dropped) and only the status and ``Retry-After`` are kept. No redirects, proxies or
    cookies. The SSRF guard is the shared one: every address the host resolves to is vetted
    with :func:`~fedinet.federation.transport.check_address` (one refused address refuses
    the name), the connection is made to a vetted address, and the address actually
    connected to is vetted again. TLS uses :func:`make_ssl_context` (``SSL_CERT_FILE``
    honoured) with SNI and certificate checks for the URL's host. ``timeout`` bounds a
    whole request, connecting included (connecting alone at most 5 s).

    A request on a kept-alive connection that the server closed before answering anything
    is sent once more on a new connection (receivers deduplicate by activity id). The
    callers bound the requests in flight (:class:`_Dispatcher`); this client only bounds
    the idle connections it keeps (:data:`_IDLE_PER_SERVER`, :data:`_IDLE_MAX`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.allow_private = settings.allow_private_networks
        self.resolve = dict(settings.resolve)  # FEDINET_RESOLVE (tests)
        self.timeout = timeout
        self.connect_timeout = min(timeout, _CONNECT_TIMEOUT)
        self._ssl = make_ssl_context() if ssl_context is None else ssl_context
        self._user_agent = user_agent(settings)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._idle_order: OrderedDict[_Connection, tuple[str, str, int]] = OrderedDict()
        self._connections: set[_Connection] = set()
        self._next_sweep = 0.0
        self._closed = False

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        scheme, host, port, request = self._request(url, body, headers)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        key = (scheme, host, port)
        connection = self._take_idle(key, loop.time())
        while True:
            reused = connection is not None
            if connection is None:
                connection = await self._connect(scheme, host, port, url, deadline)
            waiter = connection.send(request)
            timer = loop.call_at(deadline, _expire, waiter)
            try:
                answer, reusable = await waiter
            except _Dropped as exc:
                self._forget(connection)
                if reused and exc.silent:
                    connection = None
                    continue  # the server had closed it while it was idle
                message = f"POST {url} failed: {exc}"
                raise RemoteFetchError(message, reason="unreachable") from None
            except TimeoutError:
                self._forget(connection)
                raise RemoteFetchError(f"POST {url} took too long", reason="timeout") from None
            except _BadAnswer as exc:
                self._forget(connection)
                raise RemoteFetchError(f"POST {url}: {exc}", reason="unreachable") from None
            except BaseException:
                self._forget(connection)  # cancelled mid-request: the connection is unusable
                raise
            finally:
                timer.cancel()
            if reusable and not connection.closed and not self._closed:
                self._put_idle(key, connection, loop.time())
            else:
                self._forget(connection)
            return answer

    def _request(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[str, str, int, bytes]:
        """Where to send ``url`` (scheme, host, port) and the request's bytes."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise RemoteFetchError(f"bad URL {url!r}: {exc}", reason="bad_url") from None
        scheme, host = parts.scheme, parts.hostname
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if (
            scheme not in _DEFAULT_PORTS
            or not host
            or "@" in parts.netloc
            or not url.isascii()
            or not target.isprintable()
            or " " in target
        ):
            raise RemoteFetchError(f"cannot POST to {url!r}", reason="bad_url")
        default = _DEFAULT_PORTS[scheme]
        port = default if port is None else port
        authority = f"[{host}]" if ":" in host else host
        if port != default:
            authority = f"{authority}:{port}"
        lines = [f"POST {target} HTTP/1.1", "", f"User-Agent: {self._user_agent}"]
        lines.append(f"Content-Length: {len(body)}")
        for name, value in headers.items():
            if name.lower() == "host":
                authority = value
            elif name.lower() not in _OWN_HEADERS:
                lines.append(f"{name}: {value}")
        lines[1] = f"Host: {authority}"
        head = "\r\n".join(lines) + "\r\n\r\n"
        breaks = len(lines) + 1
        if head.count("\n") != breaks or head.count("\r") != breaks or not head.isascii():
            message = f"refusing a header that would split the request to {url!r}"
            raise RemoteFetchError(message, reason="bad_url")
        return scheme, host, port, head.encode("ascii") + body

    def _take_idle(self, key: tuple[str, str, int], now: float) -> _Connection | None:
        if now >= self._next_sweep:
            self._sweep(now)
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            del self._idle_order[connection]
            if not connection.closed and now - connection.idle_since < _KEEP_ALIVE:
                return connection
            self._forget(connection)
        return None

    def _put_idle(self, key: tuple[str, str, int], connection: _Connection, now: float) -> None:
        connection.idle_since = now
        idle = self._idle.setdefault(key, [])
        idle.append(connection)
        self._idle_order[connection] = key
        if len(idle) > _IDLE_PER_SERVER:
            self._drop_idle(idle[0])
        if len(self._idle_order) > _IDLE_MAX:
            self._drop_idle(next(iter(self._idle_order)))

    def _drop_idle(self, connection: _Connection) -> None:
        key = self._idle_order.pop(connection)
        idle = self._idle[key]
        idle.remove(connection)
        if not idle:
            del self._idle[key]
        self._forget(connection)

    def _sweep(self, now: float) -> None:
        """Close the connections idle for longer than :data:`_KEEP_ALIVE`."""
        self._next_sweep = now + _SWEEP_EVERY
        stale = [
            connection
            for connection in self._idle_order
            if connection.closed or now - connection.idle_since >= _KEEP_ALIVE
        ]
        for connection in stale:
            self._drop_idle(connection)

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._connections.discard(connection)

    async def _connect(
        self, scheme: str, host: str, port: int, url: str, deadline: float
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        limit = min(self.connect_timeout, deadline - loop.time())
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                connection = await self._open(scheme, host, port, url)
        except TimeoutError:
            raise ConnectFailed(f"POST {url}: connecting timed out") from None
        if self._closed:
            connection.close()
            raise RuntimeError("the transport is closed")
        self._connections.add(connection)
        return connection

    async def _addresses(self, host: str, port: int, url: str) -> list[tuple[int, str]]:
        """The vetted addresses of ``host``: all of them, or :class:`UnsafeAddress`."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            check_address(literal, host=host, allow_private=self.allow_private)
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            return [(family, host)]
        fixed = self.resolve.get(host.lower())
        if fixed is not None:
            return await self._addresses(fixed, port, url)
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectFailed(f"POST {url}: cannot resolve {host}: {exc}") from None
        found: list[tuple[int, str]] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            address = str(sockaddr[0])
            check_address(address, host=host, allow_private=self.allow_private)
            if (family, address) not in found:
                found.append((family, address))
        if not found:
            raise ConnectFailed(f"POST {url}: {host} has no address")
        return found

    async def _open(self, scheme: str, host: str, port: int, url: str) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = scheme == "https"
        failure: OSError | None = None
        for family, address in await self._addresses(host, port, url):
            try:
                transport, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    host=address,
                    port=port,
                    family=family,
                    ssl=self._ssl if tls else None,
                    server_hostname=host if tls else None,
                    ssl_handshake_timeout=self.connect_timeout if tls else None,
                )
            except OSError as exc:  # refused, unreachable, TLS failed (certificate …)
                failure = exc
                continue
            peer = transport.get_extra_info("peername")
            try:
                check_address(str(peer[0]), host=host, allow_private=self.allow_private)
            except UnsafeAddress:
                connection.close()
                raise
            return connection
        raise ConnectFailed(f"POST {url}: cannot connect: {failure}")

    async def aclose(self) -> None:
        self._closed = True
        for connection in list(self._connections):
            connection.close()
        self._connections.clear()
        self._idle.clear()
        self._idle_order.clear()


# --- delivering -------------------------------------------------------------------------


class DeliverySession:
    """What delivering needs beyond one row: the transport, the authors' signers, and what
    was learned about servers. Open one per loop (``async with``); the marks of delivered
    rows are written in batches by :meth:`flush` (and on exit)."""

    def __init__(self, runtime: Runtime, *, transport: DeliveryTransport | None = None) -> None:
        self.runtime = runtime
        self._own_transport = transport is None
        self._transport: DeliveryTransport | None = transport
        self._signers: dict[int, tuple[asyncio.Future[Signer | None], float]] = {}
        self._candidates: dict[str, list[str]] = {}
        self._plain_http: set[str] = set()
        self._formats: dict[str, SignatureFormat] = {}
        self._success_recorded: dict[str, float] = {}
        self._delivered: list[tuple[int, int]] = []

    async def __aenter__(self) -> DeliverySession:
        if self._transport is None:
            self._transport = Http1Transport(self.runtime.settings)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.flush()
        finally:
            if self._own_transport and self._transport is not None:
                await self._transport.aclose()
                self._transport = None

    @property
    def transport(self) -> DeliveryTransport:
        if self._transport is None:
            raise RuntimeError("use the DeliverySession as an async context manager")
        return self._transport

    async def flush(self, db: Executor | None = None) -> None:
        """Write the marks of the deliveries that succeeded since the last flush (through
        ``db``, by default a connection of the pool)."""
        if not self._delivered:
            return
        done, self._delivered = self._delivered, []
        await mark_delivered(self.runtime.pool if db is None else db, done)

    async def _signer(self, actor_id: int) -> Signer | None:
        """The author's RSA signer, loaded once for all the deliveries that need it."""
        now = time.monotonic()
        cached = self._signers.get(actor_id)
        if cached is None or now - cached[1] >= _SIGNER_TTL:
            if len(self._signers) >= _CACHE_MAX:
                self._signers.clear()
            cached = (asyncio.ensure_future(self._load_signer(actor_id)), now)
            self._signers[actor_id] = cached
        future = cached[0]
        try:
            return future.result() if future.done() else await asyncio.shield(future)
        except Exception:
            if self._signers.get(actor_id) is cached:
                del self._signers[actor_id]
            raise

    async def _load_signer(self, actor_id: int) -> Signer | None:
        key = await get_local_private_key(self.runtime.pool, actor_id, "rsa")
        if key is None or key.private_key_pem is None:
            return None
        # Loading checks the RSA key, which takes tens of milliseconds: not on the loop.
        return await asyncio.to_thread(
            Signer, key_id=key.key_id, private_key_pem=key.private_key_pem
        )

    async def _urls(self, inbox: str) -> list[str]:
        """The URLs to try for ``inbox``: https, and for a private host with private
        networks allowed also http (straight to http once https failed there).

        The scheme policy is worked out once per origin (it may resolve the host)."""
        scheme, sep, rest = inbox.partition("://")
        netloc, slash, tail = rest.partition("/")
        if not sep or "?" in netloc or "#" in netloc:
            return await candidate_urls(inbox, self.runtime.settings.allow_private_networks)
        origin = f"{scheme}://{netloc}"
        origins = self._candidates.get(origin)
        if origins is None:
            found = await candidate_urls(origin, self.runtime.settings.allow_private_networks)
            origins = [url.rstrip("/") for url in found]
            if len(self._candidates) >= _CACHE_MAX:
                self._candidates.clear()
            self._candidates[origin] = origins
        if len(origins) > 1 and origins[-1] in self._plain_http:
            origins = origins[-1:]
        return [f"{candidate}{slash}{tail}" for candidate in origins]

    async def _post(
        self, urls: list[str], body: bytes, signer: Signer, fmt: SignatureFormat
    ) -> Answer:
        for index, url in enumerate(urls):
            headers = {"Content-Type": AP_CONTENT_TYPE}
            headers.update(signer.sign("POST", url, headers, body, fmt=fmt))
            try:
                answer = await self.transport.post(url, body, headers)
            except ConnectFailed:
                if index == len(urls) - 1:
                    raise
                continue
            if index > 0:
                scheme, _, rest = url.partition("://")
                self._plain_http.add(f"{scheme}://{rest.partition('/')[0]}")
            return answer
        raise AssertionError("no candidate URL")  # candidate_urls never returns none

    async def _send(self, delivery: Delivery, signer: Signer, body: bytes) -> Answer:
        """POST with double-knocking; remember the format when the second knock works."""
        urls = await self._urls(delivery.inbox_uri)
        fmt = self._formats.get(delivery.domain, delivery.signature_format)
        answer = await self._post(urls, body, signer, fmt)
        if answer.status not in (401, 403):
            return answer
        retry = other_format(fmt)
        answer = await self._post(urls, body, signer, retry)
        if answer.status < 400:
            self._formats[delivery.domain] = retry
            await servers_db.set_signature_format(self.runtime.pool, delivery.domain, retry)
        return answer

    async def _reachable(self, delivery: Delivery) -> None:
        """The server answered: record it (at once if it had failures, else now and then)."""
        now = time.monotonic()
        last = self._success_recorded.get(delivery.domain)
        if (
            delivery.server_failures == 0
            and not delivery.probe
            and last is not None
            and now - last < _SUCCESS_RECORD_EVERY
        ):
            return
        await servers_db.record_success(self.runtime.pool, delivery.domain)
        if len(self._success_recorded) >= _CACHE_MAX:
            self._success_recorded.clear()
        self._success_recorded[delivery.domain] = now

    async def _unreachable(self, delivery: Delivery) -> None:
        self._success_recorded.pop(delivery.domain, None)
        server = await servers_db.record_failure(self.runtime.pool, delivery.domain)
        if server.consecutive_failures == UNREACHABLE_AFTER:
            log.warning(
                "server unreachable domain=%s failures=%d; probing every %s",
                delivery.domain,
                server.consecutive_failures,
                PROBE_EVERY,
            )

    async def _fail(self, delivery: Delivery, status: int | None, error: str) -> Outcome:
        log.info(
            "delivery failed id=%d inbox=%s activity=%s error=%s",
            delivery.id,
            delivery.inbox_uri,
            delivery.activity_uri,
            error,
        )
        await mark_failed(self.runtime.pool, delivery.id, status, error)
        return "failed"

    async def _retry(
        self, delivery: Delivery, status: int | None, error: str, wait: timedelta | None
    ) -> Outcome:
        if delivery.attempts >= MAX_ATTEMPTS:
            return await self._fail(
                delivery, status, f"gave up after {delivery.attempts} attempts: {error}"
            )
        delay = retry_delay(delivery.attempts, first=self.runtime.settings.delivery_retry_base)
        if wait is not None:
            delay = max(delay, min(wait, MAX_RETRY_AFTER))
        log.debug(
            "delivery will be retried id=%d inbox=%s in=%ds error=%s",
            delivery.id,
            delivery.inbox_uri,
            delay.total_seconds(),
            error,
        )
        await schedule_retry(self.runtime.pool, delivery.id, delay, status, error)
        return "pending"

    async def deliver(self, delivery: Delivery) -> Outcome:
        """POST one claimed delivery and record what came of it (the delivered mark waits
        for :meth:`flush`)."""
        signer = await self._signer(delivery.actor_id)
        if signer is None:
            return await self._fail(delivery, None, "the author has no RSA signing key")
        body = delivery.body_json.encode()
        try:
            answer = await self._send(delivery, signer, body)
        except UnsafeAddress as exc:
            return await self._fail(delivery, None, f"unsafe_address: {exc}")
        except RemoteFetchError as exc:
            if exc.reason == "bad_url":
                return await self._fail(delivery, None, f"bad_url: {exc}")
            await self._unreachable(delivery)
            return await self._retry(delivery, None, f"{exc.reason}: {exc}", None)
        status = answer.status
        if 200 <= status < 300:
            await self._reachable(delivery)
            self._delivered.append((delivery.id, status))
            if len(self._delivered) >= _FLUSH_AT:
                await self.flush()
            return "delivered"
        wait = None
        if status in _RETRY_AFTER_STATUSES:
            wait = parse_retry_after(answer.retry_after, now=datetime.now(UTC))
        if status >= 500:
            await self._unreachable(delivery)
            return await self._retry(delivery, status, f"HTTP {status}", wait)
        await self._reachable(delivery)
        if status in _RETRY_STATUSES:
            return await self._retry(delivery, status, f"HTTP {status}", wait)
        return await self._fail(delivery, status, f"HTTP {status}")


async def deliver_one(
    runtime: Runtime, delivery: Delivery, *, session: DeliverySession | None = None
) -> Outcome:
    """Deliver one claimed row and write the outcome; returns the row's state after."""
    if session is not None:
        outcome = await session.deliver(delivery)
        await session.flush()
        return outcome
    async with DeliverySession(runtime) as own:
        return await own.deliver(delivery)


# --- the loop ---------------------------------------------------------------------------


class _Dispatcher:
    """Runs claimed deliveries as tasks: at most ``global_limit`` in hand, at most
    ``per_server`` requests at once to one server."""

    def __init__(
        self, session: DeliverySession, db: Executor, *, global_limit: int, per_server: int
    ) -> None:
        self.session = session
        self.db = db
        self.global_limit = global_limit
        self.per_server = per_server
        self.tasks: set[asyncio.Task[None]] = set()
        self.in_hand: Counter[str] = Counter()
        self.gates: dict[str, asyncio.Semaphore] = {}
        self.slot_freed = asyncio.Event()
        self.interrupted: list[int] = []

    @property
    def free(self) -> int:
        return max(self.global_limit - len(self.tasks), 0)

    def wants_work(self) -> bool:
        return not self.tasks or self.free >= min(_REFILL_AT, self.global_limit)

    async def claim(self) -> tuple[int, int]:
        """Claim and start a batch; return (asked for, claimed)."""
        limit = self.free
        skip = [domain for domain, count in self.in_hand.items() if count >= self.per_server]
        batch = await claim_deliveries(
            self.db,
            limit=limit,
            lease=timedelta(seconds=self.session.runtime.settings.delivery_lease),
            skip_domains=skip,
            per_domain=self.per_server,
            unreachable_after=UNREACHABLE_AFTER,
            probe_every=PROBE_EVERY,
        )
        for delivery in batch:
            self.in_hand[delivery.domain] += 1
            task = asyncio.create_task(self._run(delivery), name=f"delivery:{delivery.id}")
            self.tasks.add(task)
        return limit, len(batch)

    async def _run(self, delivery: Delivery) -> None:
        domain = delivery.domain
        gate = self.gates.setdefault(domain, asyncio.Semaphore(self.per_server))
        try:
            async with gate:
                outcome = await self.session.deliver(delivery)
            DELIVERIES.inc(_OUTCOME_LABELS[outcome])
        except asyncio.CancelledError:
            self.interrupted.append(delivery.id)  # released by finish()
            raise
        except Exception:
            # The row keeps its lease and is claimed again when it runs out.
            DELIVERIES.inc("crashed")
            log.exception("delivery crashed id=%d inbox=%s", delivery.id, delivery.inbox_uri)
        finally:
            self.in_hand[domain] -= 1
            if self.in_hand[domain] <= 0:
                del self.in_hand[domain]
                self.gates.pop(domain, None)
            task = asyncio.current_task()
            if task is not None:
                self.tasks.discard(task)
            self.slot_freed.set()

    async def finish(self, grace: float) -> None:
        """Let the deliveries in hand end (up to ``grace`` seconds), then cancel the rest and
        release their rows, due again at once for any worker."""
        if not self.tasks:
            return
        pending = set(self.tasks)
        if grace > 0:
            _done, pending = await asyncio.wait(pending, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.interrupted:
            released, self.interrupted = self.interrupted, []
            DELIVERIES.inc("released", amount=len(released))
            await release_deliveries(self.db, released)
            log.info("deliveries released at shutdown count=%d", len(released))


async def _wait_any(events: Sequence[asyncio.Event], seconds: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def delivery_loop(
    runtime: Runtime,
    stop: asyncio.Event,
    *,
    transport: DeliveryTransport | None = None,
    global_limit: int = GLOBAL_CONCURRENCY,
    per_server: int = PER_SERVER_CONCURRENCY,
) -> None:
    """Deliver until ``stop``; woken at once by NOTIFY and by finished deliveries, else
    polling every few seconds for retries that came due."""
    wake = asyncio.Event()

    def on_notify(*_: object) -> None:
        wake.set()

    async with (
        DeliverySession(runtime, transport=transport) as session,
        runtime.pool.acquire() as listener,
    ):
        await listener.add_listener(DELIVERY_CHANNEL, on_notify)
        # The loop's own queries (claims, delivered marks) go through the connection it
        # holds: a pool connection per query costs a reset round trip on release.
        dispatcher = _Dispatcher(
            session, listener, global_limit=global_limit, per_server=per_server
        )
        try:
            while not stop.is_set():
                wake.clear()
                dispatcher.slot_freed.clear()
                await session.flush(listener)
                if dispatcher.wants_work():
                    asked, claimed = await dispatcher.claim()
                    if claimed and claimed >= asked:
                        continue  # a full batch: there may be more
                # slot_freed also catches deliveries that ended since the top of the loop
                await _wait_any([stop, wake, dispatcher.slot_freed], IDLE_POLL)
        finally:
            await dispatcher.finish(grace=runtime.settings.shutdown_grace)
            with contextlib.suppress(Exception):
                await listener.remove_listener(DELIVERY_CHANNEL, on_notify)
