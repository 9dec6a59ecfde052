"""ASGI middleware: one structured log line per request."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]

log = logging.getLogger("fedinet.access")


class AccessLogMiddleware:
    """Logs ``method path status duration_ms client`` as key=value, never query strings
    (they may carry tokens) nor headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            client = scope.get("client")
            log.info(
                "request method=%s path=%s status=%d duration_ms=%.1f client=%s",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - start) * 1000,
                client[0] if client else "-",
            )
