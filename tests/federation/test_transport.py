from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from fedinet.config import Settings
from fedinet.errors import RemoteFetchError, UnsafeAddress
from fedinet.federation.fetch import fetch_json
from fedinet.federation.transport import (
    GuardedTransport,
    address_kind,
    candidate_urls,
    is_public_address,
    make_http_client,
    make_ssl_context,
    url_authority,
)

# --- a real HTTP server on loopback, in this event loop (shared by the federation tests) --


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, **ssl_options: Any) -> AsyncIterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 and a free port; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="critical", lifespan="off", **ssl_options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the loopback server stopped before starting")
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if ssl_options else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def recording_app(hits: list[str]) -> Starlette:
    async def anything(request: Request) -> Response:
        hits.append(request.url.path)
        return PlainTextResponse("secret")

    return Starlette(routes=[Route("/{path:path}", anything)])


def guarded_client(*, allow_private: bool, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=allow_private), timeout=5, **kwargs
    )


# --- is_public_address -------------------------------------------------------------------

UNSAFE = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared (carrier-grade NAT)"),
    ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("fe80::1", "link-local"),
    ("fe80::1%2", "link-local"),
    ("ff02::1", "multicast"),
    ("224.0.0.251", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("255.255.255.255", "reserved"),
    ("240.0.0.1", "reserved"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("192.0.2.7", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("2001::1", "reserved"),  # Teredo
]


@pytest.mark.parametrize(("ip", "kind"), UNSAFE)
def test_unsafe_addresses_are_not_public(ip: str, kind: str) -> None:
    assert not is_public_address(ip)
    assert not is_public_address(ipaddress.ip_address(ip))
    assert address_kind(ip) == kind


@pytest.mark.parametrize(
    "ip", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses(ip: str) -> None:
    assert is_public_address(ip)
    assert address_kind(ip) is None


# --- the guard at connect time ----------------------------------------------------------


def _url_for(ip: str) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:9/anything"


@pytest.mark.parametrize("ip", [ip for ip, _ in UNSAFE if "%" not in ip])
async def test_guard_refuses_unsafe_addresses_at_connect(ip: str) -> None:
    async with guarded_client(allow_private=False) as client:
        with pytest.raises(UnsafeAddress, match="refusing to connect"):
            await client.get(_url_for(ip))


@pytest.mark.parametrize("host", ["2130706433", "0x7f.0.0.1", "127.1", "017700000001"])
async def test_guard_judges_the_resolved_address_not_the_spelling(host: str) -> None:
    async with guarded_client(allow_private=False) as client:
        with pytest.raises(UnsafeAddress, match=rf"{host} \(127\.0\.0\.1\): a loopback"):
            await client.get(f"http://{host}:9/")


async def test_guard_refuses_a_real_loopback_server() -> None:
    hits: list[str] = []
    async with serve(recording_app(hits)) as base, guarded_client(allow_private=False) as client:
        with pytest.raises(UnsafeAddress, match="loopback"):
            await client.get(f"{base}/secret")
        port = base.rsplit(":", 1)[1]
        with pytest.raises(UnsafeAddress, match=r"localhost \(.*\): a loopback address"):
            await client.get(f"http://localhost:{port}/secret")
    assert hits == []


async def test_guard_allows_private_networks_when_configured() -> None:
    hits: list[str] = []
    async with serve(recording_app(hits)) as base, guarded_client(allow_private=True) as client:
        response = await client.get(f"{base}/one")
        assert response.status_code == 200 and response.text == "secret"
        port = base.rsplit(":", 1)[1]
        # localhost may resolve to ::1 first, where nothing listens: the next address is tried
        response = await client.get(f"http://localhost:{port}/two")
        assert response.status_code == 200
    assert hits == ["/one", "/two"]


@pytest.mark.parametrize("ip", ["169.254.169.254", "fe80::1", "ff02::1", "0.0.0.0", "224.0.0.1"])
async def test_some_addresses_are_refused_even_with_private_networks(ip: str) -> None:
    async with guarded_client(allow_private=True) as client:
        with pytest.raises(UnsafeAddress):
            await client.get(_url_for(ip))


async def test_resolve_overrides_answer_before_dns_and_are_still_vetted() -> None:
    """FEDINET_RESOLVE (tests): the mapped address is used, and judged like DNS's."""
    hits: list[str] = []
    async with serve(recording_app(hits)) as base:
        port = base.rsplit(":", 1)[1]
        url = f"http://peer.fedinet.test:{port}/mapped"
        overrides = {"peer.fedinet.test": "127.0.0.1"}
        allowed = httpx.AsyncClient(
            transport=GuardedTransport(allow_private=True, resolve=overrides)
        )
        async with allowed:
            assert (await allowed.get(url)).status_code == 200
        refused = httpx.AsyncClient(
            transport=GuardedTransport(allow_private=False, resolve=overrides)
        )
        async with refused:
            with pytest.raises(UnsafeAddress, match=r"peer\.fedinet\.test \(127\.0\.0\.1\)"):
                await refused.get(url)
    assert hits == ["/mapped"]


async def test_an_unresolvable_host_is_a_connect_error() -> None:
    async with guarded_client(allow_private=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://does-not-exist.invalid/")


# --- redirects: every hop is vetted again -----------------------------------------------


def _public_peer_redirecting_to(location: str) -> httpx.MockTransport:
    """A misbehaving public server that redirects its actor to ``location``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    return httpx.MockTransport(handler)


async def test_redirect_from_a_public_peer_to_a_loopback_ip_is_refused() -> None:
    hits: list[str] = []
    async with serve(recording_app(hits)) as base:
        peer = _public_peer_redirecting_to(f"{base}/secret")
        async with guarded_client(
            allow_private=False, mounts={"all://peer.example": peer}
        ) as client:
            with pytest.raises(UnsafeAddress, match=r"127\.0\.0\.1"):
                await fetch_json(
                    client, "https://peer.example/users/a", signer=None, allow_private=False
                )
    assert hits == []


async def test_redirect_to_a_name_resolving_to_loopback_is_refused_at_connect() -> None:
    hits: list[str] = []
    async with serve(recording_app(hits)) as base:
        port = base.rsplit(":", 1)[1]
        peer = _public_peer_redirecting_to(f"https://localhost:{port}/secret")
        async with guarded_client(
            allow_private=False, mounts={"all://peer.example": peer}
        ) as client:
            with pytest.raises(UnsafeAddress, match=r"localhost \("):
                await fetch_json(
                    client, "https://peer.example/users/a", signer=None, allow_private=False
                )
    assert hits == []


async def test_redirect_from_an_allowed_loopback_server_to_metadata_is_refused() -> None:
    async def redirect(request: Request) -> Response:
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

    app = Starlette(routes=[Route("/actor", redirect)])
    async with serve(app) as base, guarded_client(allow_private=True) as client:
        with pytest.raises(UnsafeAddress, match="link-local"):
            await fetch_json(client, f"{base}/actor", signer=None, allow_private=True)


# --- the scheme policy ------------------------------------------------------------------


async def test_public_hosts_are_https_only() -> None:
    assert await candidate_urls("https://example.com/u/a", False) == ["https://example.com/u/a"]
    assert await candidate_urls("http://example.com/u/a?x=1", False) == [
        "https://example.com/u/a?x=1"
    ]
    assert await candidate_urls("http://example.com:80/a", False) == ["https://example.com/a"]
    assert await candidate_urls("http://example.com:8080/a", False) == [
        "https://example.com:8080/a"
    ]
    public_ip = "https://93.184.215.14/a"
    assert await candidate_urls(public_ip, True) == [public_ip]


async def test_private_hosts_try_https_then_http_when_allowed() -> None:
    assert await candidate_urls("http://127.0.0.1:8001/a", True) == [
        "https://127.0.0.1:8001/a",
        "http://127.0.0.1:8001/a",
    ]
    assert await candidate_urls("https://[::1]:8001/a", True) == [
        "https://[::1]:8001/a",
        "http://[::1]:8001/a",
    ]
    assert await candidate_urls("http://localhost:8001/a", True) == [
        "https://localhost:8001/a",
        "http://localhost:8001/a",
    ]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8001/a", "https://10.0.0.1/", "https://[::ffff:127.0.0.1]/"]
)
async def test_private_literals_are_refused_before_connecting(url: str) -> None:
    with pytest.raises(UnsafeAddress):
        await candidate_urls(url, False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("https:///a", "has no host"),
        ("https://user:pw@example.com/a", "credentials"),
        ("https://example.com:99999/a", "port"),
    ],
)
async def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(RemoteFetchError, match=message) as info:
        await candidate_urls(url, True)
    assert info.value.reason == "bad_url"


def test_url_authority() -> None:
    assert url_authority("https://Example.COM/a") == "example.com"
    assert url_authority("https://example.com:443/a") == "example.com"
    assert url_authority("http://example.com:8443/a") == "example.com:8443"
    assert url_authority("http://[::1]:80/a") == "[::1]"


# --- the shared client ------------------------------------------------------------------


def _settings(tmp_path: Path, *, allow_private: bool) -> Settings:
    return Settings(
        url="https://fedinet.test",
        database_url=None,
        data_dir=tmp_path,
        secret_key="k" * 40,
        allow_private_networks=allow_private,
    )


async def test_make_http_client(tmp_path: Path) -> None:
    hits: list[str] = []
    async with make_http_client(_settings(tmp_path, allow_private=False)) as client:
        assert client.headers["User-Agent"].startswith("fedinet/")
        assert client.headers["User-Agent"].endswith("(+https://fedinet.test/)")
        assert client.follow_redirects is False
        assert client.timeout.connect == 5.0 and client.timeout.read == 10.0
        assert client.trust_env is False
        async with serve(recording_app(hits)) as base:
            with pytest.raises(UnsafeAddress):
                await client.get(f"{base}/secret")
    async with (
        make_http_client(_settings(tmp_path, allow_private=True)) as client,
        serve(recording_app(hits)) as base,
    ):
        assert (await client.get(f"{base}/ok")).status_code == 200
    assert hits == ["/ok"]


def _make_ca_and_cert(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for the name ``localhost`` (no IP SAN)."""
    now = dt.datetime.now(dt.UTC)

    def build(
        subject: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey, signer: Any
    ) -> x509.CertificateBuilder:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        build("fedinet test CA", None, ca_key, None)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        build("localhost", ca_cert.subject, key, ca_key)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


async def test_tls_honours_ssl_cert_file_and_checks_the_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = _make_ca_and_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    context = make_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    hits: list[str] = []
    app = recording_app(hits)
    async with (
        serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as base,
        make_http_client(_settings(tmp_path, allow_private=True)) as client,
    ):
        port = base.rsplit(":", 1)[1]
        # The guard connects to the vetted IP, yet TLS checks the certificate for the name.
        response = await client.get(f"https://localhost:{port}/tls")
        assert response.status_code == 200
        # The certificate does not name 127.0.0.1, so that is refused.
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.get(f"https://127.0.0.1:{port}/ip")
    assert hits == ["/tls"]
    monkeypatch.delenv("SSL_CERT_FILE")
    async with (
        serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as base,
        make_http_client(_settings(tmp_path, allow_private=True)) as client,
    ):
        port = base.rsplit(":", 1)[1]
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.get(f"https://localhost:{port}/untrusted")
