"""Fixtures for the web pages: members, and browsers (httpx clients with a cookie jar)
that log in through the real login form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.models import Actor, User
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.services.profile import ProfileChange, update_profile

PASSWORD = "correct horse battery staple"
BROWSER_HEADERS = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Member:
    actor: Actor
    user: User
    email: str
    password: str


async def make_member(
    runtime: Runtime,
    settings: Settings,
    username: str,
    *,
    is_admin: bool = False,
    profile: ProfileChange | None = None,
) -> Member:
    email = f"{username.lower()}@example.org"
    async with runtime.pool.acquire() as conn:
        made = await create_member(
            conn, settings, username=username, email=email, password=PASSWORD, is_admin=is_admin
        )
        actor, user = made.actor, made.user
        if profile is not None:
            actor, user = await update_profile(conn, settings, actor, user, profile)
    return Member(actor=actor, user=user, email=email, password=PASSWORD)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str | None, data: dict[str, object]
) -> httpx.Response:
    """Open ``page``, then post ``data`` with the page's CSRF token to ``action``
    (default: the same path), as a browser submitting the form would."""
    shown = await browser.get(page)
    assert shown.status_code == 200, shown.text
    return await browser.post(action or page, data={"csrf_token": csrf_of(shown.text), **data})


@pytest.fixture
async def app_transport(settings: Settings, runtime: Runtime) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(settings, runtime=runtime))


Browser = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_browser(
    settings: Settings, app_transport: httpx.ASGITransport
) -> AsyncIterator[Browser]:
    """A factory of fresh browsers (own cookie jars) on the in-process app."""
    opened: list[httpx.AsyncClient] = []

    async def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=app_transport, base_url=settings.url, headers=BROWSER_HEADERS
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
async def browser(new_browser: Browser) -> httpx.AsyncClient:
    return await new_browser()


async def log_in(browser: httpx.AsyncClient, member: Member) -> httpx.Response:
    response = await post_form(
        browser, "/login", None, {"login": member.actor.username, "password": member.password}
    )
    assert response.status_code == 303, response.text
    return response
