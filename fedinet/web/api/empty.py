"""Endpoints fedinet has nothing for yet, answering as Mastodon does when it has none:
custom emojis, announcements, trends."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.web.api.auth import authorize_if_got_token, require_scope
from fedinet.web.api.pagination import parse_page

__all__ = ["routes"]


async def custom_emojis(request: Request) -> Response:
    return JSONResponse([])


async def announcements(request: Request) -> Response:
    await require_scope(request, "read:accounts")
    return JSONResponse([])


async def trends(request: Request) -> Response:
    """Trending tags, statuses or links: none (fedinet does not rank content)."""
    await authorize_if_got_token(request)
    parse_page(request.query_params, default_limit=10)  # a bad cursor is still a 422
    return JSONResponse([])


routes: list[BaseRoute] = [
    Route("/api/v1/custom_emojis", custom_emojis, methods=["GET"]),
    Route("/api/v1/announcements", announcements, methods=["GET"]),
    Route("/api/v1/trends", trends, methods=["GET"]),
    Route("/api/v1/trends/tags", trends, methods=["GET"]),
    Route("/api/v1/trends/statuses", trends, methods=["GET"]),
    Route("/api/v1/trends/links", trends, methods=["GET"]),
]
