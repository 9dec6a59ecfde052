"""SIGTERM stops a ``fedinet worker`` gracefully: the delivery in hand finishes within
``FEDINET_SHUTDOWN_GRACE``, or is released (claimable again at once), never lost or left
leased; and the process exits within the bound."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedinet.db.actors import get_local_actor_by_username
from fedinet.db.deliveries import enqueue_deliveries, insert_activity
from fedinet.db.pool import connect
from tests.conftest import DatabaseFactory
from tests.helpers.cluster import eventually
from tests.helpers.remote import RemoteServer
from tests.helpers.servers import ServerProcess, free_port, run_cli, start_worker

METRICS_TOKEN = "worker-metrics-token-0123456789"


@pytest.fixture
def peer() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        yield server


def _env(database_url: str, tmp_path: Path, grace: float) -> dict[str, str]:
    return {
        "FEDINET_URL": "http://127.0.0.1:9",  # no web process: the worker only delivers
        "FEDINET_DATABASE_URL": database_url,
        "FEDINET_DATA_DIR": str(tmp_path / "data"),
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
        "FEDINET_SHUTDOWN_GRACE": str(grace),
        "FEDINET_METRICS_TOKEN": METRICS_TOKEN,
    }


async def _queue_one(database_url: str, inbox: str) -> int:
    """A post by alice, queued for ``inbox``; returns the delivery's id."""
    conn = await connect(database_url)
    try:
        alice = await get_local_actor_by_username(conn, "alice")
        assert alice is not None
        uri = f"{alice.uri}/activities/shutdown-test"
        activity = await insert_activity(
            conn,
            uri=uri,
            actor_id=alice.id,
            activity_type="Create",
            object_uri=f"{alice.uri}/statuses/1",
            visibility="public",
            body={"id": uri, "type": "Create", "actor": alice.uri},
        )
        assert await enqueue_deliveries(conn, activity.id, [inbox]) == 1
        delivery_id = await conn.fetchval(
            "SELECT id FROM deliveries WHERE activity_id = $1", activity.id
        )
        return int(delivery_id)
    finally:
        await conn.close()


async def _row(database_url: str, delivery_id: int) -> dict[str, Any]:
    conn = await connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT state, attempts, locked_until, last_status FROM deliveries WHERE id = $1",
            delivery_id,
        )
        assert row is not None
        return dict(row)
    finally:
        await conn.close()


def _start(
    database_url: str, tmp_path: Path, peer: RemoteServer, grace: float, *args: str
) -> tuple[subprocess.Popen[bytes], int]:
    env = _env(database_url, tmp_path, grace)
    made = run_cli("admin", "create-user", "alice", "--email", "alice@example.org", env=env)
    assert made.returncode == 0, made.stderr
    delivery_id = asyncio.run(_queue_one(database_url, f"{peer.base_url}/inbox"))
    worker = start_worker(env, log=tmp_path / "worker.log", args=args)
    eventually(lambda: peer.received, what="the delivery POST at the slow peer")
    return worker, delivery_id


def _terminate(worker: subprocess.Popen[bytes]) -> float:
    """SIGTERM the worker; return how long it took to exit."""
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise
    return time.monotonic() - started


def test_a_delivery_slower_than_the_grace_is_released(
    new_database: DatabaseFactory, tmp_path: Path, peer: RemoteServer
) -> None:
    database_url = new_database()
    peer.inbox_delay = 4  # longer than the grace
    port = free_port()
    worker, delivery_id = _start(database_url, tmp_path, peer, 1.5, "--metrics-port", str(port))
    assert asyncio.run(_row(database_url, delivery_id))["locked_until"] is not None

    # The worker's own listener: /livez, and /metrics with the token only.
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/livez", timeout=5).json()["status"] == "alive"
    assert httpx.get(f"{base}/metrics", timeout=5).status_code == 403
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    page = httpx.get(f"{base}/metrics", headers=auth, timeout=5)
    assert page.status_code == 200
    assert "\nfedinet_deliveries_leased 1\n" in page.text

    took = _terminate(worker)
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log
    assert took < 1.5 + 8, f"the worker took {took:.1f}s to stop:\n{log}"
    row = asyncio.run(_row(database_url, delivery_id))
    # released: still pending, no lease, the interrupted attempt not counted
    assert row == {"state": "pending", "attempts": 0, "locked_until": None, "last_status": None}
    assert "deliveries released at shutdown count=1" in log
    assert "Traceback" not in log


def test_a_delivery_within_the_grace_finishes(
    new_database: DatabaseFactory, tmp_path: Path, peer: RemoteServer
) -> None:
    database_url = new_database()
    peer.inbox_delay = 1.5  # shorter than the grace
    worker, delivery_id = _start(database_url, tmp_path, peer, grace=15)

    took = _terminate(worker)
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log
    assert took < 15, f"the worker took {took:.1f}s to stop:\n{log}"
    row = asyncio.run(_row(database_url, delivery_id))
    assert row["state"] == "delivered", (row, log)
    assert row["locked_until"] is None
    assert "released" not in log


def test_serve_releases_the_deliveries_of_its_workers_within_the_grace(
    new_database: DatabaseFactory, tmp_path: Path, peer: RemoteServer
) -> None:
    """``fedinet serve`` runs the same workers: at SIGTERM their delivery in hand is
    released within the grace too, and the process exits."""
    database_url = new_database()
    peer.inbox_delay = 4
    env = _env(database_url, tmp_path, grace=1.5)
    server = ServerProcess(env, log=tmp_path / "serve.log")
    server.env["FEDINET_URL"] = env["FEDINET_URL"] = server.url
    made = run_cli("admin", "create-user", "alice", "--email", "alice@example.org", env=env)
    assert made.returncode == 0, made.stderr
    server.start()
    try:
        delivery_id = asyncio.run(_queue_one(database_url, f"{peer.base_url}/inbox"))
        eventually(lambda: peer.received, what="the delivery POST at the slow peer")
        started = time.monotonic()
        code = server.stop(timeout=60)
        took = time.monotonic() - started
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
    log = server.log()
    assert code == 0, log
    assert took < 1.5 + 8, f"fedinet serve took {took:.1f}s to stop:\n{log}"
    row = asyncio.run(_row(database_url, delivery_id))
    assert row == {"state": "pending", "attempts": 0, "locked_until": None, "last_status": None}
    assert "deliveries released at shutdown count=1" in log


def test_serve_lets_a_request_in_flight_finish_and_exits_within_the_grace(
    new_database: DatabaseFactory, tmp_path: Path
) -> None:
    """At SIGTERM a request whose body is still arriving is answered once it has come;
    one whose body never comes is cut off when the grace ends."""
    env = _env(new_database(), tmp_path, grace=3)
    server = ServerProcess(env, log=tmp_path / "serve.log")
    server.env["FEDINET_URL"] = server.url
    server.start()
    head = (
        b"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/activity+json\r\nContent-Length: 20\r\n\r\n"
    )
    try:
        finishing = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        stalled = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        for conn in (finishing, stalled):
            conn.sendall(head + b"{" * 10)  # half the body
        time.sleep(0.3)
        assert server.proc is not None
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        finishing.sendall(b"}" * 10)
        answer = finishing.recv(4096)
        assert answer.startswith(b"HTTP/1.1 4"), answer  # answered (unsigned: refused)
        server.proc.wait(30)
        took = time.monotonic() - started
    finally:
        code = server.stop()  # after the exit above, only closes the log
    assert code == 0, server.log()
    assert 3 <= took < 3 + 8, f"fedinet serve took {took:.1f}s to stop:\n{server.log()}"
    finishing.close()
    stalled.close()
