"""Several real ``fedinet serve`` processes on loopback, federating with each other.

Each instance has its own database on the test PostgreSQL server and its own
``http://127.0.0.1:<port>`` origin. Tests act as members through the Mastodon client API
with OAuth tokens, exactly as an app would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from tests.helpers.servers import ServerProcess, password_token, register_app, run_cli

__all__ = ["PASSWORD", "Instance", "Member", "eventually", "follow_and_accept"]

T = TypeVar("T")

PASSWORD = "correct horse battery"


def eventually(
    check: Callable[[], T | None], *, timeout: float = 30, interval: float = 0.2, what: str = ""
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: {last!r}")


@dataclass
class Member:
    instance: Instance
    username: str
    token: str
    account_id: str

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.instance.domain}"

    @property
    def uri(self) -> str:
        return f"{self.instance.url}/users/{self.username}"

    def api(self) -> httpx.Client:
        return self.instance.http(
            base_url=self.instance.url, headers={"Authorization": f"Bearer {self.token}"}
        )

    def get(self, path: str, **params: Any) -> Any:
        with self.api() as client:
            response = client.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def post(self, path: str, expect: int = 200, **data: Any) -> Any:
        with self.api() as client:
            response = client.post(path, data=data)
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json()

    def put(self, path: str, **data: Any) -> Any:
        with self.api() as client:
            response = client.put(path, data=data)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def delete(self, path: str) -> Any:
        with self.api() as client:
            response = client.delete(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def find(self, other: Member) -> dict[str, Any]:
        """The account of ``other`` as this member's server knows it (resolving it)."""
        result = self.get("/api/v2/search", q=f"@{other.acct}", resolve="true")
        assert result["accounts"], f"{other.acct} not found from {self.instance.url}"
        account: dict[str, Any] = result["accounts"][0]
        return account

    def home(self) -> list[dict[str, Any]]:
        statuses: list[dict[str, Any]] = self.get("/api/v1/timelines/home", limit=40)
        return statuses


@dataclass
class Instance:
    name: str
    database_url: str
    workdir: Path
    env_extra: Mapping[str, str] = field(default_factory=dict)
    server: ServerProcess | None = None
    port: int | None = None
    """The port ``fedinet serve`` listens on (default: a free one)."""
    public_url: str | None = None
    """Where members reach the instance (behind a proxy), if not the server itself."""
    transport: httpx.BaseTransport | None = None
    """How the tests' HTTP clients connect (e.g. resolving names, trusting a test CA)."""
    _client: tuple[str, str] | None = None

    def http(self, **options: Any) -> httpx.Client:
        return httpx.Client(transport=self.transport, timeout=30, **options)

    def start(self) -> Instance:
        if self.server is None:
            env = {
                "FEDINET_DATABASE_URL": self.database_url,
                "FEDINET_DATA_DIR": str(self.workdir / "data"),
                "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
                **self.env_extra,
            }
            self.server = ServerProcess(env, port=self.port, log=self.workdir / "serve.log")
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        if self.public_url is not None:
            return self.public_url
        assert self.server is not None
        return self.server.url

    @property
    def domain(self) -> str:
        return urlsplit(self.url).netloc

    def log(self) -> str:
        return self.server.log() if self.server else ""

    def _app(self) -> tuple[str, str]:
        if self._client is None:
            with self.http() as http:
                self._client = register_app(http, self.url, "read write follow")
        return self._client

    def member(self, username: str) -> Member:
        """Create a member (CLI, as an admin would) and log in (OAuth password grant).
        Members approve followers by hand, fedinet's default."""
        assert self.server is not None
        made = run_cli(
            "admin",
            "create-user",
            username,
            "--email",
            f"{username}@example.org",
            "--password",
            PASSWORD,
            env=self.server.env,
        )
        assert made.returncode == 0, made.stderr
        app = self._app()
        with self.http() as http:
            token = password_token(
                http, self.url, app, f"{username}@example.org", PASSWORD, "read write follow"
            )
            me = http.get(
                f"{self.url}/api/v1/accounts/verify_credentials",
                headers={"Authorization": f"Bearer {token}"},
            ).json()
        return Member(self, username, token, me["id"])


def follow_and_accept(
    follower: Member, followee: Member, note: str | None = None
) -> dict[str, object]:
    """``follower`` follows ``followee`` (locked), who accepts; returns the account. The
    two may be on one instance or on two. A follower who follows several people needs a
    ``note`` of its own for each: near-identical notes are refused."""
    account = follower.find(followee)
    # How the followee's server writes the follower's acct: bare when it is its own.
    listed_as = follower.username if follower.instance is followee.instance else follower.acct
    note = note or (
        f"Hi {followee.username}! I have been enjoying what you share on "
        f"{followee.instance.domain} and would love to follow along."
    )
    relationship = follower.post(f"/api/v1/accounts/{account['id']}/follow", note=note)
    assert relationship["requested"] is True and relationship["following"] is False

    def request_arrived() -> list[dict[str, object]]:
        requests: list[dict[str, object]] = followee.get("/api/v1/follow_requests")
        return [r for r in requests if r["acct"] == listed_as]

    requester = eventually(request_arrived, what="the follow request")[0]
    followee.post(f"/api/v1/follow_requests/{requester['id']}/authorize")

    def accepted() -> bool:
        rel = follower.get("/api/v1/accounts/relationships", id=account["id"])[0]
        return bool(rel["following"])

    eventually(accepted, what="the Accept")
    return account
