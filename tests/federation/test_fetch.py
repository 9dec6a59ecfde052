from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from fedinet.crypto import cavage, rfc9421
from fedinet.crypto.keys import generate_rsa_keypair, load_public_key
from fedinet.errors import FedinetError, RemoteFetchError
from fedinet.federation.fetch import AP_ACCEPT, fetch_json, webfinger
from fedinet.federation.signing import Signer
from fedinet.federation.transport import GuardedTransport
from tests.federation.test_transport import serve

AP = "application/activity+json"
KEY_ID = "https://fedinet.test/actor#main-key"
PRIVATE_PEM, PUBLIC_PEM = generate_rsa_keypair()


@dataclass
class Peer:
    """A remote server on loopback; it checks signatures on GETs that carry one."""

    base: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, request: Request) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "path": request.url.path,
            "accept": request.headers.get("accept"),
            "verified": None,
        }
        if "signature" in request.headers:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            parsed = cavage.parse_signature_header(request.headers["signature"])
            assert parsed.key_id == KEY_ID
            cavage.verify_request(
                parsed,
                request.method,
                target,
                request.headers.items(),
                load_public_key(PUBLIC_PEM),
                now=datetime.now(UTC),
                required_headers=("(request-target)", "host", "date"),
            )
            entry["verified"] = parsed.headers
        self.seen.append(entry)
        return entry

    def app(self) -> Starlette:
        def doc(request: Request, **extra: Any) -> dict[str, Any]:
            return {"id": f"{self.base}{request.url.path}", "type": "Person", **extra}

        async def actor(request: Request) -> Response:
            self.record(request)
            return JSONResponse(doc(request, name="Alice"), media_type=AP)

        async def ld_json(request: Request) -> Response:
            media = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
            return JSONResponse(doc(request), media_type=media)

        async def plain_json(request: Request) -> Response:
            return JSONResponse(doc(request), media_type="application/json")

        async def streamed_big(request: Request) -> Response:
            async def chunks() -> AsyncIterator[bytes]:
                yield b'{"id": "' + self.base.encode() + b'/big", "x": "'
                for _ in range(64):
                    yield b"a" * 1024
                yield b'"}'

            return StreamingResponse(chunks(), media_type=AP)  # chunked, no Content-Length

        async def declared_big(request: Request) -> Response:
            body = json.dumps(doc(request, x="a" * 2000)).encode()
            return Response(body, media_type=AP)

        async def html(request: Request) -> Response:
            return Response("<html></html>", media_type="text/html")

        async def array(request: Request) -> Response:
            return Response("[1, 2]", media_type=AP)

        async def garbage(request: Request) -> Response:
            return Response('{"id": ', media_type=AP)

        async def deep(request: Request) -> Response:
            return Response("[" * 100_000, media_type=AP)

        async def mismatch(request: Request) -> Response:
            return JSONResponse({"id": "https://evil.example/users/a"}, media_type=AP)

        async def no_id(request: Request) -> Response:
            return JSONResponse({"type": "Note"}, media_type=AP)

        async def status(request: Request) -> Response:
            return Response("", status_code=int(request.path_params["code"]))

        async def hop(request: Request) -> Response:
            left = int(request.path_params["n"])
            target = "/users/alice" if left == 0 else f"/hop/{left - 1}"
            return RedirectResponse(target, status_code=301)

        async def slow(request: Request) -> Response:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 5)
            return JSONResponse(doc(request), media_type=AP)

        async def webfinger_route(request: Request) -> Response:
            resource = request.query_params["resource"]
            user = resource.removeprefix("acct:").split("@")[0]
            self.seen.append({"path": request.url.path, "resource": resource})
            links = [
                {"rel": "http://webfinger.net/rel/profile-page", "href": f"{self.base}/@x"},
                {"rel": "self", "type": "text/html", "href": f"{self.base}/@x"},
            ]
            if user == "alice":
                links.append(
                    {
                        "rel": "self",
                        "type": 'application/ld+json;profile="https://www.w3.org/ns/activitystreams"',
                        "href": f"{self.base}/users/alice",
                    }
                )
            return JSONResponse(
                {"subject": resource, "links": links}, media_type="application/jrd+json"
            )

        return Starlette(
            routes=[
                Route("/users/alice", actor),
                Route("/ld", ld_json),
                Route("/json", plain_json),
                Route("/big", streamed_big),
                Route("/declared", declared_big),
                Route("/html", html),
                Route("/array", array),
                Route("/garbage", garbage),
                Route("/deep", deep),
                Route("/mismatch", mismatch),
                Route("/no-id", no_id),
                Route("/status/{code:int}", status),
                Route("/hop/{n:int}", hop),
                Route("/slow", slow),
                Route("/.well-known/webfinger", webfinger_route),
            ]
        )


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    state = Peer()
    async with serve(state.app()) as base:
        state.base = base
        yield state
        state.release.set()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = GuardedTransport(allow_private=True)
    async with httpx.AsyncClient(transport=transport, timeout=5) as http:
        yield http


async def fetch(client: httpx.AsyncClient, url: str, **kwargs: Any) -> Any:
    return await fetch_json(client, url, signer=None, allow_private=True, **kwargs)


async def refused(client: httpx.AsyncClient, url: str, reason: str, **kwargs: Any) -> str:
    with pytest.raises(RemoteFetchError) as info:
        await fetch(client, url, **kwargs)
    assert info.value.reason == reason, str(info.value)
    return str(info.value)


async def test_signed_fetch_happy_path(client: httpx.AsyncClient, peer: Peer) -> None:
    signer = Signer(key_id=KEY_ID, private_key_pem=PRIVATE_PEM)
    fetched = await fetch_json(
        client, f"{peer.base}/users/alice", signer=signer, allow_private=True
    )
    # https was tried first and failed (the peer speaks plain http), then http worked
    assert fetched.url == f"{peer.base}/users/alice"
    assert fetched.document == {"id": fetched.url, "type": "Person", "name": "Alice"}
    assert fetched.content_type == AP
    [entry] = peer.seen
    assert entry["accept"] == AP_ACCEPT
    assert entry["verified"] == ("(request-target)", "host", "date")


async def test_unsigned_fetch_sends_no_signature(client: httpx.AsyncClient, peer: Peer) -> None:
    await fetch(client, f"{peer.base}/users/alice")
    assert peer.seen[0]["verified"] is None


async def test_signed_fetch_knocks_again_in_rfc9421(client: httpx.AsyncClient) -> None:
    formats: list[str] = []

    async def actor(request: Request) -> Response:
        if "signature-input" not in request.headers:
            formats.append("cavage")
            return Response("", status_code=401)
        parsed = rfc9421.parse_signature(request.headers.items())
        rfc9421.verify_request(
            parsed,
            request.method,
            str(request.url),
            request.headers.items(),
            load_public_key(PUBLIC_PEM),
            now=datetime.now(UTC),
        )
        formats.append("rfc9421")
        return JSONResponse({"id": str(request.url)}, media_type=AP)

    async with serve(Starlette(routes=[Route("/a", actor)])) as base:
        signer = Signer(key_id=KEY_ID, private_key_pem=PRIVATE_PEM)
        fetched = await fetch_json(client, f"{base}/a", signer=signer, allow_private=True)
    assert fetched.document["id"] == f"{base}/a"
    assert formats == ["cavage", "rfc9421"]


@pytest.mark.parametrize("path", ["/ld", "/json"])
async def test_other_activitypub_media_types(
    client: httpx.AsyncClient, peer: Peer, path: str
) -> None:
    fetched = await fetch(client, f"{peer.base}{path}")
    assert fetched.document["id"] == f"{peer.base}{path}"


async def test_streamed_body_over_the_limit_is_refused(
    client: httpx.AsyncClient, peer: Peer
) -> None:
    message = await refused(client, f"{peer.base}/big", "too_large", max_bytes=16_384)
    assert "sent more than the 16384 bytes" in message
    # within the limit, the same document is fine
    fetched = await fetch(client, f"{peer.base}/big", max_bytes=100_000, expect_id_host=False)
    assert len(fetched.document["x"]) == 64 * 1024


async def test_content_length_over_the_limit_is_refused(
    client: httpx.AsyncClient, peer: Peer
) -> None:
    message = await refused(client, f"{peer.base}/declared", "too_large", max_bytes=1000)
    assert "more than the 1000 allowed" in message


async def test_wrong_content_type_is_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    message = await refused(client, f"{peer.base}/html", "bad_content_type")
    assert "text/html" in message


@pytest.mark.parametrize(
    ("path", "message"),
    [("/array", "not an object"), ("/garbage", "valid JSON"), ("/deep", "valid JSON")],
)
async def test_bad_json_is_refused(
    client: httpx.AsyncClient, peer: Peer, path: str, message: str
) -> None:
    assert message in await refused(client, f"{peer.base}{path}", "bad_document")


async def test_id_on_another_host_is_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    message = await refused(client, f"{peer.base}/mismatch", "id_mismatch")
    assert "id host does not match" in message
    fetched = await fetch(client, f"{peer.base}/mismatch", expect_id_host=False)
    assert fetched.document["id"] == "https://evil.example/users/a"


async def test_missing_id_is_refused(client: httpx.AsyncClient, peer: Peer) -> None:
    assert "has no id" in await refused(client, f"{peer.base}/no-id", "bad_document")


@pytest.mark.parametrize(
    ("code", "reason"),
    [(404, "not_found"), (410, "gone"), (500, "http_error"), (403, "http_error")],
)
async def test_error_statuses(
    client: httpx.AsyncClient, peer: Peer, code: int, reason: str
) -> None:
    message = await refused(client, f"{peer.base}/status/{code}", reason)
    assert str(code) in message


async def test_redirects_are_followed_up_to_the_limit(
    client: httpx.AsyncClient, peer: Peer
) -> None:
    fetched = await fetch(client, f"{peer.base}/hop/2")  # three redirects
    assert fetched.url == f"{peer.base}/users/alice"
    await refused(client, f"{peer.base}/hop/3", "too_many_redirects")
    await refused(client, f"{peer.base}/hop/0", "too_many_redirects", max_redirects=0)


async def test_a_slow_server_times_out(client: httpx.AsyncClient, peer: Peer) -> None:
    started = asyncio.get_running_loop().time()
    await refused(client, f"{peer.base}/slow", "timeout", time_limit=0.5)
    assert asyncio.get_running_loop().time() - started < 3


async def test_read_timeout_of_the_client_is_a_timeout(peer: Peer) -> None:
    transport = GuardedTransport(allow_private=True)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, read=0.3)) as c:
        await refused(c, f"{peer.base}/slow", "timeout")


async def test_nothing_listening_is_unreachable(client: httpx.AsyncClient) -> None:
    await refused(client, "http://127.0.0.1:9/users/a", "unreachable")


async def test_without_private_networks_the_fetch_is_refused(
    client: httpx.AsyncClient, peer: Peer
) -> None:
    with pytest.raises(RemoteFetchError) as info:
        await fetch_json(client, f"{peer.base}/users/alice", signer=None, allow_private=False)
    assert info.value.reason == "unsafe_address"
    assert peer.seen == []


async def test_webfinger(client: httpx.AsyncClient, peer: Peer) -> None:
    host = peer.base.removeprefix("http://")
    assert await webfinger(client, f"alice@{host}", allow_private=True) == (
        f"{peer.base}/users/alice"
    )
    assert await webfinger(client, f"@alice@{host}", allow_private=True) == (
        f"{peer.base}/users/alice"
    )
    assert peer.seen[0]["resource"] == f"acct:alice@{host}"


async def test_webfinger_without_an_actor_link(client: httpx.AsyncClient, peer: Peer) -> None:
    host = peer.base.removeprefix("http://")
    with pytest.raises(RemoteFetchError, match="no ActivityPub actor link") as info:
        await webfinger(client, f"bob@{host}", allow_private=True)
    assert info.value.reason == "not_found"


@pytest.mark.parametrize("acct", ["alice", "alice@", "@example.com", "a@b/c", "a@b c"])
async def test_webfinger_refuses_bad_addresses(client: httpx.AsyncClient, acct: str) -> None:
    with pytest.raises(FedinetError, match="not a user@host"):
        await webfinger(client, acct, allow_private=True)


async def test_mock_peer_sending_a_huge_gzip_body_is_capped() -> None:
    """A misbehaving public peer: the cap counts decoded bytes, not what was on the wire."""
    body = gzip.compress(b'{"id": "https://peer.example/a", "x": "' + b"a" * 5_000_000 + b'"}')

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=body, headers={"Content-Type": AP, "Content-Encoding": "gzip"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as mock:
        with pytest.raises(RemoteFetchError) as info:
            await fetch_json(mock, "https://peer.example/a", signer=None, allow_private=False)
    assert info.value.reason == "too_large"
    assert len(body) < 1_048_576  # small on the wire
