"""The access log: exactly one key=value line per request, never the query string."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fedinet.web.middleware import AccessLogMiddleware


async def hello(request: Request) -> Response:
    return PlainTextResponse("hi", status_code=201)


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


def client() -> httpx.AsyncClient:
    app = AccessLogMiddleware(Starlette(routes=[Route("/hello", hello), Route("/boom", boom)]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fedinet.access"]


async def test_one_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fedinet.access")
    async with client() as http:
        assert (await http.get("/hello?token=secret")).status_code == 201
        assert (await http.get("/boom")).status_code == 500
    lines = access_lines(caplog)
    assert len(lines) == 2
    first, second = lines
    assert first.startswith("request method=GET path=/hello status=201 duration_ms=")
    assert first.endswith(" client=127.0.0.1")
    assert "secret" not in first and "token" not in first
    assert "path=/boom status=500" in second
    record = next(r for r in caplog.records if r.name == "fedinet.access")
    assert record.levelno == logging.INFO


async def test_no_line_when_the_logger_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="fedinet.access")
    async with client() as http:
        assert (await http.get("/hello")).status_code == 201
    assert access_lines(caplog) == []
