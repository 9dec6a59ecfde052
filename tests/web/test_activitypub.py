from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from fedinet.ap.actors import ap_to_actor
from fedinet.ap.context import CONTEXT
from fedinet.config import Settings
from fedinet.crypto.keys import ed25519_public_key_from_multibase, public_key_to_pem
from fedinet.db import actors as actors_db
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.web import activitypub, wellknown
from fedinet.web.activitypub import wants_activity_json
from fedinet.web.errors import EXCEPTION_HANDLERS

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# What Mastodon sends when it fetches an actor.
MASTODON_ACCEPT = f"{AP}, {LD}"
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


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
async def alice(runtime: Runtime, settings: Settings) -> Actor:
    async with runtime.pool.acquire() as conn:
        created = await create_member(conn, settings, username="alice", email="a@example.org")
    return created.actor


# --------------------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (AP, True),
        (LD, True),
        ("application/ld+json", True),
        (MASTODON_ACCEPT, True),
        ("Application/Activity+JSON; charset=utf-8", True),
        (f"{AP}, */*", True),
        (f"text/html;q=0.5, {AP}", True),
        (f"{AP}, text/html", True),
        (FIREFOX_ACCEPT, False),
        ("*/*", False),
        ("", False),
        (None, False),
        ("text/html", False),
        (f"text/html, {AP}", False),
        (f"{AP};q=0.4, text/html;q=0.9", False),
        (f"{AP};q=0", False),
        (f"{AP};q=oops", False),
        ("application/json", False),
    ],
)
def test_wants_activity_json(accept: str | None, expected: bool) -> None:
    assert wants_activity_json(accept) is expected


# --------------------------------------------------------------------------- actor JSON


@pytest.mark.parametrize("accept", [AP, LD, MASTODON_ACCEPT])
async def test_actor_json(
    http: httpx.AsyncClient, runtime: Runtime, alice: Actor, accept: str
) -> None:
    response = await http.get("/users/alice", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert response.headers["access-control-allow-origin"] == "*"
    doc = response.json()
    assert doc["@context"] == CONTEXT
    assert doc["id"] == "https://fedinet.test/users/alice"
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    assert doc["inbox"] == "https://fedinet.test/users/alice/inbox"
    assert doc["endpoints"] == {"sharedInbox": "https://fedinet.test/inbox"}
    assert doc["featuredTags"] == "https://fedinet.test/users/alice/collections/tags"
    assert doc["published"].endswith("T00:00:00Z")

    keys = {k.kind: k for k in await actors_db.list_keys_for_actor(runtime.pool, alice.id)}
    assert doc["publicKey"] == {
        "id": "https://fedinet.test/users/alice#main-key",
        "owner": "https://fedinet.test/users/alice",
        "publicKeyPem": keys["rsa"].public_key_pem,
    }
    [method] = doc["assertionMethod"]
    assert method["id"] == "https://fedinet.test/users/alice#ed25519-key"
    ed_key = ed25519_public_key_from_multibase(method["publicKeyMultibase"])
    assert public_key_to_pem(ed_key) == keys["ed25519"].public_key_pem
    assert "private" not in response.text.lower()


async def test_actor_json_reads_back_as_a_remote_actor(
    http: httpx.AsyncClient, alice: Actor
) -> None:
    response = await http.get("/users/alice", headers={"Accept": AP})
    remote = ap_to_actor(response.json(), fetched_from=str(response.url))
    assert remote.uri == alice.uri and remote.domain == "fedinet.test"
    assert {k.kind for k in remote.keys} == {"rsa", "ed25519"}


@pytest.mark.usefixtures("alice")
async def test_username_is_case_insensitive(http: httpx.AsyncClient) -> None:
    response = await http.get("/users/ALICE", headers={"Accept": AP})
    assert response.status_code == 200
    assert response.json()["id"] == "https://fedinet.test/users/alice"


@pytest.mark.usefixtures("alice")
async def test_profile_url_also_negotiates(http: httpx.AsyncClient) -> None:
    response = await http.get("/@alice", headers={"Accept": AP})
    assert response.status_code == 200
    assert response.json()["id"] == "https://fedinet.test/users/alice"


async def test_unknown_user_json(http: httpx.AsyncClient) -> None:
    response = await http.get("/users/nobody", headers={"Accept": AP})
    assert response.status_code == 404
    assert response.headers["vary"] == "Accept"
    assert response.json()["error"]


async def test_instance_actor_is_not_a_member(http: httpx.AsyncClient) -> None:
    response = await http.get("/users/fedinet.test", headers={"Accept": AP})
    assert response.status_code == 404


@pytest.mark.parametrize("column", ["suspended_at", "deleted_at"])
async def test_gone_actor_is_a_tombstone(
    http: httpx.AsyncClient, runtime: Runtime, alice: Actor, column: str
) -> None:
    # Test setup only: there is no suspend/delete use case yet.
    await runtime.pool.execute(f"UPDATE actors SET {column} = now() WHERE id = $1", alice.id)
    response = await http.get("/users/alice", headers={"Accept": AP})
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/activity+json; charset=utf-8"
    body = response.json()
    assert body["type"] == "Tombstone" and body["id"] == alice.uri
    assert body["formerType"] == "Person" and body["deleted"].endswith("Z")
    assert "publicKey" not in body

    html = await http.get("/users/alice", headers={"Accept": FIREFOX_ACCEPT})
    assert html.status_code == 410


async def test_instance_actor(http: httpx.AsyncClient, runtime: Runtime) -> None:
    for accept in (AP, FIREFOX_ACCEPT):
        response = await http.get("/actor", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/activity+json; charset=utf-8"
        doc = response.json()
        assert doc["type"] == "Application"
        assert doc["id"] == "https://fedinet.test/actor"
        assert doc["preferredUsername"] == "fedinet.test"
        assert doc["publicKey"]["id"] == "https://fedinet.test/actor#main-key"
        assert doc["publicKey"]["owner"] == "https://fedinet.test/actor"
        assert doc["discoverable"] is False
    key = await actors_db.get_key(runtime.pool, "https://fedinet.test/actor#main-key")
    assert key is not None and doc["publicKey"]["publicKeyPem"] == key.public_key_pem


# --------------------------------------------------------------------------- HTML


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("accept", [FIREFOX_ACCEPT, "*/*", None])
@pytest.mark.parametrize("path", ["/users/alice", "/@alice"])
async def test_profile_page(http: httpx.AsyncClient, accept: str | None, path: str) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = await http.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    assert "@alice@fedinet.test" in response.text
    assert 'href="https://fedinet.test/users/alice"' in response.text  # rel=alternate


async def test_profile_page_escapes_member_text(
    http: httpx.AsyncClient, runtime: Runtime, alice: Actor
) -> None:
    await runtime.pool.execute(
        "UPDATE actors SET display_name = $1, summary = $2, fields = $3 WHERE id = $4",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(2)">',
        [{"name": "<b>why</b>", "value": "<i>hobbies</i>"}],
        alice.id,
    )
    response = await http.get("/@alice", headers={"Accept": FIREFOX_ACCEPT})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text
    assert "<b>why</b>" not in response.text and "&lt;b&gt;why&lt;/b&gt;" in response.text


async def test_unknown_user_html(http: httpx.AsyncClient) -> None:
    response = await http.get("/@nobody", headers={"Accept": FIREFOX_ACCEPT})
    assert response.status_code == 404
    # the site's own 404 page (fedinet.web.pages), not the JSON error
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing here" in response.text and "nobody" in response.text


@pytest.mark.usefixtures("alice")
async def test_head(http: httpx.AsyncClient) -> None:
    response = await http.head("/users/alice", headers={"Accept": AP})
    assert response.status_code == 200
    assert response.content == b""
