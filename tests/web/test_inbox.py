"""The inbox of a real ``fedinet serve``, fed by a test peer on loopback.

The peer serves its own actor document; fedinet fetches it to verify each signature.
Every rejection is checked for its status and for the reason in the response body.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.db.domain_blocks import add_domain_block
from fedinet.db.inbox import get_inbox_item_by_activity_id
from fedinet.db.pool import connect
from fedinet.federation.inbox_state import BLOCK_TTL
from fedinet.runtime import Runtime
from fedinet.web.inbox import _inbox_username
from tests.conftest import DatabaseFactory
from tests.helpers.remote import RemoteAccount, RemoteServer
from tests.helpers.servers import ServerProcess, run_cli


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        server.add_account("mallory")
        server.add_account("trent")
        yield server


@pytest.fixture(scope="module")
def fedinet(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, str]]:
    database_url = module_database()
    tmp = tmp_path_factory.mktemp("inbox")
    env = {
        "FEDINET_DATABASE_URL": database_url,
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
    }
    server = ServerProcess(env, log=tmp / "serve.log").start()
    made = run_cli(
        "admin",
        "create-user",
        "alice",
        "--email",
        "alice@example.org",
        env={**server.env},
    )
    assert made.returncode == 0, made.stderr
    try:
        yield server, database_url
    finally:
        server.stop()


def activity(actor: RemoteAccount, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/activities/{uuid.uuid4()}",
        "type": "Like",
        "actor": actor.uri,
        "object": "https://example.invalid/notes/1",
        **extra,
    }


def post(
    server: ServerProcess,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> httpx.Response:
    return httpx.post(server.url + path, content=body, headers=headers, timeout=30)


def signed_post(
    server: ServerProcess,
    account: RemoteAccount,
    doc: dict[str, Any],
    path: str = "/inbox",
    **sign: Any,
) -> httpx.Response:
    body = json.dumps(doc).encode()
    return post(server, path, body, account.sign("POST", server.url + path, body, **sign))


async def stored_state(database_url: str, activity_id: str, wait: float = 10) -> str | None:
    """The stored item's state once a worker has taken it (None if never stored)."""
    conn = await connect(database_url)
    try:
        deadline = time.monotonic() + wait
        while True:
            item = await get_inbox_item_by_activity_id(conn, activity_id)
            if item is None or item.state != "pending" or time.monotonic() > deadline:
                return None if item is None else item.state
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def reason(response: httpx.Response) -> str:
    return str(response.json()["reason"])


@pytest.mark.parametrize(
    ("fmt", "key"),
    [("cavage", "rsa"), ("cavage", "ed25519"), ("rfc9421", "rsa"), ("rfc9421", "ed25519")],
)
async def test_signed_activity_is_accepted_stored_and_processed(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer, fmt: str, key: str
) -> None:
    server, database_url = fedinet
    mallory = remote.accounts["mallory"]
    doc = activity(mallory)
    response = signed_post(server, mallory, doc, fmt=fmt, key=key)
    assert response.status_code == 202, response.text
    # Stored durably, then taken by the worker (no handler for Like yet: ignored).
    assert await stored_state(database_url, doc["id"]) in ("done", "ignored")


async def test_personal_inbox_accepts_and_records_recipient(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, database_url = fedinet
    mallory = remote.accounts["mallory"]
    doc = activity(mallory)
    response = signed_post(server, mallory, doc, path="/users/alice/inbox")
    assert response.status_code == 202, response.text
    conn = await connect(database_url)
    try:
        item = await get_inbox_item_by_activity_id(conn, doc["id"])
    finally:
        await conn.close()
    assert item is not None and item.recipient_actor_id is not None
    assert item.body == doc


def test_unknown_personal_inbox_is_404(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    response = signed_post(server, mallory, activity(mallory), path="/users/nobody/inbox")
    assert response.status_code == 404
    assert "nobody" in response.json()["error"]


@pytest.mark.parametrize(
    ("path", "username"),
    [
        ("/inbox", ""),
        ("/users/alice/inbox", "alice"),
        ("/users/a.b-c_d/inbox", "a.b-c_d"),
        ("/inbox/", None),
        ("/users//inbox", None),
        ("/users/a/b/inbox", None),
        ("/users/alice/inbox/", None),
        ("/users/alice/outbox", None),
        ("/users/inbox", None),
        ("/other/inbox", None),
    ],
)
def test_the_inbox_dispatch_takes_exactly_the_inbox_paths(path: str, username: str | None) -> None:
    assert _inbox_username(path) == username


async def test_dispatched_posts_carry_the_route_as_the_router_would_set_it(
    settings: Settings, runtime: Runtime
) -> None:
    # Middleware (the metrics) reads the matched route's template from the scope.
    app = create_app(settings, runtime=runtime)
    seen: list[tuple[str, dict[str, Any]]] = []

    async def probe(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        if scope["type"] == "http":
            seen.append((scope["route"].path, scope["path_params"]))

    transport = httpx.ASGITransport(app=probe)
    async with httpx.AsyncClient(transport=transport, base_url="https://fedinet.test") as http:
        shared = await http.post("/inbox", content=b"{}")
        personal = await http.post("/users/nobody/inbox", content=b"{}")
    assert shared.status_code == 401 and shared.json()["reason"] == "signature_missing"
    assert personal.status_code == 404 and "nobody" in personal.json()["error"]
    assert seen == [("/inbox", {}), ("/users/{username}/inbox", {"username": "nobody"})]


def test_other_requests_on_inbox_paths_still_reach_the_router(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    assert httpx.get(server.url + "/inbox").status_code == 405
    assert httpx.get(server.url + "/users/alice/inbox").status_code == 405
    nested = signed_post(server, mallory, activity(mallory), path="/users/alice/x/inbox")
    assert nested.status_code == 404
    # Errors from the dispatched endpoint keep the app's JSON shape.
    unsigned = post(server, "/users/alice/inbox", b"{}", {"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert unsigned.json()["reason"] == "signature_missing"
    assert "error" in unsigned.json()
    log = server.log()
    assert "method=POST path=/users/alice/inbox status=401" in log  # access log kept


async def test_replay_is_accepted_but_stored_once(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, database_url = fedinet
    mallory = remote.accounts["mallory"]
    doc = activity(mallory)
    for _ in range(3):
        assert signed_post(server, mallory, doc).status_code == 202
    conn = await connect(database_url)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM inbox_items WHERE activity_id = $1", doc["id"]
        )
    finally:
        await conn.close()
    assert count == 1


def test_unsigned_request_is_401(fedinet: tuple[ServerProcess, str], remote: RemoteServer) -> None:
    server, _ = fedinet
    body = json.dumps(activity(remote.accounts["mallory"])).encode()
    response = post(server, "/inbox", body, {"Content-Type": "application/activity+json"})
    assert response.status_code == 401
    assert reason(response) == "signature_missing"


@pytest.mark.parametrize("fmt", ["cavage", "rfc9421"])
def test_tampered_body_is_400_digest_mismatch(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer, fmt: str
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    body = json.dumps(activity(mallory)).encode()
    headers = mallory.sign("POST", server.url + "/inbox", body, fmt=fmt)
    tampered = body.replace(b'"Like"', b'"Block"')
    response = post(server, "/inbox", tampered, headers)
    assert response.status_code == 400
    assert reason(response) == "digest_mismatch"


def test_tampered_signature_is_401(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory, trent = remote.accounts["mallory"], remote.accounts["trent"]
    body = json.dumps(activity(mallory)).encode()
    headers = mallory.sign("POST", server.url + "/inbox", body)
    # trent's signature over the same bytes, presented under mallory's key id
    forged = trent.sign("POST", server.url + "/inbox", body)["Signature"]
    headers["Signature"] = forged.replace(trent.main_key_id, mallory.main_key_id)
    response = post(server, "/inbox", body, headers)
    assert response.status_code == 401
    assert reason(response) == "signature_invalid"


def test_signer_who_is_not_the_actor_is_403(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory, trent = remote.accounts["mallory"], remote.accounts["trent"]
    response = signed_post(server, trent, activity(mallory))
    assert response.status_code == 403
    assert reason(response) == "actor_mismatch"
    assert trent.uri in response.json()["error"]


def test_activity_id_on_another_host_is_403(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    doc = activity(mallory, id="https://elsewhere.example/activities/1")
    response = signed_post(server, mallory, doc)
    assert response.status_code == 403
    assert reason(response) == "actor_mismatch"


@pytest.mark.parametrize("offset", [timedelta(hours=-13), timedelta(hours=13)])
def test_stale_or_future_date_is_401(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer, offset: timedelta
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    response = signed_post(server, mallory, activity(mallory), date=datetime.now(UTC) + offset)
    assert response.status_code == 401
    assert reason(response) == "signature_expired"


@pytest.mark.parametrize("fmt", ["cavage", "rfc9421"])
def test_missing_digest_is_401(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer, fmt: str
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    response = signed_post(server, mallory, activity(mallory), fmt=fmt, with_digest=False)
    assert response.status_code == 401
    assert reason(response) == "signature_invalid"
    assert "digest" in response.json()["error"].lower()


def test_oversized_body_is_400(fedinet: tuple[ServerProcess, str], remote: RemoteServer) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    doc = activity(mallory, content="x" * (1024 * 1024 + 1))
    response = signed_post(server, mallory, doc)
    assert response.status_code == 400
    assert reason(response) == "body_too_large"


def test_oversized_streamed_body_without_length_is_400(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    body = json.dumps(activity(mallory, content="y" * (2 * 1024 * 1024))).encode()
    headers = mallory.sign("POST", server.url + "/inbox", body)

    def chunks() -> Iterator[bytes]:  # chunked transfer encoding: no Content-Length
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = httpx.post(server.url + "/inbox", content=chunks(), headers=headers, timeout=30)
    assert response.status_code == 400
    assert reason(response) == "body_too_large"


def test_garbage_json_is_400(fedinet: tuple[ServerProcess, str], remote: RemoteServer) -> None:
    server, _ = fedinet
    mallory = remote.accounts["mallory"]
    for body in (b"{not json", b"[1, 2, 3]", b'{"no": "type"}', b"\xff\xfe"):
        headers = mallory.sign("POST", server.url + "/inbox", body)
        response = post(server, "/inbox", body, headers)
        assert response.status_code == 400, body
        assert reason(response) == "bad_activity"


def test_unknown_key_is_401(fedinet: tuple[ServerProcess, str], remote: RemoteServer) -> None:
    server, _ = fedinet
    ghost = RemoteAccount("ghost", remote.base_url)  # not served by the peer: 404
    response = signed_post(server, ghost, activity(ghost))
    assert response.status_code == 401
    assert "could not get the signing key" in response.json()["error"]


def test_delete_of_a_gone_unknown_actor_is_accepted_and_dropped(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, _ = fedinet
    gone = RemoteAccount("departed", remote.base_url)
    remote.gone.add("departed")
    doc = activity(gone, type="Delete", object=gone.uri)
    assert signed_post(server, gone, doc).status_code == 202


async def test_blocked_domain_is_403(fedinet: tuple[ServerProcess, str], tmp_path: Path) -> None:
    server, database_url = fedinet
    with RemoteServer() as blocked:
        eve = blocked.add_account("eve")
        conn = await connect(database_url)
        try:
            await add_domain_block(conn, "127.0.0.1", "suspend", "test")
            # The server keeps domain-block answers for at most BLOCK_TTL: the block takes
            # effect within it, in every process.
            await asyncio.sleep(BLOCK_TTL)
            response = await asyncio.to_thread(signed_post, server, eve, activity(eve))
        finally:
            await conn.execute("DELETE FROM domain_blocks")
            await conn.close()
            await asyncio.sleep(BLOCK_TTL)  # lifting it takes effect within BLOCK_TTL too
    assert response.status_code == 403
    assert reason(response) == "domain_blocked"


async def test_a_body_postgresql_cannot_store_is_400_and_spoils_no_other(
    fedinet: tuple[ServerProcess, str], remote: RemoteServer
) -> None:
    server, database_url = fedinet
    mallory = remote.accounts["mallory"]
    # Python's json reads NaN, jsonb refuses it: that request fails alone, with a 400,
    # while requests committed in the same group are stored and answered 202.
    good = [activity(mallory) for _ in range(6)]
    bad = activity(mallory)
    bad_body = json.dumps(bad).replace('"Like"', '"Like", "x": NaN').encode()
    bad_headers = mallory.sign("POST", server.url + "/inbox", bad_body)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def send(doc: dict[str, Any]) -> httpx.Response:
            body = json.dumps(doc).encode()
            headers = mallory.sign("POST", server.url + "/inbox", body)
            return await http.post("/inbox", content=body, headers=headers)

        responses = await asyncio.gather(
            *(send(doc) for doc in good[:3]),
            http.post("/inbox", content=bad_body, headers=bad_headers),
            *(send(doc) for doc in good[3:]),
        )
    statuses = [r.status_code for r in responses]
    assert statuses == [202, 202, 202, 400, 202, 202, 202], [r.text for r in responses]
    assert reason(responses[3]) == "bad_activity"
    conn = await connect(database_url)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM inbox_items WHERE activity_id = ANY($1::text[])",
            [doc["id"] for doc in [*good, bad]],
        )
    finally:
        await conn.close()
    assert stored == len(good)
