"""Turning Starlette requests into the plain data the federation layer verifies."""

from __future__ import annotations

import re

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.types import Scope

from fedinet.federation.authorized import verify_signed_fetch
from fedinet.federation.inbox import InboundRequest
from fedinet.models import Actor
from fedinet.runtime import Runtime

__all__ = ["inbound_request", "inbound_request_from_scope", "require_signed_fetch"]

# A path that request.url.path gives back unchanged: RFC 3986 path characters only, and
# not starting with "//".
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*\Z")


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


def inbound_request_from_scope(scope: Scope, runtime: Runtime, body: bytes = b"") -> InboundRequest:
    """:func:`inbound_request` from the raw ASGI scope, without building a ``Request``."""
    path: str = scope["path"]
    if scope.get("query_string") or not _PLAIN_PATH.match(path):
        url = URL(scope=scope)  # the rare case: exactly what request.url gives
        path = url.path + ("?" + url.query if url.query else "")
    return InboundRequest(
        method=scope["method"],
        url=runtime.settings.url + path,
        path_with_query=path,
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
        body=body,
    )


async def require_signed_fetch(request: Request) -> Actor | None:
    """Under authorized fetch, the verified actor asking; otherwise None (no check)."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.authorized_fetch:
        return None
    return await verify_signed_fetch(runtime, inbound_request(request, runtime))
