"""Pagination parameters and Link headers, shaped as Mastodon's."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedinet.config import Settings
from fedinet.errors import ValidationError
from fedinet.web.api.pagination import Page, link_header, parse_page, set_link_header
from fedinet.web.errors import EXCEPTION_HANDLERS


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(None, 20), ("5", 5), ("40", 40), ("41", 40), ("1000", 40), ("-3", 3), ("0", 1), ("x", 20)],
)
def test_limit(limit: str | None, expected: int) -> None:
    query = {} if limit is None else {"limit": limit}
    assert parse_page(query).limit == expected


def test_cursors() -> None:
    page = parse_page({"max_id": "100", "since_id": "7", "min_id": ""})
    assert page == Page(limit=20, max_id=100, since_id=7, min_id=None)
    assert not page.ascending
    assert parse_page({"min_id": "5"}).ascending
    for bad in ("abc", "-1", "1.5"):
        with pytest.raises(ValidationError):
            parse_page({"max_id": bad})


def test_newest_first() -> None:
    page = parse_page({"min_id": "1"})
    assert page.newest_first([3, 5, 4], key=int) == [5, 4, 3]


def test_link_header() -> None:
    base = "https://fedinet.test/api/v1/timelines/home"
    query = [("limit", "2"), ("max_id", "99"), ("only_media", "true")]
    full = link_header(base, query, Page(limit=2, max_id=99), [9, 7])
    assert full == (
        f'<{base}?limit=2&only_media=true&max_id=7>; rel="next", '
        f'<{base}?limit=2&only_media=true&min_id=9>; rel="prev"'
    )
    partial = link_header(base, [], Page(limit=20), [9, 7])
    assert partial == f'<{base}?min_id=9>; rel="prev"'
    assert link_header(base, [], Page(limit=20), []) is None


async def test_set_link_header_uses_the_public_origin(settings: Settings) -> None:
    async def endpoint(request: Request) -> Response:
        page = parse_page(request.query_params)
        response = JSONResponse([])
        set_link_header(response, request, page, [30, 20, 10][: page.limit])
        return response

    app = Starlette(
        routes=[Route("/api/v1/things", endpoint)], exception_handlers=EXCEPTION_HANDLERS
    )
    app.state.settings = settings
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://internal:8000") as http:
        response = await http.get("/api/v1/things", params={"limit": "3"})
        assert response.headers["link"] == (
            '<https://fedinet.test/api/v1/things?limit=3&max_id=10>; rel="next", '
            '<https://fedinet.test/api/v1/things?limit=3&min_id=30>; rel="prev"'
        )
        bad = await http.get("/api/v1/things", params={"max_id": "nope"})
        assert bad.status_code == 422
