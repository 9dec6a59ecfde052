"""``fedinet admin …`` run as real child processes next to a running ``fedinet serve``:
what the commands change is what the server then does."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fedinet.federation.inbox_state import BLOCK_TTL
from tests.conftest import DatabaseFactory
from tests.helpers.remote import RemoteAccount, RemoteServer
from tests.helpers.servers import ServerProcess, run_cli

AP = "application/activity+json"


@pytest.fixture(scope="module")
def remote() -> Iterator[RemoteServer]:
    with RemoteServer() as server:
        server.add_account("eve")
        yield server


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("cli-admin")
    env = {
        "FEDINET_DATABASE_URL": module_database(),
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
    }
    process = ServerProcess(env, log=tmp / "serve.log").start()
    try:
        yield process
    finally:
        process.stop()


def admin(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("admin", *args, env=server.env)


def ok(server: ServerProcess, *args: str) -> str:
    result = admin(server, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(server: ServerProcess, *args: str) -> str:
    """The command fails with exit status 2 and one ``fedinet: error:`` line."""
    result = admin(server, *args)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("fedinet: error: "), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr.removeprefix("fedinet: error: ").strip()


def inbox_post(server: ServerProcess, account: RemoteAccount) -> httpx.Response:
    doc: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{account.uri}/activities/{uuid.uuid4()}",
        "type": "Like",
        "actor": account.uri,
        "object": f"{server.url}/notes/1",
    }
    body = json.dumps(doc).encode()
    url = f"{server.url}/inbox"
    return httpx.post(url, content=body, headers=account.sign("POST", url, body), timeout=30)


def test_help_lists_the_admin_commands() -> None:
    result = run_cli("admin", "--help", env={})
    assert result.returncode == 0
    for name in (
        "create-user",
        "domain-block",
        "user",
        "reports",
        "queue",
        "cleanup",
        "registration-mode",
        "sending-limits",
        "rules",
        "canned-invitations",
        "instance",
        "invites",
    ):
        assert name in result.stdout


def test_domain_block_takes_effect_on_the_running_server(
    server: ServerProcess, remote: RemoteServer
) -> None:
    eve = remote.accounts["eve"]
    assert inbox_post(server, eve).status_code == 202
    out = ok(server, "domain-block", "add", remote.domain, "--reason", "spam wave")
    assert out.startswith(f"suspended {remote.domain} (reason: spam wave)")
    assert "follows severed" in out
    time.sleep(BLOCK_TTL)
    refusal = inbox_post(server, eve)
    assert refusal.status_code == 403 and refusal.json()["reason"] == "domain_blocked"
    listing = ok(server, "domain-block", "list")
    assert remote.domain in listing and "suspend" in listing and "spam wave" in listing

    assert "severity must be suspend or silence" in refused(
        server, "domain-block", "add", "x.example", "--severity", "nuke"
    )
    # The server and the remote peer share 127.0.0.1: blocking the host would block us.
    assert "covers this instance's own domain" in refused(
        server, "domain-block", "add", "127.0.0.1"
    )
    assert "is not blocked" in refused(server, "domain-block", "remove", "never.example")

    assert ok(server, "domain-block", "remove", remote.domain).startswith("lifted the block")
    time.sleep(BLOCK_TTL)
    assert inbox_post(server, eve).status_code == 202
    assert ok(server, "domain-block", "list").strip() == "no domain is blocked"


def test_member_moderation(server: ServerProcess) -> None:
    made = ok(server, "create-user", "dana", "--email", "dana@example.org")
    assert "created member" in made
    actor_url = f"{server.url}/users/dana"
    assert httpx.get(actor_url, headers={"Accept": AP}).status_code == 200

    assert "suspended @dana@" in ok(server, "user", "suspend", "dana")
    assert httpx.get(actor_url, headers={"Accept": AP}).status_code == 410
    assert refused(server, "user", "suspend", "dana") == "@dana is already suspended"
    assert "unsuspended @dana@" in ok(server, "user", "unsuspend", "@dana")
    assert httpx.get(actor_url, headers={"Accept": AP}).status_code == 200

    reset = ok(server, "user", "reset-password", "dana")
    assert "their tokens were revoked" in reset and "password: " in reset
    assert "is an admin" in ok(server, "user", "make-admin", "dana")
    assert "no longer an admin" in ok(server, "user", "make-admin", "dana", "--remove")
    assert refused(server, "user", "suspend", "nobody") == (
        "there is no member @nobody on this instance"
    )

    assert ok(server, "user", "pending").strip() == "nobody is waiting for approval"
    assert refused(server, "user", "approve", "dana") == "@dana is already approved"
    made = ok(server, "invites", "create", "--uses", "2", "--comment", "friends")
    assert made.startswith("invitation #1: http://127.0.0.1:") and "/signup?invite=" in made
    assert "#1  used 0/2" in ok(server, "invites", "list")
    assert ok(server, "invites", "revoke", "1").strip() == "revoked invitation #1"
    assert "give a whole number" in refused(server, "invites", "create", "--uses", "-1")

    assert "add --yes to confirm" in refused(server, "user", "delete", "dana")
    assert httpx.get(actor_url, headers={"Accept": AP}).status_code == 200
    assert "deleted @dana@" in ok(server, "user", "delete", "dana", "--yes")
    gone = httpx.get(actor_url, headers={"Accept": AP})
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"


def test_reports_queue_and_cleanup(server: ServerProcess) -> None:
    assert ok(server, "reports", "list").strip() == "no open reports"
    assert refused(server, "reports", "resolve", "12345") == "there is no report #12345"
    assert ok(server, "queue", "stats").strip() == "the delivery queue is empty"
    assert ok(server, "queue", "retry", "idle.example").strip() == (
        "0 deliveries to idle.example due now"
    )
    assert "not a server name" in refused(server, "queue", "retry", "a b")
    out = ok(server, "cleanup")
    assert "delivery rows (older than 14 days)" in out
    assert "processed inbox activities (older than 7 days)" in out


def test_instance_settings(server: ServerProcess) -> None:
    assert ok(server, "registration-mode").strip() == "registration mode: open"
    assert ok(server, "registration-mode", "invite").strip() == "registration mode set to invite"
    nodeinfo = httpx.get(f"{server.url}/nodeinfo/2.1").json()
    assert nodeinfo["openRegistrations"] is False
    assert "registration mode must be one of" in refused(server, "registration-mode", "all")

    assert "follow requests a day: 100" in ok(server, "sending-limits")
    changed = ok(server, "sending-limits", "--per-day", "40", "--new-per-day", "10")
    assert "follow requests a day: 40" in changed and ": 10" in changed
    assert "new_per_day may not be more than per_day" in refused(
        server, "sending-limits", "--per-day", "5"
    )

    assert ok(server, "rules", "add", "Be kind.", "--hint", "Assume good faith.") == (
        "added rule 1\n"
    )
    rules = httpx.get(f"{server.url}/api/v1/instance/rules").json()
    assert [(r["text"], r["hint"]) for r in rules] == [("Be kind.", "Assume good faith.")]
    assert "1. Be kind." in ok(server, "rules", "list")
    assert refused(server, "rules", "remove", "7") == "there is no rule 7"

    added = ok(server, "canned-invitations", "add", "Join my synergy circle, friend!")
    number = added.strip().rsplit("#", 1)[1]
    assert f"#{number}  added  Join my synergy circle, friend!" in ok(
        server, "canned-invitations", "list"
    )
    assert "already listed" in refused(
        server, "canned-invitations", "add", "Join my synergy circle, friend!"
    )
    ok(server, "canned-invitations", "remove", number)

    ok(server, "instance", "set", "description", "A place for gardeners.")
    assert "description: A place for gardeners." in ok(server, "instance", "show")
    instance = httpx.get(f"{server.url}/api/v2/instance").json()
    assert instance["description"] == "A place for gardeners."
