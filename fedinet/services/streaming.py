"""Live streams: one PostgreSQL listener per web process, fanning events out to the
subscriptions of that process.

Events come from triggers (migration 0011) as ``NOTIFY fedinet_stream`` when the
transaction that caused them commits, in whichever process that was, a web process or a
``fedinet worker``. They carry ids only; a subscription's consumer (the WebSocket or
server-sent-events endpoint) loads and renders what it is sent, for its own viewer, so
visibility is checked per subscriber.

Routing (``StreamHub``), as Mastodon's streaming server routes:

==============  ==========================================================================
event           goes to
==============  ==========================================================================
home            ``user`` of the feed's owner                              → ``update``
                the owner's ``list`` streams whose list shows the status  → ``update``
                the owner's ``direct``, for a direct status         → ``conversation``
notification    ``user`` and ``user:notification`` of the recipient       → ``notification``
public          ``public``, ``public:local``/``public:remote``, ``hashtag``/``hashtag:local``
                (the consumer checks the tags)                            → ``update``
edit            every subscription (the consumer checks it may show it)   → ``status.update``
delete          every subscription                                        → ``delete``
==============  ==========================================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Final

from asyncpg.pool import PoolConnectionProxy

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.db import streaming as streaming_db
from fedinet.db.pool import Pool
from fedinet.db.types import Record
from fedinet.errors import ValidationError

__all__ = [
    "FEED_STREAMS",
    "PUBLIC_STREAMS",
    "STREAMS",
    "StreamEvent",
    "StreamHub",
    "Subscription",
    "parse_event",
    "parse_stream",
]

log = logging.getLogger("fedinet.streaming")

USER_STREAMS: Final = ("user", "user:notification")
FEED_STREAMS: Final = ("user", "list", "direct")
"""Streams fed by the owner's home-feed events."""
PUBLIC_STREAMS: Final = ("public", "public:local", "public:remote", "hashtag", "hashtag:local")
STREAMS: Final = (*USER_STREAMS, "list", "direct", *PUBLIC_STREAMS)
QUEUE_SIZE: Final = 1000
KEEPALIVE_SECONDS: Final = 30.0

Stream = tuple[str, str | None]
"""(name, parameter): the tag for ``hashtag`` and ``hashtag:local``, the list's id for
``list``, else None."""


@dataclass(frozen=True, slots=True)
class StreamEvent:
    kind: str
    """``home``, ``notification``, ``public``, ``edit`` or ``delete``."""
    status_id: int | None = None
    owner_id: int | None = None
    notification_id: int | None = None
    local: bool | None = None


def parse_event(payload: str) -> StreamEvent | None:
    """An event from a NOTIFY payload; None for anything malformed."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("e") not in (
        "home",
        "notification",
        "public",
        "edit",
        "delete",
    ):
        return None

    def number(key: str) -> int | None:
        value = data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    local = data.get("l")
    return StreamEvent(
        kind=data["e"],
        status_id=number("s"),
        owner_id=number("o"),
        notification_id=number("n"),
        local=local if isinstance(local, bool) else None,
    )


def parse_stream(name: str | None, tag: str | None, list_id: object = None) -> Stream:
    """A stream a client asks for; ``ValidationError`` for unknown ones. Whether the
    client may read it is the caller's to check (a list must be its own)."""
    if name not in STREAMS:
        raise ValidationError(f"Unknown stream type {name!r}", field="stream")
    if name == "list":
        # An id as a string or a number; at most 18 digits, so that it fits a bigint.
        text = str(list_id) if isinstance(list_id, str | int) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise ValidationError("Missing list name parameter", field="list")
        return name, str(int(text))
    if name.startswith("hashtag"):
        normalized = normalize_hashtag(tag or "")
        if not normalized:
            raise ValidationError("No tag for stream provided", field="tag")
        return name, normalized
    return name, None


@dataclass(eq=False)
class Subscription:
    """One client connection: who it is, what it follows, what waits for it."""

    actor_id: int | None
    streams: set[Stream] = field(default_factory=set)
    queue: asyncio.Queue[StreamEvent] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: int = 0

    def wants(self, event: StreamEvent) -> bool:
        names = {name for name, _ in self.streams}
        if event.kind == "home":
            return bool(names & set(FEED_STREAMS)) and event.owner_id == self.actor_id
        if event.kind == "notification":
            return bool(names & set(USER_STREAMS)) and event.owner_id == self.actor_id
        if event.kind == "public":
            return bool(names & set(PUBLIC_STREAMS))
        return bool(self.streams)  # edit, delete

    def offer(self, event: StreamEvent) -> None:
        if not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1


class StreamHub:
    """Holds one pooled connection that LISTENs, and the process's subscriptions."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.subscriptions: set[Subscription] = set()
        self._conn: PoolConnectionProxy[Record] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        event = parse_event(payload) if isinstance(payload, str) else None
        if event is None:
            return
        for subscription in list(self.subscriptions):
            subscription.offer(event)

    async def _connect(self) -> None:
        conn = await self.pool.acquire()
        try:
            await streaming_db.listen(conn, self._on_notify)
        except BaseException:
            await self.pool.release(conn)
            raise
        self._conn = conn

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await streaming_db.unlisten(conn, self._on_notify)
        with contextlib.suppress(Exception):
            await self.pool.release(conn)

    async def start(self) -> None:
        """Start listening (once; later calls return at once)."""
        async with self._lock:
            if self._conn is not None:
                return
            await self._connect()
            self._keepalive = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        """Notice a dead listener connection and listen again on a fresh one (events in
        between are lost, as they are for clients that reconnect)."""
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            try:
                assert self._conn is not None
                await streaming_db.ping(self._conn)
            except Exception:
                log.warning("stream listener connection lost; listening again")
                async with self._lock:
                    await self._disconnect()
                    with contextlib.suppress(Exception):
                        await self._connect()

    def subscribe(self, subscription: Subscription) -> None:
        self.subscriptions.add(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    async def close(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        async with self._lock:
            await self._disconnect()
        self.subscriptions.clear()
