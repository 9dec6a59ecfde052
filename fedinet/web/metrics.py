"""``GET /metrics`` (Prometheus text format) and the middleware that times requests.

Who may read it: a client whose address (after :mod:`fedinet.web.proxies`) is in
``FEDINET_METRICS_ALLOW``, or anyone presenting ``Authorization: Bearer
$FEDINET_METRICS_TOKEN``. With neither setting the endpoint does not exist (404); a
client that is not allowed gets 403 when it is enabled.

What it shows:

* this process's counters (:mod:`fedinet.metrics`): request latency by route template,
  inbox POSTs accepted or rejected by reason, delivery attempts by outcome, note
  refusals by rule. Each web process counts on its own: scrape every one (Prometheus
  adds them up). Delivery outcomes are counted by the process that delivered, so with
  separate ``fedinet worker`` processes they are not in a web process's page: run those
  with ``--metrics-port`` (:func:`metrics_app`) and scrape them too.
* gauges read from PostgreSQL when scraped, the same in every process: pending and
  leased deliveries, the age of the oldest pending delivery, pending inbox items and
  the age of the oldest.
"""

from __future__ import annotations

import hmac
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedinet import metrics
from fedinet.config import Settings
from fedinet.db.metrics import queue_gauges
from fedinet.runtime import Runtime
from fedinet.web.errors import ERROR_REASON
from fedinet.web.health import livez
from fedinet.web.proxies import ProxyHeadersMiddleware, is_trusted

__all__ = ["MetricsMiddleware", "metrics_app", "metrics_endpoint"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_INBOX_ROUTES = frozenset({"/inbox", "/users/{username}/inbox"})
_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}

_PENDING = metrics.Gauge(
    "fedinet_queue_pending", "Pending rows in a queue (deliveries or inbox).", ("queue",)
)
_OLDEST = metrics.Gauge(
    "fedinet_queue_oldest_seconds",
    "Age of the oldest pending row of a queue, 0 when it is empty.",
    ("queue",),
)
_LEASED = metrics.Gauge("fedinet_deliveries_leased", "Pending deliveries a worker holds right now.")


class MetricsMiddleware:
    """Times every HTTP request into :data:`fedinet.metrics.HTTP_DURATION` by route
    template (``unmatched`` when no route matched), and counts inbox POSTs."""

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
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.HTTP_DURATION.observe(
                time.perf_counter() - start,
                scope["method"],
                template,
                _STATUS_CLASS.get(status // 100, "other"),
            )
            if template in _INBOX_ROUTES and scope["method"] == "POST":
                if status == 202:
                    metrics.INBOX.inc("accepted", "")
                else:
                    metrics.INBOX.inc("rejected", scope.get(ERROR_REASON) or f"http_{status}")


def _allowed(request: Request, settings: Settings) -> bool:
    token = settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    client = request.client
    return client is not None and is_trusted(client.host, settings.metrics_allow)


async def metrics_endpoint(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not settings.metrics_allow and settings.metrics_token is None:
        return PlainTextResponse("Not Found", status_code=404)
    if not _allowed(request, settings):
        return PlainTextResponse("Forbidden", status_code=403)
    runtime: Runtime = request.app.state.runtime
    gauges = await queue_gauges(runtime.pool)
    extra = [
        *_PENDING.samples(
            [(("deliveries",), gauges.deliveries_pending), (("inbox",), gauges.inbox_pending)]
        ),
        *_OLDEST.samples(
            [
                (("deliveries",), gauges.deliveries_oldest_seconds),
                (("inbox",), gauges.inbox_oldest_seconds),
            ]
        ),
        *_LEASED.samples([((), gauges.deliveries_leased)]),
    ]
    return Response(metrics.render(extra), media_type=CONTENT_TYPE)


def metrics_app(settings: Settings, runtime: Runtime) -> Starlette:
    """``/metrics`` and ``/livez`` alone: what ``fedinet worker --metrics-port`` serves."""
    app = Starlette(
        routes=[
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/livez", livez, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies)],
    )
    app.state.settings = settings
    app.state.runtime = runtime
    return app
