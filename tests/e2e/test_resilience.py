"""Nothing is lost when a receiving server is down, or a worker dies mid-delivery."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedinet.db.pool import connect
from tests.conftest import DatabaseFactory
from tests.helpers.cluster import Instance, eventually, follow_and_accept
from tests.helpers.remote import RemoteServer
from tests.helpers.servers import start_worker

FAST_QUEUES = {
    "FEDINET_DELIVERY_RETRY_BASE_SECONDS": "1",
    "FEDINET_DELIVERY_LEASE_SECONDS": "3",
}


@pytest.fixture
def two(new_database: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    a = Instance("a", new_database(), tmp_path / "a", FAST_QUEUES)
    b = Instance("b", new_database(), tmp_path / "b", FAST_QUEUES)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a.start()
    b.start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_deliveries_arrive_after_the_receiver_comes_back(two: tuple[Instance, Instance]) -> None:
    a, b = two
    alice, bob = a.member("alice"), b.member("bob")
    follow_and_accept(bob, alice)  # bob@B follows alice@A

    b.stop()
    posts = [alice.post("/api/v1/statuses", status=f"while B was down, part {i}") for i in range(3)]

    # A tries, fails (connection refused) and schedules retries.
    eventually(
        lambda: asyncio.run(failed_attempts(a.database_url)) >= 3,
        what="A's failed attempts while B is down",
    )
    b.start()
    uris = {p["uri"] for p in posts}
    eventually(
        lambda: uris <= {s["uri"] for s in bob.home()},
        timeout=60,
        what="the posts made while B was down",
    )
    assert "Traceback" not in a.log()


async def failed_attempts(database_url: str) -> int:
    conn = await connect(database_url)
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'pending' AND attempts > 0"
        )
        return int(value)
    finally:
        await conn.close()


async def delivery_state(database_url: str, object_uri: str) -> str | None:
    conn = await connect(database_url)
    try:
        value = await conn.fetchval(
            "SELECT d.state FROM deliveries d JOIN activities a ON a.id = d.activity_id "
            "WHERE a.object_uri = $1",
            object_uri,
        )
        return None if value is None else str(value)
    finally:
        await conn.close()


def test_a_killed_worker_loses_nothing(new_database: DatabaseFactory, tmp_path: Path) -> None:
    database_url = new_database()
    (tmp_path / "a").mkdir()
    a = Instance(
        "a", database_url, tmp_path / "a", {**FAST_QUEUES, "FEDINET_WORKERS_IN_WEB": "false"}
    ).start()
    assert a.server is not None
    peer = RemoteServer().__enter__()
    worker = start_worker(a.server.env, log=tmp_path / "worker1.log")
    try:
        alice = a.member("alice")
        zed = peer.add_account("zed")
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed.uri}/follows/{uuid.uuid4()}",
            "type": "Follow",
            "actor": zed.uri,
            "object": alice.uri,
            "content": "<p>Hi alice, we met at the allotment open day and talked seeds.</p>",
        }
        body = json.dumps(follow).encode()
        inbox = f"{a.url}/users/alice/inbox"
        response = httpx.post(
            inbox, content=body, headers=zed.sign("POST", inbox, body), timeout=30
        )
        assert response.status_code == 202, response.text
        requester = eventually(lambda: alice.get("/api/v1/follow_requests"), what="the request")
        alice.post(f"/api/v1/follow_requests/{requester[0]['id']}/authorize")
        eventually(
            lambda: [r for r in peer.received if r.json()["type"] == "Accept"],
            what="the Accept at the peer",
        )

        # The peer now hangs on each delivery; the worker is killed while it waits.
        peer.inbox_delay = 30
        post = alice.post("/api/v1/statuses", status="delivered despite a crash")

        def create_arrived() -> list[object]:
            return [
                r
                for r in peer.received
                if r.json()["type"] == "Create" and r.json()["object"]["id"] == post["uri"]
            ]

        eventually(create_arrived, what="the first delivery attempt")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        peer.inbox_delay = 0
        assert asyncio.run(delivery_state(database_url, post["uri"])) == "pending"

        # A new worker takes the delivery over once the dead worker's lease expires.
        worker = start_worker(a.server.env, log=tmp_path / "worker2.log")
        eventually(
            lambda: asyncio.run(delivery_state(database_url, post["uri"])) == "delivered",
            timeout=60,
            what="the delivery completed by the second worker",
        )
        assert len(create_arrived()) >= 2  # at least once; receivers dedupe by activity id
    finally:
        worker.terminate()
        worker.wait(30)
        peer.__exit__()
        a.stop()
