"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.runtime import Runtime, open_runtime
from fedinet.web import activitypub, api, collections, inbox, pages, wellknown
from fedinet.web.api import account_lists as api_account_lists
from fedinet.web.api import connect_links as api_connect_links
from fedinet.web.api import directory as api_directory
from fedinet.web.api import follows as api_follows
from fedinet.web.api import media as api_media
from fedinet.web.api import profile as api_profile
from fedinet.web.api import registration as api_registration
from fedinet.web.api import search as api_search
from fedinet.web.api import statuses as api_statuses
from fedinet.web.api import streaming as api_streaming
from fedinet.web.api import timelines as api_timelines
from fedinet.web.api.middleware import ApiRateLimitMiddleware
from fedinet.web.health import healthz, livez
from fedinet.web.metrics import MetricsMiddleware, metrics_endpoint
from fedinet.web.middleware import AccessLogMiddleware
from fedinet.web.proxies import ProxyHeadersMiddleware
from fedinet.web.routing import IndexedRouter
from fedinet.worker import run_workers

__all__ = ["create_app"]


def _routes() -> list[BaseRoute]:
    return [
        # first: the inbox is by far the busiest route, and routes are tried in order
        *inbox.routes,
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/livez", livez, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *wellknown.routes,
        *activitypub.routes,
        *collections.routes,
        # before api.routes: /api/v1/accounts/relationships must win over /accounts/{id}
        *api.member_routes,
        *api_follows.routes,
        *api_profile.routes,
        *api_connect_links.routes,
        *api_directory.routes,
        *api_statuses.routes,
        *api_timelines.routes,
        *api_search.routes,
        # client API II: media, registration, account lists, streaming (before api.routes,
        # whose /api/v1/accounts/{id} would take /accounts/search and the like)
        *api_media.routes,
        *api_account_lists.routes,
        *api_registration.routes,
        *api_streaming.routes,
        *api.routes,
        # fedinet's own web pages and their /static files
        *pages.routes,
    ]


def _is_rate_limit(middleware: Middleware) -> bool:
    cls: object = middleware.cls
    return cls is ApiRateLimitMiddleware


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> Starlette:
    """Build the app.

    With ``runtime`` (what ``fedinet serve`` and the tests do) the caller owns the database
    and the HTTP client; without it, the lifespan opens them. Either way the lifespan runs
    the background workers unless ``settings.workers_in_web`` is off.
    """

    @contextlib.asynccontextmanager
    async def run_with_workers(app: Starlette, runtime: Runtime) -> AsyncIterator[None]:
        app.state.runtime = runtime
        stop = asyncio.Event()
        app.state.stop_workers = stop  # `fedinet serve` sets it on SIGTERM (graceful stop)
        workers = (
            asyncio.create_task(run_workers(runtime, stop)) if settings.workers_in_web else None
        )
        try:
            yield
        finally:
            stop.set()
            await api_streaming.close_hub(app)
            if workers is not None:
                await workers

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime is not None:
            async with run_with_workers(app, runtime):
                yield
            return
        async with open_runtime(settings) as opened, run_with_workers(app, opened):
            yield

    routes = _routes()
    app = Starlette(
        routes=routes,
        middleware=[
            # first: the access log, rate limits and metrics see the real client
            Middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies),
            Middleware(AccessLogMiddleware),
            Middleware(MetricsMiddleware),
            # POSTs to the inboxes skip the exception middleware and router from here
            Middleware(inbox.InboxDispatch),
            *(m for m in api.middleware if settings.api_rate_limits or not _is_rate_limit(m)),
        ],
        exception_handlers=pages.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # the same routes, found by path first (fedinet.web.routing)
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.settings = settings
    if runtime is not None:
        app.state.runtime = runtime
    return app
