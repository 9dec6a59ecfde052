"""Fixtures for the client API: the app with this package's routes and middleware, a
member, registered applications and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fedinet import app as app_module
from fedinet.config import Settings
from fedinet.models import Actor, User
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.web import api

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://client.example/callback"


def build_app(settings: Settings, runtime: Runtime | None = None) -> Starlette:
    """``create_app`` plus ``fedinet.web.api`` — added only where ``create_app`` does not
    wire them in already, so the tests stay right before and after it does."""
    app = app_module.create_app(settings, runtime=runtime)
    paths = {getattr(route, "path", None) for route in app.router.routes}
    if "/api/v1/apps" not in paths:
        app.router.routes.extend(api.routes)
    present = {m.cls for m in app.user_middleware}
    for middleware in reversed(api.middleware):
        if middleware.cls not in present:
            app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    return app


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the app with the API (overrides the root ``client``)."""
    transport = httpx.ASGITransport(app=build_app(settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as http:
        yield http


@dataclass(frozen=True)
class Member:
    actor: Actor
    user: User
    email: str
    password: str


async def make_member(
    runtime: Runtime, settings: Settings, username: str, *, is_admin: bool = False
) -> Member:
    email = f"{username.lower()}@example.org"
    async with runtime.pool.acquire() as conn:
        made = await create_member(
            conn, settings, username=username, email=email, password=PASSWORD, is_admin=is_admin
        )
    return Member(actor=made.actor, user=made.user, email=email, password=PASSWORD)


@pytest.fixture
async def alice(runtime: Runtime, settings: Settings) -> Member:
    return await make_member(runtime, settings, "alice", is_admin=True)


async def register(
    client: httpx.AsyncClient,
    *,
    scopes: str = "read write follow push",
    redirect_uris: str | list[str] = REDIRECT_URI,
    name: str = "Test client",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/apps",
        data={"client_name": name, "redirect_uris": redirect_uris, "scopes": scopes},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def oauth_app(client: httpx.AsyncClient) -> dict[str, Any]:
    return await register(client)


async def password_token(
    client: httpx.AsyncClient,
    app: dict[str, Any],
    member: Member,
    *,
    scope: str = "read write follow push",
) -> str:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": member.email,
            "password": member.password,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
