"""Rate limits (per token, per address, logins) and trailing slashes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fedinet.app import create_app
from fedinet.config import Settings, load_settings
from fedinet.runtime import Runtime
from fedinet.web.api.middleware import ApiRateLimitMiddleware, ApiTrailingSlashMiddleware, Limit


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(request.url.path)

    limits = {
        "token": Limit(3, 300),
        "ip": Limit(2, 300),
        "ip-total": Limit(6, 300),
        "login": Limit(1, 300),
    }
    app = Starlette(
        routes=[
            Route("/api/v1/thing", echo, methods=["GET"]),
            Route("/oauth/token", echo, methods=["POST"]),
            Route("/elsewhere", echo),
        ],
        middleware=[
            Middleware(ApiRateLimitMiddleware, limits=limits, clock=clock),
            Middleware(ApiTrailingSlashMiddleware),
        ],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://t.test") as client:
        yield client


async def test_anonymous_requests_are_limited_per_address(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    first = await http.get("/api/v1/thing")
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    reset = datetime.strptime(first.headers["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert reset.replace(tzinfo=UTC).timestamp() % 300 == 0
    assert (await http.get("/api/v1/thing")).headers["x-ratelimit-remaining"] == "0"
    refused = await http.get("/api/v1/thing")
    assert refused.status_code == 429
    assert refused.json()["error"] == "Too many requests"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-remaining"] == "0"
    # Other paths are not limited; a new window starts afresh.
    assert (await http.get("/elsewhere")).status_code == 200
    clock.now += 300
    assert (await http.get("/api/v1/thing")).status_code == 200


async def test_tokens_have_their_own_budget(http: httpx.AsyncClient) -> None:
    for _ in range(3):
        response = await http.get("/api/v1/thing", headers={"Authorization": "Bearer one"})
        assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "3"
    assert (
        await http.get("/api/v1/thing", headers={"Authorization": "Bearer one"})
    ).status_code == 429
    # Another token gets its own budget, until the address's total runs out.
    assert (
        await http.get("/api/v1/thing", headers={"Authorization": "Bearer two"})
    ).status_code == 200
    assert (
        await http.get("/api/v1/thing", headers={"Authorization": "Bearer two"})
    ).status_code == 200
    total = await http.get("/api/v1/thing", headers={"Authorization": "Bearer three"})
    assert total.status_code == 429


async def test_logins_are_limited_per_address(http: httpx.AsyncClient) -> None:
    assert (await http.post("/oauth/token")).status_code == 200
    assert (await http.post("/oauth/token")).status_code == 429


async def test_trailing_slash_rewrites_api_paths_only(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/thing/")
    assert response.status_code == 200
    assert response.text == "/api/v1/thing"
    assert (await http.get("/elsewhere/")).status_code in (307, 404)


async def test_real_app_sends_rate_limit_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/instance")
    assert response.headers["x-ratelimit-limit"] == "300"
    assert response.headers["x-ratelimit-remaining"] == "299"


async def test_rate_limits_can_be_turned_off_for_load_tests(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(dataclasses.replace(settings, api_rate_limits=False), runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as http:
        response = await http.get("/api/v1/instance")
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers
    assert settings.api_rate_limits  # on unless turned off
    assert not load_settings(
        {"FEDINET_API_RATE_LIMITS": "false", "FEDINET_DATA_DIR": str(settings.data_dir)}
    ).api_rate_limits
