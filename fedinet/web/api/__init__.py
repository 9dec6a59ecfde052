"""The Mastodon client API and OAuth 2.

Wire in with ``routes`` (every endpoint of this package) and ``middleware`` (trailing
slashes under ``/api/`` and the per-process rate limits; see ``middleware.py``).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from fedinet.web.api import (
    accounts,
    apps,
    bookmarks,
    conversations,
    empty,
    filters,
    instance,
    lists,
    markers,
    mutes,
    notifications,
    oauth,
    status_extras,
)
from fedinet.web.api.middleware import ApiRateLimitMiddleware, ApiTrailingSlashMiddleware

__all__ = ["member_routes", "middleware", "routes"]

# What members keep for themselves: notifications, markers, bookmarks, mutes, lists,
# filters, conversations, the extras of a status; and the endpoints that answer empty.
# Their paths never clash with /accounts/{id} or /statuses/{id}, but come first anyway.
member_routes: list[BaseRoute] = [
    *notifications.routes,
    *markers.routes,
    *status_extras.routes,
    *bookmarks.routes,
    *mutes.routes,
    *lists.routes,
    *filters.routes,
    *conversations.routes,
    *empty.routes,
]

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
