"""``POST /inbox`` and ``POST /users/{username}/inbox``: verify, store, answer 202.

The endpoint is a plain ASGI callable rather than a ``Request -> Response`` function: it
is the hottest route of a federated server, and building Starlette's ``Request``, ``URL``
and ``Response`` objects cost more than the rest of the web layer's share. Errors are
raised as before and become the same JSON answers through the app's exception handlers.

For the same reason :class:`InboxDispatch` hands these POSTs to the endpoint before
starlette's exception middleware and router (about 5% of the request's CPU went to
those layers and the wrappers they put around every message). The routes below still
serve everything else on these paths (a GET gets its 405, ``/inbox/`` its redirect).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedinet.db.actors import get_local_actor_by_username
from fedinet.errors import BadActivity, FedinetError, Gone, NotFound
from fedinet.federation.inbox import receive_activity
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.web.signed import inbound_request_from_scope

__all__ = ["MAX_BODY", "InboxDispatch", "InboxEndpoint", "read_limited_body", "routes"]

MAX_BODY = 1024 * 1024


async def read_limited_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """Read the body as it streams in, refusing it as soon as it passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise BadActivity("the Content-Length header is not a number") from None
        if size > limit:
            raise BadActivity(
                f"the body is {size} bytes; the limit is {limit}", reason="body_too_large"
            )
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BadActivity(
                f"the body is larger than the limit of {limit} bytes", reason="body_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _recipient(runtime: Runtime, username: str) -> Actor:
    actor = await get_local_actor_by_username(runtime.pool, username)
    if actor is None:
        raise NotFound(f"there is no member called {username} here")
    if actor.is_gone:
        raise Gone(f"the account {username} is gone")
    return actor


def _declared_length(scope: Scope, limit: int) -> None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                size = int(value)
            except ValueError:
                raise BadActivity("the Content-Length header is not a number") from None
            if size > limit:
                raise BadActivity(
                    f"the body is {size} bytes; the limit is {limit}", reason="body_too_large"
                )
            return


async def _read_body(scope: Scope, receive: Receive, limit: int = MAX_BODY) -> bytes:
    """``read_limited_body`` on the raw ASGI messages."""
    _declared_length(scope, limit)
    message: Message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")  # the usual case: one message
        if len(body) > limit:
            raise BadActivity(
                f"the body is larger than the limit of {limit} bytes", reason="body_too_large"
            )
        return body
    chunks: list[bytes] = []
    received = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise BadActivity(
                    f"the body is larger than the limit of {limit} bytes",
                    reason="body_too_large",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        message = await receive()


class InboxEndpoint:
    """ASGI app for ``POST`` on the shared and the personal inboxes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime: Runtime = scope["app"].state.runtime
        username = scope.get("path_params", {}).get("username")
        recipient = await _recipient(runtime, username) if username is not None else None
        body = await _read_body(scope, receive)
        await receive_activity(
            runtime, inbound_request_from_scope(scope, runtime, body), recipient=recipient
        )
        # What starlette's Response(status_code=202) sends. Fresh dicts: middleware may
        # add headers to them.
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


inbox = InboxEndpoint()

_USERS = "/users/"
_INBOX = "/inbox"


def _inbox_username(path: str) -> str | None:
    """``""`` for the shared inbox, the name for ``/users/{name}/inbox``, else None.

    The same paths as the routes below: a name is one non-empty path segment.
    """
    if path == _INBOX:
        return ""
    if path.startswith(_USERS) and path.endswith(_INBOX):
        name = path[len(_USERS) : -len(_INBOX)]
        if name and "/" not in name:
            return name
    return None


Handler = Callable[[Request, Exception], Any]


def _handler_for(app: Any, exc: Exception) -> Handler | None:
    """The app's registered handler for ``exc`` (by its classes, most specific first)."""
    handlers: dict[Any, Handler] = getattr(app, "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


class InboxDispatch:
    """ASGI middleware: ``POST`` on an inbox goes to :data:`inbox` directly.

    It sets what starlette's router would have set (``route``, ``endpoint``,
    ``path_params``), so middleware that reads them, such as the metrics, sees the same.
    A :class:`~fedinet.errors.FedinetError` becomes the app's usual error answer through
    the handler the app registers for it; anything else goes up to starlette's
    server-error middleware, as it would from the router. Requests under a ``root_path``
    and everything that is not such a POST pass through unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        username = _inbox_username(scope["path"])
        if username is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _PERSONAL if username else _SHARED
        scope["endpoint"] = inbox
        scope["path_params"] = {"username": username} if username else {}
        try:
            await inbox(scope, receive, send)
        except FedinetError as exc:
            handler = _handler_for(scope.get("app"), exc)
            if handler is None:
                raise
            response = handler(Request(scope, receive, send), exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)


_SHARED = Route("/inbox", inbox, methods=["POST"])
_PERSONAL = Route("/users/{username}/inbox", inbox, methods=["POST"])

routes: list[BaseRoute] = [_SHARED, _PERSONAL]
