"""Helpers for tests of the member endpoints: members with tokens, posting, following —
all through the real API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from fedinet.config import Settings
from fedinet.db.users import set_note_settings
from fedinet.runtime import Runtime
from tests.web.api.conftest import Member, bearer, make_member, password_token, register


@dataclass(frozen=True)
class Person:
    member: Member
    token: str

    @property
    def id(self) -> str:
        return str(self.member.actor.id)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def person(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    username: str,
    *,
    scope: str = "read write follow push",
) -> Person:
    member = await make_member(runtime, settings, username)
    # follows in these tests need no note
    await set_note_settings(
        runtime.pool, member.user.id, private_motives=[], follow_note_policy="open"
    )
    app = await register(client, scopes=scope)
    return Person(member, await password_token(client, app, member, scope=scope))


async def token_with(client: httpx.AsyncClient, who: Person, scope: str) -> dict[str, str]:
    """Headers for another token of ``who`` holding only ``scope``."""
    app = await register(client, scopes=scope)
    return bearer(await password_token(client, app, who.member, scope=scope))


async def post(client: httpx.AsyncClient, who: Person, text: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/statuses", headers=who.headers, data={"status": text, **extra}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def follow(client: httpx.AsyncClient, who: Person, target: Person) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/accounts/{target.id}/follow", headers=who.headers, data={"note": ""}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def accept(client: httpx.AsyncClient, who: Person, requester: Person) -> None:
    response = await client.post(
        f"/api/v1/follow_requests/{requester.id}/authorize", headers=who.headers
    )
    assert response.status_code == 200, response.text


def link_ids(response: httpx.Response) -> dict[str, str]:
    """rel -> the cursor in each Link of the response (``max_id`` or ``min_id``)."""
    found = {}
    for part in response.headers.get("link", "").split(", "):
        if not part:
            continue
        url, rel = part.split("; ")
        query = httpx.URL(url.strip("<>")).params
        found[rel.split('"')[1]] = query.get("max_id") or query.get("min_id") or ""
    return found
