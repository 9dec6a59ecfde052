"""Turning Starlette requests into the plain data the federation layer verifies."""

from __future__ import annotations

from starlette.requests import Request

from fedinet.federation.authorized import verify_signed_fetch
from fedinet.federation.inbox import InboundRequest
from fedinet.models import Actor
from fedinet.runtime import Runtime

__all__ = ["inbound_request", "require_signed_fetch"]


def inbound_request(request: Request, runtime: Runtime, body: bytes = b"") -> InboundRequest:
    """The request as the sender addressed it: our public origin, its path and query."""
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return InboundRequest(
        method=request.method,
        url=runtime.settings.url + path,
        path_with_query=path,
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw),
        body=body,
    )


async def require_signed_fetch(request: Request) -> Actor | None:
    """Under authorized fetch, the verified actor asking; otherwise None (no check)."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.authorized_fetch:
        return None
    return await verify_signed_fetch(runtime, inbound_request(request, runtime))
