"""Markers, preferences, and the endpoints that answer empty (emoji, announcements,
trends)."""

from __future__ import annotations

import httpx
import pytest

from fedinet.config import Settings
from fedinet.runtime import Runtime
from tests.web.api.actions import person, token_with
from tests.web.api.schema import assert_matches


async def test_markers(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    bob = await person(client, runtime, settings, "bob")
    empty = await client.get(
        "/api/v1/markers", headers=alice.headers, params={"timeline[]": ["home", "notifications"]}
    )
    assert empty.status_code == 200
    assert empty.json() == {}

    made = await client.post(
        "/api/v1/markers", headers=alice.headers, json={"home": {"last_read_id": "103"}}
    )
    assert made.status_code == 200, made.text
    assert_matches("Marker", made.json()["home"])
    assert made.json()["home"]["last_read_id"] == "103"
    assert made.json()["home"]["version"] == 1
    again = await client.post(
        "/api/v1/markers",
        headers=alice.headers,
        data={"home[last_read_id]": "105", "notifications[last_read_id]": "7"},
    )
    assert again.json()["home"]["version"] == 2
    assert again.json()["notifications"]["last_read_id"] == "7"

    both = await client.get(
        "/api/v1/markers", headers=alice.headers, params={"timeline[]": ["home", "notifications"]}
    )
    assert set(both.json()) == {"home", "notifications"}
    assert both.json()["home"]["last_read_id"] == "105"
    only_home = await client.get(
        "/api/v1/markers", headers=alice.headers, params={"timeline[]": "home"}
    )
    assert set(only_home.json()) == {"home"}
    # markers are per member
    theirs = await client.get(
        "/api/v1/markers", headers=bob.headers, params={"timeline[]": ["home"]}
    )
    assert theirs.json() == {}

    for bad in ({"home": {"last_read_id": "x"}}, {}, {"home": "5"}):
        response = await client.post("/api/v1/markers", headers=alice.headers, json=bad)
        assert response.status_code == 422, bad
    assert (await client.get("/api/v1/markers")).status_code == 401
    reader = await token_with(client, alice, "read")
    assert (await client.get("/api/v1/markers", headers=reader)).status_code == 200
    denied = await client.post(
        "/api/v1/markers", headers=reader, json={"home": {"last_read_id": "1"}}
    )
    assert denied.status_code == 403


async def test_preferences(client: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
    alice = await person(client, runtime, settings, "alice")
    response = await client.get("/api/v1/preferences", headers=alice.headers)
    assert response.status_code == 200
    assert_matches("Preferences", response.json())
    assert response.json()["posting:default:visibility"] == "public"
    assert (await client.get("/api/v1/preferences")).status_code == 401
    write_only = await token_with(client, alice, "write")
    assert (await client.get("/api/v1/preferences", headers=write_only)).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/custom_emojis",
        "/api/v1/trends",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
        "/api/v1/trends/links",
    ],
)
async def test_public_empty_lists(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == []
    if path.startswith("/api/v1/trends"):  # a token, when given, must be good
        bad = await client.get(path, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401


async def test_announcements_need_a_member(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    alice = await person(client, runtime, settings, "alice")
    assert (await client.get("/api/v1/announcements")).status_code == 401
    response = await client.get("/api/v1/announcements", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == []
    follow_only = await token_with(client, alice, "follow")
    assert (await client.get("/api/v1/announcements", headers=follow_only)).status_code == 403
