"""Delivery against real loopback receivers that verify signatures with fedinet.crypto."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedinet.config import Settings
from fedinet.crypto import cavage, rfc9421
from fedinet.crypto.keys import generate_rsa_keypair, load_public_key
from fedinet.db import servers as servers_db
from fedinet.db.actors import insert_actor, insert_key
from fedinet.db.deliveries import (
    Delivery,
    DeliveryRow,
    claim_deliveries,
    enqueue_deliveries,
    get_delivery,
    insert_activity,
    list_deliveries_for_activity,
    reschedule_deliveries,
)
from fedinet.errors import RemoteFetchError, UnsafeAddress
from fedinet.federation import delivery
from fedinet.federation.delivery import (
    AP_CONTENT_TYPE,
    LEASE,
    MAX_ATTEMPTS,
    UNREACHABLE_AFTER,
    Answer,
    ConnectFailed,
    DeliverySession,
    Http1Transport,
    deliver_one,
    delivery_loop,
    parse_retry_after,
    retry_delay,
)
from fedinet.federation.transport import make_ssl_context, user_agent
from fedinet.models import Activity
from fedinet.runtime import Runtime, open_runtime
from tests.federation.test_transport import _make_ca_and_cert, serve

RSA_PRIVATE, RSA_PUBLIC = generate_rsa_keypair()
KEY_ID = "https://fedinet.test/users/alice#main-key"

Behaviour = Callable[[Request], Awaitable[Response | None]]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        url="https://fedinet.test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-" + "x" * 40,
        allow_private_networks=True,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as opened:
        yield opened


@pytest.fixture
async def author(runtime: Runtime) -> int:
    actor = await insert_actor(
        runtime.pool,
        uri="https://fedinet.test/users/alice",
        is_local=True,
        username="alice",
        domain="fedinet.test",
    )
    await insert_key(
        runtime.pool,
        key_id=KEY_ID,
        actor_id=actor.id,
        kind="rsa",
        public_key_pem=RSA_PUBLIC,
        private_key_pem=RSA_PRIVATE,
    )
    return actor.id


class Receiver:
    """An inbox that verifies every request (draft-cavage, and RFC 9421 when accepted),
    records what it got, and answers what ``answers`` says (then 202)."""

    def __init__(self, *, accepts: frozenset[str] = frozenset({"cavage"})) -> None:
        self.accepts = accepts
        self.answers: list[int | tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        self.formats: list[str] = []
        self.activity_ids: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def _verify(self, request: Request, body: bytes) -> str:
        key = load_public_key(RSA_PUBLIC)
        now = datetime.now(UTC)
        if "signature-input" in request.headers:
            parsed = rfc9421.parse_signature(request.headers.items())
            assert parsed.keyid == KEY_ID
            rfc9421.verify_request(
                parsed, "POST", str(request.url), request.headers.items(), key, now=now, body=body
            )
            return "rfc9421"
        signature = cavage.parse_signature_header(request.headers["signature"])
        assert signature.key_id == KEY_ID
        cavage.verify_request(
            signature,
            "POST",
            request.url.path,
            request.headers.items(),
            key,
            now=now,
            body=body,
            required_headers=("(request-target)", "host", "date", "digest"),
        )
        return "cavage"

    async def inbox(self, request: Request) -> Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            body = await request.body()
            assert request.headers["content-type"] == "application/activity+json"
            fmt = self._verify(request, body)
            self.formats.append(fmt)
            if fmt not in self.accepts:
                return Response(status_code=401)
            if self.answers:
                answer = self.answers.pop(0)
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                if status >= 300:
                    return Response(status_code=status, headers=headers)
            self.activity_ids.append(_id_of(body))
            return Response(status_code=202)
        finally:
            self.in_flight -= 1

    @property
    def distinct(self) -> set[str]:
        return set(self.activity_ids)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.inbox, methods=["POST"])])


def _id_of(body: bytes) -> str:
    value: Any = json.loads(body)["id"]
    return str(value)


_counter = iter(range(1, 1_000_000))


async def _activity(runtime: Runtime, author: int) -> Activity:
    n = next(_counter)
    uri = f"https://fedinet.test/activities/{n}"
    return await insert_activity(
        runtime.pool,
        uri=uri,
        actor_id=author,
        activity_type="Create",
        object_uri=f"https://fedinet.test/statuses/{n}",
        visibility="public",
        body={
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri,
            "type": "Create",
            "actor": "https://fedinet.test/users/alice",
            "object": {"id": f"https://fedinet.test/statuses/{n}", "type": "Note"},
        },
    )


async def _queue(runtime: Runtime, author: int, inboxes: list[str]) -> Activity:
    activity = await _activity(runtime, author)
    await enqueue_deliveries(runtime.pool, activity.id, inboxes)
    return activity


async def _claim_one(runtime: Runtime, **options: Any) -> Delivery:
    [delivery] = await claim_deliveries(runtime.pool, limit=1, lease=LEASE, **options)
    return delivery


async def _row(runtime: Runtime, delivery: Delivery) -> DeliveryRow:
    row = await get_delivery(runtime.pool, delivery.id)
    assert row is not None
    return row


def _domain(base: str) -> str:
    return base.removeprefix("http://")


# --- the retry schedule ------------------------------------------------------------------


def test_backoff_spans_about_three_days() -> None:
    total = sum(
        (retry_delay(n) for n in range(1, MAX_ATTEMPTS)), start=timedelta(0)
    ).total_seconds()
    assert 2.2 * 86400 < total < 3.8 * 86400
    first = retry_delay(1).total_seconds()
    assert 22.5 <= first <= 37.5
    assert retry_delay(40).total_seconds() <= 14 * 3600 * 1.25


def test_parse_retry_after() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == timedelta(seconds=120)
    later = format_datetime(now + timedelta(hours=2), usegmt=True)
    assert parse_retry_after(later, now=now) == timedelta(hours=2)
    earlier = format_datetime(now - timedelta(hours=2), usegmt=True)
    assert parse_retry_after(earlier, now=now) == timedelta(0)
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


# --- one delivery ------------------------------------------------------------------------


async def test_delivers_signed_as_the_author(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    async with serve(receiver.app()) as base:
        activity = await _queue(runtime, author, [f"{base}/users/bob/inbox"])
        delivery = await _claim_one(runtime)
        assert await deliver_one(runtime, delivery) == "delivered"
    assert receiver.formats == ["cavage"] and receiver.activity_ids == [activity.uri]
    row = await _row(runtime, delivery)
    assert row.state == "delivered" and row.last_status == 202 and row.attempts == 1
    server = await servers_db.get_server(runtime.pool, _domain(base))
    assert server is not None and server.last_success_at is not None


async def test_a_server_error_is_retried_later(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    receiver.answers = [500]
    async with serve(receiver.app()) as base, DeliverySession(runtime) as session:
        await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        before = datetime.now(UTC)
        assert await deliver_one(runtime, delivery, session=session) == "pending"
        row = await _row(runtime, delivery)
        assert row.state == "pending" and row.last_status == 500 and row.locked_until is None
        wait = row.next_attempt_at - before
        assert timedelta(seconds=20) < wait < timedelta(seconds=40)
        server = await servers_db.get_server(runtime.pool, _domain(base))
        assert server is not None and server.consecutive_failures == 1
        # not due yet; then time "passes"
        assert await claim_deliveries(runtime.pool, limit=1, lease=LEASE) == []
        assert await reschedule_deliveries(runtime.pool, domain=_domain(base)) == 1
        again = await _claim_one(runtime)
        assert again.attempts == 2 and again.server_failures == 1
        assert await deliver_one(runtime, again, session=session) == "delivered"
    assert (await _row(runtime, delivery)).state == "delivered"
    server = await servers_db.get_server(runtime.pool, _domain(base))
    assert server is not None and server.consecutive_failures == 0


@pytest.mark.parametrize(
    ("status", "retry_after", "at_least"),
    [
        (429, "3600", timedelta(minutes=59)),
        (503, "HTTP-DATE", timedelta(minutes=119)),
        (429, None, timedelta(seconds=20)),
    ],
)
async def test_retry_after_is_honoured(
    runtime: Runtime, author: int, status: int, retry_after: str | None, at_least: timedelta
) -> None:
    headers = {}
    if retry_after == "HTTP-DATE":
        headers["Retry-After"] = format_datetime(
            datetime.now(UTC) + timedelta(hours=2), usegmt=True
        )
    elif retry_after is not None:
        headers["Retry-After"] = retry_after
    receiver = Receiver()
    receiver.answers = [(status, headers)]
    async with serve(receiver.app()) as base:
        await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        before = datetime.now(UTC)
        assert await deliver_one(runtime, delivery) == "pending"
    row = await _row(runtime, delivery)
    assert row.last_status == status
    assert at_least < row.next_attempt_at - before < at_least + timedelta(minutes=2)


@pytest.mark.parametrize("status", [400, 404, 410, 422])
async def test_client_errors_give_up_at_once(runtime: Runtime, author: int, status: int) -> None:
    receiver = Receiver()
    receiver.answers = [status]
    async with serve(receiver.app()) as base:
        await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        assert await deliver_one(runtime, delivery) == "failed"
    row = await _row(runtime, delivery)
    assert row.state == "failed" and row.last_status == status
    assert row.last_error == f"HTTP {status}"
    server = await servers_db.get_server(runtime.pool, _domain(base))
    assert server is not None and server.consecutive_failures == 0  # it answered


async def test_gives_up_after_the_last_attempt(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    receiver.answers = [502] * MAX_ATTEMPTS
    async with serve(receiver.app()) as base, DeliverySession(runtime) as session:
        await _queue(runtime, author, [f"{base}/inbox"])
        outcomes = []
        for _ in range(MAX_ATTEMPTS):
            await reschedule_deliveries(runtime.pool)
            delivery = await _claim_one(runtime, unreachable_after=MAX_ATTEMPTS + 1)
            outcomes.append(await deliver_one(runtime, delivery, session=session))
    assert outcomes == ["pending"] * (MAX_ATTEMPTS - 1) + ["failed"]
    row = await _row(runtime, delivery)
    assert row.attempts == MAX_ATTEMPTS and row.last_error is not None
    assert row.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: HTTP 502")


async def test_rfc9421_is_learned_by_double_knocking_and_remembered(
    runtime: Runtime, author: int
) -> None:
    receiver = Receiver(accepts=frozenset({"rfc9421"}))
    async with serve(receiver.app()) as base:
        first = await _queue(runtime, author, [f"{base}/inbox"])
        assert await deliver_one(runtime, await _claim_one(runtime)) == "delivered"
        assert receiver.formats == ["cavage", "rfc9421"]
        assert await servers_db.get_signature_format(runtime.pool, _domain(base)) == "rfc9421"
        second = await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        assert delivery.signature_format == "rfc9421"
        assert await deliver_one(runtime, delivery) == "delivered"
    assert receiver.formats == ["cavage", "rfc9421", "rfc9421"]  # one request, not two
    assert receiver.activity_ids == [first.uri, second.uri]


async def test_a_refused_signature_is_retried(runtime: Runtime, author: int) -> None:
    receiver = Receiver(accepts=frozenset())
    async with serve(receiver.app()) as base:
        await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        assert await deliver_one(runtime, delivery) == "pending"
    assert receiver.formats == ["cavage", "rfc9421"]
    assert (await _row(runtime, delivery)).last_status == 401
    assert await servers_db.get_signature_format(runtime.pool, _domain(base)) == "cavage"


async def test_timeouts_and_refused_connections_are_retried(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    receiver.delay = 1.0
    transport = Http1Transport(runtime.settings, timeout=0.3)
    async with (
        serve(receiver.app()) as base,
        DeliverySession(runtime, transport=transport) as session,
    ):
        await _queue(runtime, author, [f"{base}/inbox"])
        delivery = await _claim_one(runtime)
        assert await deliver_one(runtime, delivery, session=session) == "pending"
        row = await _row(runtime, delivery)
        assert row.last_error is not None and row.last_error.startswith("timeout")
    await transport.aclose()
    # the server is gone now: nothing listens on its port any more
    await reschedule_deliveries(runtime.pool)
    assert await deliver_one(runtime, await _claim_one(runtime)) == "pending"
    row = await _row(runtime, delivery)
    assert row.last_error is not None and row.last_error.startswith("unreachable")
    server = await servers_db.get_server(runtime.pool, _domain(base))
    assert server is not None and server.consecutive_failures == 2


async def test_unsafe_addresses_are_refused(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    strict = dataclasses.replace(
        runtime, settings=dataclasses.replace(runtime.settings, allow_private_networks=False)
    )
    async with serve(receiver.app()) as base:
        port = base.rsplit(":", 1)[1]
        await _queue(runtime, author, [f"{base}/inbox", f"http://localhost:{port}/inbox"])
        for delivery in await claim_deliveries(runtime.pool, limit=2, lease=LEASE):
            assert await deliver_one(strict, delivery) == "failed"
            row = await _row(runtime, delivery)
            assert row.last_error is not None and row.last_error.startswith("unsafe_address")
        # the transport itself vets the address it connects to (name and literal alike)
        transport = Http1Transport(strict.settings)
        try:
            for url in (f"{base}/inbox", f"http://localhost:{port}/inbox"):
                with pytest.raises(UnsafeAddress):
                    await transport.post(url, b"{}", {"Content-Type": "application/json"})
        finally:
            await transport.aclose()
    assert receiver.formats == []


async def test_a_missing_signing_key_fails_the_delivery(runtime: Runtime) -> None:
    keyless = await insert_actor(
        runtime.pool,
        uri="https://fedinet.test/users/nokey",
        is_local=True,
        username="nokey",
        domain="fedinet.test",
    )
    await _queue(runtime, keyless.id, ["https://remote.example/inbox"])
    delivery = await _claim_one(runtime)
    assert await deliver_one(runtime, delivery) == "failed"
    assert (await _row(runtime, delivery)).last_error == "the author has no RSA signing key"


async def test_an_unreachable_server_is_skipped_then_probed(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    receiver.answers = [503] * UNREACHABLE_AFTER
    async with serve(receiver.app()) as base, DeliverySession(runtime) as session:
        inboxes = [f"{base}/users/{n}/inbox" for n in range(UNREACHABLE_AFTER + 2)]
        activity = await _queue(runtime, author, inboxes)
        batch = await claim_deliveries(runtime.pool, limit=UNREACHABLE_AFTER, lease=LEASE)
        for delivery in batch:
            assert await deliver_one(runtime, delivery, session=session) == "pending"
        server = await servers_db.get_server(runtime.pool, _domain(base))
        assert server is not None and server.consecutive_failures == UNREACHABLE_AFTER
        # every delivery is due, but the server is skipped ...
        await reschedule_deliveries(runtime.pool)
        assert await claim_deliveries(runtime.pool, limit=50, lease=LEASE) == []
        # ... until a probe is due: one delivery, which succeeds
        await asyncio.sleep(0.3)
        every = timedelta(milliseconds=200)
        probes = await claim_deliveries(runtime.pool, limit=50, lease=LEASE, probe_every=every)
        assert len(probes) == 1 and probes[0].probe
        assert await deliver_one(runtime, probes[0], session=session) == "delivered"
        # the server is reachable again: the rest flows
        rest = await claim_deliveries(runtime.pool, limit=50, lease=LEASE)
        assert len(rest) == UNREACHABLE_AFTER + 1
        for delivery in rest:
            assert await deliver_one(runtime, delivery, session=session) == "delivered"
    rows = await list_deliveries_for_activity(runtime.pool, activity.id)
    assert {row.state for row in rows} == {"delivered"}
    assert len(receiver.activity_ids) == UNREACHABLE_AFTER + 2


# --- the loop ----------------------------------------------------------------------------


async def _run_loop_until(
    runtime: Runtime, done: Callable[[], Awaitable[bool]], limit: float = 30.0
) -> float:
    """Run the delivery loop until ``done()``; return the wall time it took."""
    stop = asyncio.Event()
    started = time.monotonic()
    loop = asyncio.create_task(delivery_loop(runtime, stop))
    try:
        while not await done():
            if loop.done():
                loop.result()
                raise AssertionError("the delivery loop stopped")
            if time.monotonic() - started > limit:
                raise AssertionError("deliveries did not finish in time")
            await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=30)


async def _all_delivered(runtime: Runtime, activities: list[Activity]) -> bool:
    for activity in activities:
        rows = await list_deliveries_for_activity(runtime.pool, activity.id)
        if any(row.state != "delivered" for row in rows):
            return False
    return True


async def test_a_dead_workers_claims_are_taken_over(
    runtime: Runtime, author: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "IDLE_POLL", 0.2)  # poll often: leases are short here
    receiver = Receiver()
    async with serve(receiver.app()) as base:
        activities = [await _queue(runtime, author, [f"{base}/inbox"]) for _ in range(4)]
        # worker A claims everything with a short lease, delivers one, and is killed before
        # it writes anything (no mark, no flush): its transport just goes away
        claimed = await claim_deliveries(runtime.pool, limit=10, lease=timedelta(milliseconds=800))
        assert len(claimed) == 4
        dying = DeliverySession(runtime)
        await dying.__aenter__()
        assert await dying.deliver(claimed[0]) == "delivered"
        await dying.transport.aclose()
        assert (await _row(runtime, claimed[0])).state == "pending"
        # worker B finds nothing until the lease runs out, then delivers all four
        assert await claim_deliveries(runtime.pool, limit=10, lease=LEASE) == []
        await _run_loop_until(runtime, lambda: _all_delivered(runtime, activities))
    assert receiver.distinct == {activity.uri for activity in activities}
    assert len(receiver.activity_ids) == 5  # the first one twice: at least once
    rows = [await _row(runtime, delivery) for delivery in claimed]
    assert [row.attempts for row in rows] == [2, 2, 2, 2]


async def test_servers_are_served_in_parallel(runtime: Runtime, author: int) -> None:
    slow = [Receiver(), Receiver()]
    for receiver in slow:
        receiver.delay = 1.0
    async with serve(slow[0].app()) as first, serve(slow[1].app()) as second:
        inboxes = [f"{base}/users/{n}/inbox" for base in (first, second) for n in range(3)]
        activity = await _queue(runtime, author, inboxes)
        wall = await _run_loop_until(runtime, lambda: _all_delivered(runtime, [activity]))
    # six one-second requests one after the other would take 6 s
    assert wall < 4.0
    assert all(len(receiver.activity_ids) == 3 for receiver in slow)
    assert all(receiver.max_in_flight >= 2 for receiver in slow)


async def test_requests_to_one_server_are_bounded(runtime: Runtime, author: int) -> None:
    receiver = Receiver()
    receiver.delay = 0.2
    async with serve(receiver.app()) as base:
        inboxes = [f"{base}/users/{n}/inbox" for n in range(12)]
        activity = await _queue(runtime, author, inboxes)
        await _run_loop_until(runtime, lambda: _all_delivered(runtime, [activity]))
    assert len(receiver.activity_ids) == 12
    assert 2 <= receiver.max_in_flight <= 4


async def test_the_loop_stops_promptly_when_idle(runtime: Runtime) -> None:
    stop = asyncio.Event()
    loop = asyncio.create_task(delivery_loop(runtime, stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(loop, timeout=2)


async def test_a_dropped_connection_is_a_remote_fetch_error(runtime: Runtime) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()  # no answer at all

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Http1Transport(runtime.settings)
    try:
        with pytest.raises(RemoteFetchError) as caught:
            await transport.post(f"http://127.0.0.1:{port}/inbox", b"{}", {})
        assert caught.value.reason == "unreachable"
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()


# --- the HTTP/1.1 client -----------------------------------------------------------------

DROP = b""
"""A scripted answer: read the request, then close the connection without answering."""


def _answer(status: int, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", *headers]
    if not any(
        line.lower().startswith(("content-length", "transfer-encoding")) for line in headers
    ):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


ACCEPTED = _answer(202)


class RawServer:
    """An HTTP/1.1 server on loopback that answers each request with the next scripted
    answer (raw bytes, or :data:`DROP`), recording connections and requests."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.handlers: set[asyncio.Task[Any]] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(b": ", 1) for line in head.rstrip(b"\r\n").split(b"\r\n")[1:]
                )
                body = await reader.readexactly(int(fields[b"Content-Length"]))
                self.requests.append((head, body))
                answer = self.answers.pop(0)
                if answer == DROP:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        finally:
            server.close()
            if self.handlers:  # they end once the client has closed its connections
                await asyncio.wait(self.handlers, timeout=5)
            await server.wait_closed()


@contextlib.asynccontextmanager
async def _client(settings: Settings, **options: Any) -> AsyncIterator[Http1Transport]:
    transport = Http1Transport(settings, **options)
    try:
        yield transport
    finally:
        await transport.aclose()


async def test_the_client_sends_one_plain_request_and_keeps_the_connection(
    settings: Settings,
) -> None:
    raw = RawServer([ACCEPTED, _answer(429, "Retry-After: 120"), ACCEPTED])
    async with raw.serve() as base, _client(settings) as client:
        headers = {"Content-Type": "application/activity+json", "Signature": "sig"}
        assert await client.post(f"{base}/users/bob/inbox?x=1#top", b"{}", headers) == Answer(202)
        assert await client.post(f"{base}/inbox", b"[1]", headers) == Answer(429, "120")
        assert await client.post(f"{base}/inbox", b"", {"Host": "example.test"}) == Answer(202)
    assert raw.connections == 1
    head, body = raw.requests[0]
    port = base.rsplit(":", 1)[1]
    assert (
        head
        == (
            f"POST /users/bob/inbox?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"User-Agent: {user_agent(settings)}\r\nContent-Length: 2\r\n"
            "Content-Type: application/activity+json\r\nSignature: sig\r\n\r\n"
        ).encode()
    )
    assert body == b"{}"
    assert b"\r\nHost: example.test\r\n" in raw.requests[2][0]


@pytest.mark.parametrize(
    ("answer", "reused"),
    [
        (_answer(202, "Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\n\r\n"), True),
        (_answer(202, "Transfer-Encoding: chunked", body=b"5;x=y\nhello\n0\nTrailer: t\n\n"), True),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + _answer(202, body=b"ok"), True),
        (_answer(204), True),
        (b"HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok", True),
        (_answer(202, "Connection: close"), False),
        (b"HTTP/1.0 202 Accepted\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 202 Accepted\r\n\r\nbody until the end", False),
        (_answer(202, body=b"x" * 70_000), False),  # longer than is worth reading
        (_answer(202, "Content-Length: 2", "Content-Length: 3", body=b"ok"), False),
        (_answer(202, "Transfer-Encoding: chunked", body=b"zz\r\n"), False),
    ],
)
async def test_the_client_reads_each_kind_of_answer(
    settings: Settings, answer: bytes, reused: bool
) -> None:
    raw = RawServer([answer, ACCEPTED])
    async with raw.serve() as base, _client(settings) as client:
        assert (await client.post(f"{base}/inbox", b"{}", {})).status in (202, 204)
        assert (await client.post(f"{base}/inbox", b"{}", {})).status == 202
    assert raw.connections == (1 if reused else 2)


async def test_a_kept_connection_the_server_closed_is_replaced(settings: Settings) -> None:
    raw = RawServer([ACCEPTED, DROP, ACCEPTED])
    async with raw.serve() as base, _client(settings) as client:
        assert (await client.post(f"{base}/inbox", b"{}", {})).status == 202
        # the server drops the kept connection without answering: sent once more
        assert (await client.post(f"{base}/inbox", b"{}", {})).status == 202
    assert raw.connections == 2 and len(raw.requests) == 3


@pytest.mark.parametrize("answer", [b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"HTTP/1.1 101 Up\r\n\r\n"])
async def test_an_answer_that_is_not_http_is_a_remote_fetch_error(
    settings: Settings, answer: bytes
) -> None:
    raw = RawServer([answer])
    async with raw.serve() as base, _client(settings) as client:
        with pytest.raises(RemoteFetchError) as caught:
            await client.post(f"{base}/inbox", b"{}", {})
    assert caught.value.reason == "unreachable"


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:9/inbox", {"Signature": "x\r\nX-Injected: 1"}),
        ("http://127.0.0.1:9/inbox", {"Signature": "x\ny"}),
        ("http://127.0.0.1:9/in box", {}),
        ("http://127.0.0.1:9/inbox\x00", {}),
        ("http://127.0.0.1:9/boîte", {}),
        ("http://user@127.0.0.1:9/inbox", {}),
        ("ftp://127.0.0.1:9/inbox", {}),
        ("http://127.0.0.1:99999/inbox", {}),
    ],
)
async def test_the_client_refuses_requests_it_cannot_write_safely(
    settings: Settings, url: str, headers: dict[str, str]
) -> None:
    async with _client(settings) as client:
        with pytest.raises(RemoteFetchError) as caught:
            await client.post(url, b"{}", headers)
    assert caught.value.reason == "bad_url"


async def test_the_client_refuses_loopback_and_private_addresses(settings: Settings) -> None:
    raw = RawServer([ACCEPTED])
    strict = dataclasses.replace(settings, allow_private_networks=False)
    async with raw.serve() as base, _client(strict) as client:
        port = base.rsplit(":", 1)[1]
        for url in (
            f"{base}/inbox",  # a loopback literal
            f"http://localhost:{port}/inbox",  # a name resolving to loopback
            f"http://[::ffff:127.0.0.1]:{port}/inbox",  # loopback in disguise
            "http://10.1.2.3/inbox",  # private: refused before connecting
            "https://192.168.0.1/inbox",
        ):
            with pytest.raises(UnsafeAddress):
                await client.post(url, b"{}", {})
    async with _client(settings) as client:  # private networks allowed: not metadata
        with pytest.raises(UnsafeAddress):
            await client.post("http://169.254.169.254/latest/meta-data", b"{}", {})
    assert raw.connections == 0 and raw.requests == []


async def test_the_client_vets_the_address_it_connected_to(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even if resolution were fooled, the address connected to is vetted again."""
    raw = RawServer([ACCEPTED])
    strict = dataclasses.replace(settings, allow_private_networks=False)

    async def fooled(self: Http1Transport, host: str, port: int, url: str) -> list[Any]:
        return [(socket.AF_INET, "127.0.0.1")]

    monkeypatch.setattr(Http1Transport, "_addresses", fooled)
    async with raw.serve() as base, _client(strict) as client:
        port = base.rsplit(":", 1)[1]
        with pytest.raises(UnsafeAddress, match=r"127\.0\.0\.1"):
            await client.post(f"http://public.example:{port}/inbox", b"{}", {})
    assert raw.requests == []


async def test_the_client_verifies_tls_certificates(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = _make_ca_and_cert(tmp_path)
    hits: list[str] = []

    async def inbox(request: Request) -> Response:
        hits.append(request.url.path)
        return Response(status_code=202)

    app = Starlette(routes=[Route("/inbox", inbox, methods=["POST"])])
    async with serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as base:
        port = base.rsplit(":", 1)[1]
        url = f"https://localhost:{port}/inbox"
        # an untrusted certificate (the system store does not know the test CA)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        async with _client(settings) as client:
            with pytest.raises(ConnectFailed, match="certificate verify failed"):
                await client.post(url, b"{}", {})
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        async with _client(settings) as client:
            # trusted, but the certificate names localhost, not 127.0.0.1
            with pytest.raises(ConnectFailed, match="certificate"):
                await client.post(f"https://127.0.0.1:{port}/inbox", b"{}", {})
            # trusted and named: TLS works
            assert (await client.post(url, b"{}", {"Content-Type": AP_CONTENT_TYPE})).status == 202
    assert hits == ["/inbox"]


async def test_the_client_times_out_a_silent_server(settings: Settings) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100_000)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with _client(settings, timeout=0.3) as client:
            started = time.monotonic()
            with pytest.raises(RemoteFetchError) as caught:
                await client.post(f"http://127.0.0.1:{port}/inbox", b"{}", {})
            assert caught.value.reason == "timeout"
            assert time.monotonic() - started < 2
    finally:
        server.close()
        await server.wait_closed()


def test_the_client_works_on_uvloop(settings: Settings, tmp_path: Path) -> None:
    """``fedinet`` may run its loops on uvloop, whose transports are its own classes."""
    import uvloop

    ca, cert, key = _make_ca_and_cert(tmp_path)

    async def scenario() -> None:
        raw = RawServer([ACCEPTED, _answer(202, "Transfer-Encoding: chunked", body=b"0\r\n\r\n")])
        raw.answers.append(ACCEPTED)
        async with raw.serve() as base, _client(settings) as client:
            for _ in range(3):
                assert (await client.post(f"{base}/inbox", b"{}", {})).status == 202
            strict = dataclasses.replace(settings, allow_private_networks=False)
            async with _client(strict) as guarded:
                with pytest.raises(UnsafeAddress):
                    await guarded.post(f"{base}/inbox", b"{}", {})
        assert raw.connections == 1
        app = Starlette(
            routes=[Route("/inbox", lambda _: Response(status_code=202), methods=["POST"])]
        )
        async with serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as tls_base:
            port = tls_base.rsplit(":", 1)[1]
            async with _client(settings, ssl_context=make_ssl_context()) as client:
                with pytest.raises(ConnectFailed, match="certificate verify failed"):
                    await client.post(f"https://localhost:{port}/inbox", b"{}", {})
            trusting = ssl.create_default_context(cafile=str(ca))
            async with _client(settings, ssl_context=trusting) as client:
                answer = await client.post(f"https://localhost:{port}/inbox", b"{}", {})
                assert answer.status == 202

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert type(runner.get_loop()).__module__.startswith("uvloop")
        runner.run(scenario())
