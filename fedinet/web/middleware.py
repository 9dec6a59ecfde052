"""ASGI middleware: one structured log line per request."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]

log = logging.getLogger("fedinet.access")

_INFO = logging.INFO


class AccessLogMiddleware:
    """Logs ``method path status duration_ms client`` as key=value, never query strings
    (they may carry tokens) nor headers.

    This runs on every request, so the line is built with one f-string and handed to the
    logger as a finished record: ``Logger.info`` would also look up the caller's source
    file and line on every call, which the key=value format never shows.
    """

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
            if log.isEnabledFor(_INFO):
                client = scope.get("client")
                line = (
                    f"request method={scope['method']} path={scope['path']} status={status:d} "
                    f"duration_ms={(time.perf_counter() - start) * 1000:.1f} "
                    f"client={client[0] if client else '-'}"
                )
                log.handle(log.makeRecord(log.name, _INFO, "", 0, line, (), None))
