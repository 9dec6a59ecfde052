"""Mastodon's streaming API: ``GET /api/v1/streaming/health``, the WebSocket at
``/api/v1/streaming`` and the server-sent-events streams at ``/api/v1/streaming/<stream>``.

**WebSocket.** The token comes as ``?access_token=`` or as the ``Sec-WebSocket-Protocol``
header (echoed back, as Mastodon does). ``?stream=user`` (``&tag=`` for hashtags,
``&list=`` for a list) subscribes at once. Messages such as
``{"type": "subscribe", "stream": "hashtag", "tag": "cats"}`` or
``{"type": "unsubscribe", "stream": "list", "list": "7"}`` change subscriptions later.
Each event is a text frame ``{"stream": ["user"], "event": "update", "payload": "<JSON
string>"}`` (``["list", "7"]`` for a list); ``delete`` carries the status id as its
payload.

**Server-sent events** (what Mastodon.py's ``stream_user`` and friends read): one stream
per request at ``/api/v1/streaming/user``, ``/user/notification``, ``/public``,
``/public/local``, ``/public/remote``, ``/hashtag?tag=``, ``/hashtag/local?tag=``,
``/list?list=`` and ``/direct``, with ``event:`` / ``data:`` lines and a ``:thump``
comment every 15 seconds.

``list`` sends ``update`` for each status that enters the member's home feed and that
the list's timeline shows (its members, its replies policy); ``direct`` sends
``conversation`` with the Conversation entity when a direct status enters it.

Streams need a member's token with ``read`` or ``read:statuses`` (``read:notifications``
for ``user:notification``); the public and hashtag streams may also be read without one,
as the public timelines can. A bad token is refused before the upgrade with 401, and so
is a list that is not the member's own ("Not authorized to stream this list", as
Mastodon answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import conversations as conversations_db
from fedinet.db import counts as counts_db
from fedinet.db import lists as lists_db
from fedinet.db import statuses as statuses_db
from fedinet.db import streaming as streaming_db
from fedinet.db import timelines as timelines_db
from fedinet.db.types import Connection
from fedinet.errors import FedinetError, PermissionDenied, Unauthorized, ValidationError
from fedinet.models import Actor, Notification, Status
from fedinet.runtime import Runtime
from fedinet.services import oauth
from fedinet.services.statuses import visible_to
from fedinet.services.streaming import (
    PUBLIC_STREAMS,
    Stream,
    StreamEvent,
    StreamHub,
    Subscription,
    parse_stream,
)
from fedinet.web.api.conversations import conversations_json
from fedinet.web.api.entities import iso_time, load_account
from fedinet.web.api.render import status_json
from fedinet.web.errors import error_response, status_for

__all__ = ["close_hub", "render_event", "routes"]

log = logging.getLogger("fedinet.streaming")

HEARTBEAT_SECONDS: Final = 15.0
_STATE_KEY: Final = "stream_hub"
_SSE_PATHS: Final = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}

Message = tuple[list[str], str, str]
"""(stream, event, payload) as sent to the client."""


def _runtime(app: Starlette) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def _hub(app: Starlette) -> StreamHub:
    """The process's hub, started on first use."""
    hub: StreamHub | None = getattr(app.state, _STATE_KEY, None)
    if hub is None:  # no await since the check: no other request can slip in between
        hub = StreamHub(_runtime(app).pool)
        setattr(app.state, _STATE_KEY, hub)
    await hub.start()
    return hub


async def close_hub(app: Starlette) -> None:
    """Stop listening (the app's lifespan calls this on shutdown)."""
    hub: StreamHub | None = getattr(app.state, _STATE_KEY, None)
    if hub is not None:
        await hub.close()


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


# --------------------------------------------------------------------------- who


async def _viewer(runtime: Runtime, token: str | None) -> tuple[Actor | None, tuple[str, ...]]:
    """(member, scopes) of a token; (None, ()) without one. Unauthorized for a bad token,
    an app-only one, or a member who cannot log in."""
    if not token:
        return None, ()
    credentials = await oauth.authenticate_token(runtime.pool, token)
    user, actor = credentials.user, credentials.actor
    if user is None or actor is None or actor.is_gone or not user.approved:
        raise Unauthorized("Invalid access token", reason="invalid_token")
    return actor, credentials.scopes


def _check_access(name: str, viewer: Actor | None, scopes: tuple[str, ...]) -> None:
    if viewer is None:
        if name not in PUBLIC_STREAMS:
            raise Unauthorized("Missing access token", reason="invalid_token")
        return
    needed = ("read", "read:notifications") if name == "user:notification" else ("read:statuses",)
    if not oauth.has_scope(scopes, *needed):
        raise PermissionDenied(
            "Access token does not have the required scopes", reason="insufficient_scope"
        )


async def _authorize(
    runtime: Runtime, stream: Stream, viewer: Actor | None, scopes: tuple[str, ...]
) -> None:
    """May this viewer read ``stream``? Unauthorized / PermissionDenied if not."""
    name, parameter = stream
    _check_access(name, viewer, scopes)
    if name == "list":
        assert viewer is not None and parameter is not None  # _check_access: not public
        async with runtime.pool.acquire() as conn:
            owned = await lists_db.get_list(conn, viewer.id, int(parameter))
        if owned is None:
            raise Unauthorized("Not authorized to stream this list")


# --------------------------------------------------------------------------- rendering


def _label(stream: tuple[str, str | None]) -> list[str]:
    name, tag = stream
    return [name] if tag is None else [name, tag]


async def _notification_json(
    conn: Connection, settings: Settings, notification: Notification, viewer: Actor
) -> dict[str, Any] | None:
    sender = await actors_db.get_actor_by_id(conn, notification.from_actor_id)
    if sender is None:
        return None
    entity: dict[str, Any] = {
        "id": str(notification.id),
        "type": notification.notification_type,
        "group_key": f"ungrouped-{notification.id}",
        "created_at": iso_time(notification.created_at),
        "account": await load_account(conn, settings, sender),
    }
    if notification.status_id is not None:
        status = await statuses_db.get_status_by_id(conn, notification.status_id)
        if status is None or status.deleted_at is not None:
            return None
        entity["status"] = await status_json(conn, settings, status, viewer)
    return entity


def _public_streams(
    sub: Subscription, status: Status, tags: Sequence[str]
) -> list[tuple[str, str | None]]:
    """Which of ``sub``'s public streams show ``status``."""
    if status.visibility != "public" or status.reblog_of_id is not None:
        return []
    matched = []
    for name, tag in sorted(sub.streams, key=lambda s: (s[0], s[1] or "")):
        if (
            name == "public"
            or (name == "public:local" and status.is_local)
            or (name == "public:remote" and not status.is_local)
            or (name == "hashtag" and tag in tags)
            or (name == "hashtag:local" and status.is_local and tag in tags)
        ):
            matched.append((name, tag))
    return matched


async def render_event(
    conn: Connection,
    settings: Settings,
    sub: Subscription,
    viewer: Actor | None,
    event: StreamEvent,
) -> list[Message]:
    """What ``sub`` is sent for ``event``: nothing when its viewer may not see it."""
    names = {name for name, _ in sub.streams}
    if event.kind == "delete":
        if event.status_id is None or not sub.streams:
            return []
        first = min(sub.streams, key=lambda s: (s[0], s[1] or ""))
        return [(_label(first), "delete", str(event.status_id))]
    if event.kind == "notification":
        if viewer is None or event.notification_id is None:
            return []
        notification = await streaming_db.get_notification_by_id(conn, event.notification_id)
        if notification is None or notification.recipient_id != viewer.id:
            return []
        entity = await _notification_json(conn, settings, notification, viewer)
        if entity is None:
            return []
        payload = json.dumps(entity)
        return [
            ([name], "notification", payload)
            for name in ("user", "user:notification")
            if name in names
        ]
    if event.status_id is None:
        return []
    status = await statuses_db.get_status_by_id(conn, event.status_id)
    if status is None or not await visible_to(conn, status, viewer):
        return []
    streams: list[Stream] = []
    messages: list[Message] = []
    if event.kind == "home":
        if viewer is None or event.owner_id != viewer.id:
            return []
        if "user" in names and await _home_shows(conn, viewer, status):
            streams.append(("user", None))
        streams += await _lists_showing(conn, sub, status)
        if "direct" in names and status.visibility == "direct":
            messages += await _conversation_message(conn, settings, status, viewer)
    elif event.kind in ("public", "edit"):
        tags = (await counts_db.list_tags_for_statuses(conn, [status.id])).get(status.id, [])
        streams = _public_streams(sub, status, tags)
        in_feed = (
            event.kind == "edit"
            and viewer is not None
            and "user" in names
            and await _home_shows(conn, viewer, status)
        )
        if in_feed:
            streams.insert(0, ("user", None))
        if event.kind == "edit" and viewer is not None:
            streams += await _lists_showing(conn, sub, status)
    if streams:
        payload = json.dumps(await status_json(conn, settings, status, viewer))
        name = "status.update" if event.kind == "edit" else "update"
        messages = [(_label(stream), name, payload) for stream in streams] + messages
    return messages


async def _home_shows(conn: Connection, viewer: Actor, status: Status) -> bool:
    """Whether the viewer's home timeline shows ``status``: the same query as ``GET
    /api/v1/timelines/home``, narrowed to this one status (so the feed, mutes, blocks
    and exclusive lists decide here as they do there)."""
    page = await timelines_db.home_page(
        conn, viewer.id, limit=1, max_id=status.id + 1, since_id=status.id - 1
    )
    return bool(page.entries)


async def _lists_showing(conn: Connection, sub: Subscription, status: Status) -> list[Stream]:
    """Those of ``sub``'s list streams whose list timeline shows ``status`` (the same
    query as ``GET /api/v1/timelines/list/:id``, narrowed to this one status)."""
    shown = []
    for stream in sorted(s for s in sub.streams if s[0] == "list"):
        assert stream[1] is not None  # parse_stream gives every list stream its id
        page = await timelines_db.list_timeline(
            conn, int(stream[1]), limit=1, max_id=status.id + 1, since_id=status.id - 1
        )
        if page:
            shown.append(stream)
    return shown


async def _conversation_message(
    conn: Connection, settings: Settings, status: Status, viewer: Actor
) -> list[Message]:
    """``conversation`` with the viewer's conversation that ``status`` belongs to: the
    one with the same other people (its author and those it mentions, less the viewer).
    Its ``last_status`` is the newest of them, which a remote status dated in the past
    may not be."""
    mentioned = await statuses_db.list_mentioned_actor_ids(conn, status.id)
    others = sorted({status.actor_id, *mentioned} - {viewer.id})
    for conversation in await conversations_db.list_conversations(conn, viewer.id):
        if conversation.participant_ids == others:
            (entity,) = await conversations_json(conn, settings, [conversation], viewer)
            return [(["direct"], "conversation", json.dumps(entity))]
    return []


async def _messages(
    runtime: Runtime, sub: Subscription, viewer: Actor | None
) -> AsyncGenerator[Message, None]:
    """The subscription's messages, as events arrive (forever)."""
    while True:
        event = await sub.queue.get()
        try:
            async with runtime.pool.acquire() as conn:
                rendered = await render_event(conn, runtime.settings, sub, viewer, event)
        except Exception:  # one event that cannot be shown must not end the stream
            log.exception("stream event not rendered kind=%s", event.kind)
            continue
        for message in rendered:
            yield message


# --------------------------------------------------------------------------- WebSocket


def _ws_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to echo)."""
    token = websocket.query_params.get("access_token")
    if token:
        return token, None
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), None
    protocol = websocket.headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    return (protocol, protocol) if protocol else (None, None)


async def _handle_client_message(
    runtime: Runtime,
    websocket: WebSocket,
    sub: Subscription,
    viewer: Actor | None,
    scopes: tuple[str, ...],
    text: str,
) -> None:
    try:
        message = json.loads(text)
        if not isinstance(message, dict) or message.get("type") not in (
            "subscribe",
            "unsubscribe",
        ):
            raise ValidationError("Unknown message type", field="type")
        stream = parse_stream(message.get("stream"), message.get("tag"), message.get("list"))
        if message["type"] == "subscribe":
            await _authorize(runtime, stream, viewer, scopes)
            sub.streams.add(stream)
        else:
            sub.streams.discard(stream)
    except ValueError:
        await websocket.send_text(json.dumps({"error": "Invalid JSON", "status": 400}))
    except FedinetError as exc:
        status = 400 if isinstance(exc, ValidationError) else status_for(exc)
        await websocket.send_text(json.dumps({"error": exc.message, "status": status}))


async def websocket_stream(websocket: WebSocket) -> None:
    runtime = _runtime(websocket.app)
    token, subprotocol = _ws_token(websocket)
    try:
        viewer, scopes = await _viewer(runtime, token)
        initial = None
        if websocket.query_params.get("stream"):
            initial = parse_stream(
                websocket.query_params.get("stream"),
                websocket.query_params.get("tag"),
                websocket.query_params.get("list"),
            )
            await _authorize(runtime, initial, viewer, scopes)
    except FedinetError as exc:
        response = error_response(exc)
        if isinstance(exc, ValidationError):
            response.status_code = 400
        await websocket.send_denial_response(response)
        return
    # Listening and subscribed before the handshake completes: a client that posts right
    # after connecting sees its own post.
    hub = await _hub(websocket.app)
    sub = Subscription(actor_id=None if viewer is None else viewer.id)
    if initial is not None:
        sub.streams.add(initial)
    hub.subscribe(sub)
    try:
        await websocket.accept(subprotocol=subprotocol)
    except BaseException:
        hub.unsubscribe(sub)
        raise

    async def send_events() -> None:
        async for stream, event, payload in _messages(runtime, sub, viewer):
            await websocket.send_text(
                json.dumps({"stream": stream, "event": event, "payload": payload})
            )

    sender = asyncio.create_task(send_events())
    try:
        while True:
            text = await websocket.receive_text()
            await _handle_client_message(runtime, websocket, sub, viewer, scopes, text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(sub)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


# --------------------------------------------------------------------------- SSE


def _sse_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or None


async def sse_stream(request: Request) -> Response:
    runtime = _runtime(request.app)
    path = request.path_params.get("path")
    name = request.query_params.get("stream") if path is None else _SSE_PATHS.get(path.strip("/"))
    if name is None:
        return JSONResponse({"error": "Unknown stream type"}, status_code=404)
    try:
        viewer, scopes = await _viewer(runtime, _sse_token(request))
        stream = parse_stream(
            name, request.query_params.get("tag"), request.query_params.get("list")
        )
        await _authorize(runtime, stream, viewer, scopes)
    except ValidationError as exc:
        return JSONResponse({"error": exc.message}, status_code=400)
    hub = await _hub(request.app)
    sub = Subscription(actor_id=None if viewer is None else viewer.id, streams={stream})
    hub.subscribe(sub)

    async def body() -> AsyncIterator[str]:
        messages = _messages(runtime, sub, viewer)
        pending: asyncio.Task[Message] | None = None
        try:
            yield ":)\n\n"
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(messages))
                done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
                if not done:
                    yield ":thump\n\n"
                    continue
                _, event, payload = pending.result()
                pending = None
                yield f"event: {event}\ndata: {payload}\n\n"
        finally:
            hub.unsubscribe(sub)
            if pending is not None:
                pending.cancel()
            with contextlib.suppress(Exception):
                await messages.aclose()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes: list[BaseRoute] = [
    Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
    WebSocketRoute("/api/v1/streaming", websocket_stream),
    Route("/api/v1/streaming", sse_stream, methods=["GET"]),
    Route("/api/v1/streaming/{path:path}", sse_stream, methods=["GET"]),
]
