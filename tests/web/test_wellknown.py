from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from starlette.applications import Starlette

from fedinet import __version__
from fedinet.config import Settings
from fedinet.db import instance as instance_db
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.web import activitypub, wellknown
from fedinet.web.errors import EXCEPTION_HANDLERS

MASTODON_WEBFINGER = Path(__file__).parent.parent / "ap" / "fixtures" / "mastodon_webfinger.json"


@pytest.fixture
async def http(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with this module's routes, built the way ``create_app`` builds it."""
    app = Starlette(
        routes=[*wellknown.routes, *activitypub.routes], exception_handlers=EXCEPTION_HANDLERS
    )
    app.state.runtime = runtime
    app.state.settings = settings
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as client:
        yield client


@pytest.fixture
async def alice(runtime: Runtime, settings: Settings) -> None:
    async with runtime.pool.acquire() as conn:
        await create_member(conn, settings, username="Alice", email="alice@example.org")


async def finger(http: httpx.AsyncClient, resource: str | None) -> httpx.Response:
    params = {} if resource is None else {"resource": resource}
    return await http.get("/.well-known/webfinger", params=params)


# --------------------------------------------------------------------------- WebFinger


@pytest.mark.usefixtures("alice")
async def test_webfinger_acct(http: httpx.AsyncClient) -> None:
    response = await finger(http, "acct:Alice@fedinet.test")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jrd+json; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "subject": "acct:Alice@fedinet.test",
        "aliases": ["https://fedinet.test/@Alice", "https://fedinet.test/users/Alice"],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://fedinet.test/@Alice",
            },
            {
                "rel": "self",
                "type": "application/activity+json",
                "href": "https://fedinet.test/users/Alice",
            },
        ],
    }


@pytest.mark.usefixtures("alice")
async def test_webfinger_has_the_shape_mastodon_sends(http: httpx.AsyncClient) -> None:
    mastodon = json.loads(MASTODON_WEBFINGER.read_text(encoding="utf-8"))
    ours = (await finger(http, "acct:alice@fedinet.test")).json()
    assert set(ours) == set(mastodon)
    theirs = {link["rel"]: link for link in mastodon["links"]}
    for link in ours["links"]:
        assert set(link) == set(theirs[link["rel"]])
        assert link.get("type") == theirs[link["rel"]].get("type")


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@fedinet.test",
        "ACCT:ALICE@FEDINET.TEST",
        "alice@fedinet.test",
        "acct:@alice@fedinet.test",
        " acct:alice@fedinet.test ",
        "https://fedinet.test/users/alice",
        "https://fedinet.test/@alice",
        "https://fedinet.test/@Alice/",
        "HTTPS://FEDINET.test:443/users/Alice",
    ],
)
async def test_webfinger_resource_forms(http: httpx.AsyncClient, resource: str) -> None:
    response = await finger(http, resource)
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "acct:Alice@fedinet.test"


@pytest.mark.parametrize(
    "resource", ["acct:fedinet.test@fedinet.test", "https://fedinet.test/actor"]
)
async def test_webfinger_instance_actor(http: httpx.AsyncClient, resource: str) -> None:
    response = await finger(http, resource)
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "acct:fedinet.test@fedinet.test"
    self_link = next(link for link in body["links"] if link["rel"] == "self")
    assert self_link["href"] == "https://fedinet.test/actor"
    assert "https://fedinet.test/actor" in body["aliases"]


@pytest.mark.parametrize(
    "resource",
    [None, "", "   ", "alice", "acct:alice", "acct:@fedinet.test", "acct:a b@fedinet.test"],
)
async def test_webfinger_bad_request(http: httpx.AsyncClient, resource: str | None) -> None:
    response = await finger(http, resource)
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["error"]


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@fedinet.test",
        "acct:alice@elsewhere.example",
        "acct:alice@fedinet.test:8443",
        "https://elsewhere.example/users/alice",
        "https://fedinet.test/users/nobody",
        "https://fedinet.test/users/fedinet.test",
        "https://fedinet.test/users/alice/followers",
        "https://fedinet.test/about",
    ],
)
async def test_webfinger_not_found(http: httpx.AsyncClient, resource: str) -> None:
    response = await finger(http, resource)
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["error"]


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("column", ["suspended_at", "deleted_at"])
async def test_webfinger_gone(http: httpx.AsyncClient, runtime: Runtime, column: str) -> None:
    # Test setup only: there is no suspend/delete use case yet.
    await runtime.pool.execute(f"UPDATE actors SET {column} = now() WHERE username = 'Alice'")
    response = await finger(http, "acct:alice@fedinet.test")
    assert response.status_code == 410
    assert response.json()["reason"] == "gone"


async def test_webfinger_hides_members_awaiting_approval(
    http: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    async with runtime.pool.acquire() as conn:
        created = await create_member(conn, settings, username="carol", email="c@example.org")
        await conn.execute("UPDATE users SET approved = false WHERE id = $1", created.user.id)
    assert (await finger(http, "acct:carol@fedinet.test")).status_code == 404


# --------------------------------------------------------------------------- host-meta


async def test_host_meta(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xrd+xml; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    root = ElementTree.fromstring(response.content)
    ns = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
    assert root.tag == f"{ns}XRD"
    [link] = root.findall(f"{ns}Link")
    assert link.get("rel") == "lrdd"
    assert link.get("template") == "https://fedinet.test/.well-known/webfinger?resource={uri}"


# --------------------------------------------------------------------------- NodeInfo


async def test_nodeinfo_discovery(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/nodeinfo")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://fedinet.test/nodeinfo/2.1",
            },
            {
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "href": "https://fedinet.test/actor",
            },
        ]
    }


async def test_nodeinfo_document(
    http: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    async with runtime.pool.acquire() as conn:
        for name, last_login in [
            ("recent", "now()"),
            ("quarter", "now() - interval '100 days'"),
            ("old", "now() - interval '400 days'"),
            ("never", "NULL"),
            ("banned", "now()"),
        ]:
            created = await create_member(conn, settings, username=name, email=f"{name}@e.org")
            await conn.execute(
                f"UPDATE users SET last_login_at = {last_login} WHERE id = $1", created.user.id
            )
        await conn.execute("UPDATE actors SET suspended_at = now() WHERE username = 'banned'")

    response = await http.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["version"] == "2.1"
    assert body["software"]["name"] == "fedinet"
    assert body["software"]["version"] == __version__
    assert body["protocols"] == ["activitypub"]
    assert body["services"] == {"inbound": [], "outbound": []}
    assert body["openRegistrations"] is True
    assert body["usage"] == {
        "users": {"total": 4, "activeMonth": 1, "activeHalfyear": 2},
        "localPosts": 0,
    }
    assert body["metadata"]["nodeName"] == "fedinet.test"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("open", True), ("approved", True), ("closed", False), ("none", False), (None, True)],
)
async def test_nodeinfo_open_registrations(
    http: httpx.AsyncClient, runtime: Runtime, mode: str | None, expected: bool
) -> None:
    if mode is not None:
        await instance_db.set_instance_setting(runtime.pool, "registration_mode", mode)
    body = (await http.get("/nodeinfo/2.1")).json()
    assert body["openRegistrations"] is expected


async def test_instance_settings_round_trip(runtime: Runtime) -> None:
    assert await instance_db.get_instance_setting(runtime.pool, "registration_mode") is None
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", "closed")
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", "approved")
    assert await instance_db.get_instance_setting(runtime.pool, "registration_mode") == "approved"
