"""IndexedRouter resolves every request as starlette's Router does."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Host, Mount, Route, Router

from fedinet.web.routing import IndexedRouter


def _answer(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


def _routes() -> list[BaseRoute]:
    return [
        Route("/inbox", _answer("inbox"), methods=["POST"]),
        # a parameterised route ahead of a literal one it also matches: it must win
        Route("/api/v1/timelines/{name}", _answer("any timeline"), methods=["POST"]),
        Route("/api/v1/timelines/home", _answer("home"), methods=["GET"]),
        Route("/api/v1/timelines/home", _answer("home again"), methods=["GET", "DELETE"]),
        Route("/api/v1/instance", _answer("instance"), methods=["GET"]),
        Route("/users/{username}", _answer("actor"), methods=["GET"]),
        Route("/users/me", _answer("never: the actor route comes first"), methods=["GET"]),
        Mount("/static", routes=[Route("/app.css", _answer("css"))]),
        Route("/static", _answer("static literal")),
        Host("other.example", app=PlainTextResponse("other host")),
        Route("/after-host", _answer("after host")),
        Route("/slash/", _answer("slash")),
    ]


CASES = [
    ("GET", "/api/v1/timelines/home"),
    ("POST", "/api/v1/timelines/home"),
    ("DELETE", "/api/v1/timelines/home"),
    ("PUT", "/api/v1/timelines/home"),
    ("GET", "/api/v1/timelines/public"),
    ("POST", "/api/v1/timelines/public"),
    ("GET", "/inbox"),
    ("POST", "/inbox"),
    ("GET", "/users/me"),
    ("GET", "/users/ana"),
    ("GET", "/static"),
    ("GET", "/static/app.css"),
    ("GET", "/after-host"),
    ("GET", "/slash"),
    ("GET", "/api/v1/instance/"),
    ("GET", "/nowhere"),
]


@pytest.mark.parametrize(("method", "path"), CASES)
async def test_same_route_as_starlette(method: str, path: str) -> None:
    answers = []
    for router in (Router(_routes()), IndexedRouter(_routes())):
        transport = httpx.ASGITransport(app=router)
        async with httpx.AsyncClient(transport=transport, base_url="http://fedinet.test") as c:
            response = await c.request(method, path)
            answers.append((response.status_code, response.text, response.headers.get("location")))
    assert answers[0] == answers[1]


async def test_routes_added_later_are_found() -> None:
    router = IndexedRouter(_routes())
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://fedinet.test") as c:
        assert (await c.get("/api/v1/instance")).text == "instance {}"
        router.routes.append(Route("/api/v1/apps", _answer("apps"), methods=["POST"]))
        assert (await c.post("/api/v1/apps")).text == "apps {}"
