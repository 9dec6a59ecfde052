"""ASGI middleware for the client API: trailing slashes and rate limits.

**Trailing slashes.** ``/api/v1/instance/`` is served as ``/api/v1/instance`` (Mastodon.py
asks for the former), by rewriting the path, not by redirecting.

**Rate limits**, as Mastodon's (rack-attack) in fixed windows aligned to the clock (five
minutes, thirty for sign-ups and uploads):

=============  =====  ================================================================
bucket         limit  applies to
=============  =====  ================================================================
token          300    each bearer token (by its SHA-256), ``/api/`` and ``/oauth/``
ip             300    each client address, requests without a token
ip-total       7500   each client address, every ``/api/`` and ``/oauth/`` request
login          25     each client address, ``POST /oauth/token`` and ``/oauth/authorize``
sign-up        5      each client address, ``POST /api/v1/accounts``, per 30 minutes
media          30     each bearer token, ``POST /api/v1/media`` and ``/api/v2/media``, per
                      30 minutes
=============  =====  ================================================================

Every answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO 8601, when the window ends) of the tightest bucket that applied;
past a limit the answer is 429 ``{"error": "Too many requests"}`` with ``Retry-After``.

The counters live **in this process**: with several web processes each counts on its own,
so the effective limit is the limit times the number of processes. A shared store
(PostgreSQL or Redis) would be needed to make them global.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedinet.errors import RateLimited
from fedinet.web.errors import error_response

__all__ = [
    "DEFAULT_LIMITS",
    "ApiRateLimitMiddleware",
    "ApiTrailingSlashMiddleware",
    "FixedWindowLimiter",
    "Limit",
]

_PREFIXES: Final = ("/api/", "/oauth/")
_LOGIN_PATHS: Final = ("/oauth/token", "/oauth/authorize")
_SIGN_UP_PATH: Final = "/api/v1/accounts"
_MEDIA_PATHS: Final = ("/api/v1/media", "/api/v2/media")


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    period: int
    """Seconds."""


DEFAULT_LIMITS: Final[dict[str, Limit]] = {
    "token": Limit(300, 300),
    "ip": Limit(300, 300),
    "ip-total": Limit(7500, 300),
    "login": Limit(25, 300),
    "sign-up": Limit(5, 1800),
    "media": Limit(30, 1800),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    reset_at: float
    allowed: bool


class FixedWindowLimiter:
    """Counts hits per key in fixed windows; memory holds only the current window's keys."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> Verdict:
        now = self.clock()
        window = int(now // self.limit.period)
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return Verdict(
            limit=self.limit.requests,
            remaining=max(self.limit.requests - count, 0),
            reset_at=float((window + 1) * self.limit.period),
            allowed=count <= self.limit.requests,
        )


def _bearer_digest(headers: Headers) -> str | None:
    header = headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return hashlib.sha256(value.strip().encode("utf-8")).hexdigest()


def _iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class ApiRateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: dict[str, Limit] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.clock = clock
        self.limiters = {
            name: FixedWindowLimiter(limit, clock)
            for name, limit in (limits or DEFAULT_LIMITS).items()
        }

    def _check(self, scope: Scope) -> list[Verdict]:
        headers = Headers(scope=scope)
        client = scope.get("client")
        ip = client[0] if client else "-"
        token = _bearer_digest(headers)
        hits = [("ip-total", ip)]
        hits.append(("token", token) if token is not None else ("ip", ip))
        if scope["method"] == "POST" and scope["path"].rstrip("/") in _LOGIN_PATHS:
            hits.append(("login", ip))
        if scope["method"] == "POST" and scope["path"].rstrip("/") == _SIGN_UP_PATH:
            hits.append(("sign-up", ip))
        if scope["method"] == "POST" and scope["path"].rstrip("/") in _MEDIA_PATHS:
            hits.append(("media", token or ip))
        return [self.limiters[name].hit(key) for name, key in hits if name in self.limiters]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PREFIXES):
            await self.app(scope, receive, send)
            return
        verdicts = self._check(scope)
        if not verdicts:
            await self.app(scope, receive, send)
            return
        refused = [v for v in verdicts if not v.allowed]
        shown = min(refused or verdicts, key=lambda v: (v.remaining, -v.reset_at))
        rate_headers = [
            (b"x-ratelimit-limit", str(shown.limit).encode()),
            (b"x-ratelimit-remaining", str(shown.remaining).encode()),
            (b"x-ratelimit-reset", _iso(shown.reset_at).encode()),
        ]
        if refused:
            retry_after = max(int(shown.reset_at - self.clock()) + 1, 1)
            response = error_response(RateLimited("Too many requests", retry_after=retry_after))
            response.raw_headers.extend(rate_headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *rate_headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ApiTrailingSlashMiddleware:
    """Serve ``/api/…/`` as ``/api/…`` (no redirect)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/api/") and len(path) > len("/api/") and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/")
                raw = scope.get("raw_path")
                if isinstance(raw, bytes):
                    scope["raw_path"] = raw.rstrip(b"/")
        await self.app(scope, receive, send)
