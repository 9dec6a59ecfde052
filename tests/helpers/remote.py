"""A stand-in for another fediverse server, run by a test on loopback.

It serves Mastodon-shaped actor documents and WebFinger for the accounts a test gives
it, records what is delivered to its inboxes, and signs requests as those accounts
would. It is a peer for fedinet to talk to over real HTTP, not a mock of fedinet.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedinet.crypto import cavage, rfc9421
from fedinet.crypto.digest import make_content_digest, make_digest
from fedinet.crypto.keys import (
    ed25519_public_key_to_multibase,
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
)
from tests.helpers.servers import free_port

__all__ = ["Received", "RemoteAccount", "RemoteServer"]

AP = "application/activity+json"


@dataclass
class RemoteAccount:
    username: str
    base_url: str
    rsa_private: str = ""
    rsa_public: str = ""
    ed_private: str = ""
    ed_public: str = ""

    def __post_init__(self) -> None:
        if not self.rsa_private:
            self.rsa_private, self.rsa_public = generate_rsa_keypair()
        if not self.ed_private:
            self.ed_private, self.ed_public = generate_ed25519_keypair()

    @property
    def uri(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def main_key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def ed_key_id(self) -> str:
        return f"{self.uri}#ed25519-key"

    def document(self) -> dict[str, Any]:
        ed_public = load_public_key(self.ed_public)
        return {
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1",
                "https://w3id.org/security/multikey/v1",
            ],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.title(),
            "summary": "<p>A test account on another server.</p>",
            "url": f"{self.base_url}/@{self.username}",
            "inbox": f"{self.uri}/inbox",
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "published": "2024-01-01T00:00:00Z",
            "publicKey": {
                "id": self.main_key_id,
                "owner": self.uri,
                "publicKeyPem": self.rsa_public,
            },
            "assertionMethod": [
                {
                    "id": self.ed_key_id,
                    "type": "Multikey",
                    "controller": self.uri,
                    "publicKeyMultibase": ed25519_public_key_to_multibase(ed_public),  # type: ignore[arg-type]
                }
            ],
        }

    def sign(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        fmt: str = "cavage",
        key: str = "rsa",
        date: datetime | None = None,
        with_digest: bool = True,
    ) -> dict[str, str]:
        """Headers that sign a request to ``url`` as this account."""
        date = date or datetime.now(UTC)
        host = urlsplit(url).netloc
        headers = {"Host": host, "Date": format_datetime(date, usegmt=True)}
        if body is not None:
            headers["Content-Type"] = AP
        private = load_private_key(self.rsa_private if key == "rsa" else self.ed_private)
        key_id = self.main_key_id if key == "rsa" else self.ed_key_id
        if fmt == "cavage":
            signed = ["(request-target)", "host", "date"]
            if body is not None and with_digest:
                headers["Digest"] = make_digest(body)
                signed.append("digest")
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            headers["Signature"] = cavage.sign_request(
                method,
                path,
                headers,
                key_id=key_id,
                private_key=private,
                algorithm="rsa-sha256" if key == "rsa" else "hs2019",
                signed_headers=signed,
            )
            return headers
        components = ["@method", "@target-uri"]
        if body is not None and with_digest:
            headers["Content-Digest"] = make_content_digest(body)
            components.append("content-digest")
        signature_input, signature = rfc9421.sign_request(
            method,
            url,
            headers,
            key_id=key_id,
            private_key=private,
            algorithm="rsa-v1_5-sha256" if key == "rsa" else "ed25519",
            components=components,
            created=int(date.timestamp()),
        )
        headers["Signature-Input"] = signature_input
        headers["Signature"] = signature
        return headers


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RemoteServer:
    """Serves accounts at ``http://127.0.0.1:<port>``; run it with ``with RemoteServer()``."""

    port: int = field(default_factory=free_port)
    accounts: dict[str, RemoteAccount] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    inbox_status: int = 202
    inbox_delay: float = 0.0
    """Seconds each inbox POST takes to answer (after it is recorded)."""
    gone: set[str] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add_account(self, username: str) -> RemoteAccount:
        account = RemoteAccount(username, self.base_url)
        self.accounts[username] = account
        return account

    # -- the app ---------------------------------------------------------------------

    async def _actor(self, request: Request) -> Response:
        name = request.path_params["username"]
        if name in self.gone:
            return JSONResponse({"error": "gone"}, status_code=410)
        account = self.accounts.get(name)
        if account is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(account.document(), media_type=AP)

    async def _document(self, request: Request) -> Response:
        document = self.documents.get(request.url.path)
        if document is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(document, media_type=AP)

    async def _webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        name = resource.removeprefix("acct:").split("@", 1)[0]
        account = self.accounts.get(name)
        if account is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(
            {
                "subject": f"acct:{name}@{self.domain}",
                "links": [{"rel": "self", "type": AP, "href": account.uri}],
            },
            media_type="application/jrd+json",
        )

    async def _inbox(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(request.url.path, dict(request.headers), body))
        if self.inbox_delay:
            await asyncio.sleep(self.inbox_delay)
        return Response(status_code=self.inbox_status)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/webfinger", self._webfinger),
                Route("/users/{username}", self._actor),
                Route("/users/{username}/inbox", self._inbox, methods=["POST"]),
                Route("/inbox", self._inbox, methods=["POST"]),
                Route("/objects/{rest:path}", self._document),
            ]
        )

    # -- running ---------------------------------------------------------------------

    def __enter__(self) -> RemoteServer:
        config = uvicorn.Config(
            self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the remote test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
