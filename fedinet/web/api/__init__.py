"""The Mastodon client API and OAuth 2.

Wire in with ``routes`` (every endpoint of this package) and ``middleware`` (trailing
slashes under ``/api/`` and the per-process rate limits; see ``middleware.py``).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from fedinet.web.api import accounts, apps, instance, oauth
from fedinet.web.api.middleware import ApiRateLimitMiddleware, ApiTrailingSlashMiddleware

__all__ = ["middleware", "routes"]

routes: list[BaseRoute] = [
    *oauth.routes,
    *apps.routes,
    *instance.routes,
    *accounts.routes,
]

middleware: list[Middleware] = [
    Middleware(ApiRateLimitMiddleware),
    Middleware(ApiTrailingSlashMiddleware),
]
