"""Home: the timeline of the accounts a member follows, with a composer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.web.pages.kit import render_page, require_member

__all__ = ["routes"]


async def home(request: Request) -> Response:
    me = await require_member(request)
    return await render_page(request, "home.html", me=me)


routes: list[BaseRoute] = [Route("/home", home, methods=["GET", "HEAD"])]
