from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedinet.crypto import cavage, rfc9421
from fedinet.crypto.digest import make_content_digest, make_digest
from fedinet.crypto.keys import (
    generate_ed25519_keypair,
    generate_rsa_keypair,
    load_public_key,
    private_key_to_pem,
)
from fedinet.db import servers as servers_db
from fedinet.db.pool import Pool, create_pool
from fedinet.errors import RemoteFetchError, SignatureError, SignatureInvalid, UnsafeAddress
from fedinet.federation.signing import Signer, signed_request
from fedinet.federation.transport import GuardedTransport, url_authority
from tests.federation.test_transport import serve

KEY_ID = "https://fedinet.test/users/alice#main-key"
RSA_PRIVATE, RSA_PUBLIC = generate_rsa_keypair()
ED_PRIVATE, ED_PUBLIC = generate_ed25519_keypair()
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://remote.example/users/bob/inbox"
BODY = b'{"type": "Follow"}'


def _headers(signed: dict[str, str]) -> dict[str, str]:
    return {"Host": "remote.example", "Content-Type": "application/activity+json", **signed}


# --- the headers ------------------------------------------------------------------------


def test_cavage_rsa_post() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    added = signer.sign("post", URL, {}, BODY, fmt="cavage", now=NOW)
    assert set(added) == {"Date", "Host", "Digest", "Signature"}
    assert added["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"
    assert parsedate_to_datetime(added["Date"]) == NOW
    assert added["Host"] == "remote.example"
    assert added["Digest"] == make_digest(BODY)
    parsed = cavage.parse_signature_header(added["Signature"])
    assert parsed.key_id == KEY_ID
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date", "digest")
    cavage.verify_request(
        parsed,
        "POST",
        "/users/bob/inbox",
        _headers(added),
        load_public_key(RSA_PUBLIC),
        now=NOW + timedelta(seconds=5),
        body=BODY,
        required_headers=("(request-target)", "host", "date", "digest"),
    )


def test_cavage_signature_does_not_verify_for_another_request() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    added = signer.sign("POST", URL, {}, BODY, fmt="cavage", now=NOW)
    parsed = cavage.parse_signature_header(added["Signature"])
    with pytest.raises(SignatureInvalid):
        cavage.verify_request(
            parsed,
            "POST",
            "/users/eve/inbox",
            _headers(added),
            load_public_key(RSA_PUBLIC),
            now=NOW,
        )
    with pytest.raises(SignatureError):
        cavage.verify_request(
            parsed,
            "POST",
            "/users/bob/inbox",
            _headers(added),
            load_public_key(RSA_PUBLIC),
            now=NOW,
            body=b'{"type": "Block"}',
        )


def test_cavage_get_without_body_and_with_a_port() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    url = "https://remote.example:8443/users/bob?page=1"
    added = signer.sign("GET", url, {}, None, fmt="cavage", now=NOW)
    assert set(added) == {"Date", "Host", "Signature"}
    assert added["Host"] == "remote.example:8443"
    parsed = cavage.parse_signature_header(added["Signature"])
    assert parsed.headers == ("(request-target)", "host", "date")
    cavage.verify_request(
        parsed, "GET", "/users/bob?page=1", added, load_public_key(RSA_PUBLIC), now=NOW
    )


def test_cavage_ed25519_uses_hs2019() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=ED_PRIVATE)
    added = signer.sign("POST", URL, {}, BODY, fmt="cavage", now=NOW)
    parsed = cavage.parse_signature_header(added["Signature"])
    assert parsed.algorithm == "hs2019"
    cavage.verify_request(
        parsed, "POST", "/users/bob/inbox", added, load_public_key(ED_PUBLIC), now=NOW, body=BODY
    )


def _cavage_reference(
    signer: Signer, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> dict[str, str]:
    """What ``Signer.sign`` gave before its cavage branch was specialised: the headers
    built generically and signed by :func:`cavage.sign_request`."""
    lower = {name.lower(): value for name, value in headers.items()}
    added = {"Date": "Sat, 01 Mar 2025 12:00:00 GMT"}
    added["Host"] = lower.get("host") or url_authority(url)
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        added["Digest"] = make_digest(body)
        signed.append("digest")
    added["Signature"] = cavage.sign_request(
        method.upper(),
        url,
        {**lower, **{k.lower(): v for k, v in added.items()}},
        key_id=signer.key_id,
        private_key=signer._key,
        algorithm="rsa-sha256" if signer.is_rsa else "hs2019",
        signed_headers=signed,
    )
    return added


@pytest.mark.parametrize("private", [RSA_PRIVATE, ED_PRIVATE])
@pytest.mark.parametrize(
    ("method", "url", "headers", "body"),
    [
        ("POST", URL, {"Content-Type": "application/activity+json"}, BODY),
        ("post", "https://Remote.Example:443/inbox?x=1&y=%20#frag", {}, BODY),
        ("POST", "http://127.0.0.1:8080", {}, b""),
        ("GET", "https://[2001:db8::1]:8443/a/b/", {}, None),
        ("GET", "https://remote.example/users/bob", {"HOST": " other.example\t"}, None),
        ("POST", "/relative/inbox", {"Host": "remote.example"}, BODY),
        ("POST", URL, {"Date": "Mon, 01 Jan 2001 00:00:00 GMT", "digest": "x"}, BODY),
        ("POST", URL, {"Date ": "trimmed into date", "Host": "remote.example"}, BODY),
    ],
)
def test_cavage_signing_is_unchanged(
    private: str, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=private)
    expected = _cavage_reference(signer, method, url, headers, body)
    assert signer.sign(method, url, headers, body, fmt="cavage", now=NOW) == expected


def test_cavage_date_is_now_by_default() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    before = datetime.now(UTC).replace(microsecond=0)
    added = signer.sign("POST", URL, {}, BODY, fmt="cavage")
    after = datetime.now(UTC)
    assert before <= parsedate_to_datetime(added["Date"]) <= after


def test_a_key_id_unfit_for_a_signature_header_is_refused() -> None:
    signer = Signer(key_id='https://x.example/"key"', private_key_pem=RSA_PRIVATE)
    with pytest.raises(ValueError, match="key_id"):
        signer.sign("POST", URL, {}, BODY, fmt="cavage")


@pytest.mark.parametrize(
    ("private", "public", "alg"),
    [(RSA_PRIVATE, RSA_PUBLIC, "rsa-v1_5-sha256"), (ED_PRIVATE, ED_PUBLIC, "ed25519")],
)
def test_rfc9421_post(private: str, public: str, alg: str) -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=private)
    added = signer.sign("POST", URL, {}, BODY, fmt="rfc9421", now=NOW)
    assert set(added) == {"Date", "Content-Digest", "Signature-Input", "Signature"}
    assert added["Content-Digest"] == make_content_digest(BODY)
    parsed = rfc9421.parse_signature(added)
    assert parsed.components == ("@method", "@target-uri", "content-digest")
    assert parsed.keyid == KEY_ID and parsed.alg == alg
    assert parsed.created == int(NOW.timestamp())
    key = load_public_key(public)
    rfc9421.verify_request(parsed, "POST", URL, added, key, now=NOW, body=BODY)
    with pytest.raises(SignatureInvalid):
        rfc9421.verify_request(parsed, "POST", URL + "x", added, key, now=NOW, body=BODY)


def test_rfc9421_get() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    added = signer.sign("GET", URL, {}, None, fmt="rfc9421", now=NOW)
    assert "Content-Digest" not in added
    parsed = rfc9421.parse_signature(added)
    assert parsed.components == ("@method", "@target-uri")
    rfc9421.verify_request(parsed, "GET", URL, added, load_public_key(RSA_PUBLIC), now=NOW)


def test_signer_keeps_the_private_key_out_of_repr() -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)
    assert "PRIVATE" not in repr(signer) and KEY_ID in repr(signer)


def test_signer_refuses_unusable_keys() -> None:
    with pytest.raises(ValueError, match="PEM"):
        Signer(key_id=KEY_ID, private_key_pem="not a key")
    ec_pem = private_key_to_pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="RSA or Ed25519"):
        Signer(key_id=KEY_ID, private_key_pem=ec_pem)


# --- double-knocking against a real server ----------------------------------------------


class Inbox:
    """A remote inbox that verifies with fedinet.crypto and accepts only some formats."""

    def __init__(self, accepts: set[str]) -> None:
        self.accepts = accepts
        self.received: list[str] = []

    def _verify(self, request: Request, body: bytes) -> str:
        key = load_public_key(RSA_PUBLIC)
        now = datetime.now(UTC)
        if "signature-input" in request.headers:
            parsed = rfc9421.parse_signature(request.headers.items())
            rfc9421.verify_request(
                parsed,
                request.method,
                str(request.url),
                request.headers.items(),
                key,
                now=now,
                body=body,
            )
            return "rfc9421"
        parsed_cavage = cavage.parse_signature_header(request.headers["signature"])
        cavage.verify_request(
            parsed_cavage,
            request.method,
            request.url.path,
            request.headers.items(),
            key,
            now=now,
            body=body,
            required_headers=("(request-target)", "host", "date", "digest"),
        )
        return "cavage"

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        fmt = self._verify(request, body)
        self.received.append(fmt)
        return Response(status_code=202 if fmt in self.accepts else 401)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/inbox", self.endpoint, methods=["POST"])])


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as http:
        yield http


async def _post(client: httpx.AsyncClient, base: str, pool: Pool | None) -> httpx.Response:
    return await signed_request(
        client,
        "POST",
        f"{base}/inbox",
        signer=Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE),
        body=BODY,
        headers={"Content-Type": "application/activity+json"},
        db=pool,
        allow_private=True,
    )


async def test_double_knock_learns_rfc9421_and_remembers_it(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    inbox = Inbox({"rfc9421"})
    async with serve(inbox.app()) as base:
        domain = base.removeprefix("http://")
        assert await servers_db.get_signature_format(pool, domain) == "cavage"
        assert (await _post(client, base, pool)).status_code == 202
        assert inbox.received == ["cavage", "rfc9421"]
        assert await servers_db.get_signature_format(pool, domain) == "rfc9421"
        # the next request goes straight to RFC 9421: one request, not two
        assert (await _post(client, base, pool)).status_code == 202
        assert inbox.received == ["cavage", "rfc9421", "rfc9421"]


async def test_double_knock_goes_back_to_cavage(client: httpx.AsyncClient, pool: Pool) -> None:
    inbox = Inbox({"cavage"})
    async with serve(inbox.app()) as base:
        domain = base.removeprefix("http://")
        await servers_db.set_signature_format(pool, domain, "rfc9421")
        assert (await _post(client, base, pool)).status_code == 202
        assert inbox.received == ["rfc9421", "cavage"]
        assert await servers_db.get_signature_format(pool, domain) == "cavage"


async def test_a_failed_knock_is_not_remembered(client: httpx.AsyncClient, pool: Pool) -> None:
    inbox = Inbox(set())
    async with serve(inbox.app()) as base:
        assert (await _post(client, base, pool)).status_code == 401
        assert inbox.received == ["cavage", "rfc9421"]  # retried once, not more
        assert await servers_db.get_server(pool, base.removeprefix("http://")) is None


async def test_without_a_database_every_request_knocks(client: httpx.AsyncClient) -> None:
    inbox = Inbox({"rfc9421"})
    async with serve(inbox.app()) as base:
        await _post(client, base, None)
        await _post(client, base, None)
    assert inbox.received == ["cavage", "rfc9421", "cavage", "rfc9421"]


async def test_signed_request_is_guarded() -> None:
    inbox = Inbox({"cavage"})
    async with (
        serve(inbox.app()) as base,
        httpx.AsyncClient(transport=GuardedTransport(allow_private=False)) as client,
    ):
        port = base.rsplit(":", 1)[1]
        for url in (f"{base}/inbox", f"https://localhost:{port}/inbox"):
            with pytest.raises(UnsafeAddress):
                await signed_request(
                    client,
                    "POST",
                    url,
                    signer=Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE),
                    body=BODY,
                )
    assert inbox.received == []


async def test_signed_request_failures_are_remote_fetch_errors(client: httpx.AsyncClient) -> None:
    release = asyncio.Event()

    async def huge(request: Request) -> Response:
        return Response(b"x" * 5000, status_code=202)

    async def slow(request: Request) -> Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), 5)
        return Response(status_code=202)

    async def small(request: Request) -> Response:
        return Response(b'{"ok": true}', status_code=202, media_type="application/json")

    app = Starlette(
        routes=[
            Route("/huge", huge, methods=["POST"]),
            Route("/slow", slow, methods=["POST"]),
            Route("/small", small, methods=["POST"]),
        ]
    )
    signer = Signer(key_id=KEY_ID, private_key_pem=RSA_PRIVATE)

    async def post(url: str, **kwargs: Any) -> httpx.Response:
        return await signed_request(
            client, "POST", url, signer=signer, body=BODY, allow_private=True, **kwargs
        )

    async with serve(app) as base:
        response = await post(f"{base}/small", max_response_bytes=100)
        assert response.status_code == 202 and response.json() == {"ok": True}
        with pytest.raises(RemoteFetchError) as info:
            await post(f"{base}/huge", max_response_bytes=1000)
        assert info.value.reason == "too_large"
        with pytest.raises(RemoteFetchError) as info:
            await post(f"{base}/slow", time_limit=0.3)
        assert info.value.reason == "timeout"
        release.set()
    with pytest.raises(RemoteFetchError) as info:
        await post("http://127.0.0.1:9/inbox")
    assert info.value.reason == "unreachable"
