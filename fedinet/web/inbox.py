"""``POST /inbox`` and ``POST /users/{username}/inbox``: verify, store, answer 202."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.db.actors import get_local_actor_by_username
from fedinet.errors import BadActivity, Gone, NotFound
from fedinet.federation.inbox import receive_activity
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.web.signed import inbound_request

__all__ = ["MAX_BODY", "read_limited_body", "routes"]

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


async def inbox(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    username = request.path_params.get("username")
    recipient = await _recipient(runtime, username) if username is not None else None
    body = await read_limited_body(request)
    await receive_activity(runtime, inbound_request(request, runtime, body), recipient=recipient)
    return Response(status_code=202)


routes: list[BaseRoute] = [
    Route("/inbox", inbox, methods=["POST"]),
    Route("/users/{username}/inbox", inbox, methods=["POST"]),
]
