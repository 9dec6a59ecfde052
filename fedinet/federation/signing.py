"""Signing outgoing requests, and double-knocking between the two signature formats.

Most of the fediverse verifies draft-cavage ``Signature`` headers; newer servers also (or
only) verify RFC 9421 HTTP Message Signatures. A request is signed in the format the peer is
known to accept (``cavage`` until learned otherwise). If the peer answers 401 or 403, it is
signed again in the other format and sent once more; when that works the format is
remembered for the peer's domain in the ``servers`` table.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedinet.crypto import cavage, rfc9421
from fedinet.crypto._common import combined_value
from fedinet.crypto.digest import make_content_digest, make_digest
from fedinet.crypto.keys import PrivateKey, load_private_key
from fedinet.db import servers as servers_db
from fedinet.db.servers import SignatureFormat
from fedinet.db.types import Executor
from fedinet.errors import RemoteFetchError
from fedinet.federation.transport import candidate_urls, read_capped, url_authority

__all__ = [
    "SignatureFormat",
    "Signer",
    "http_date",
    "other_format",
    "send_signed",
    "signed_request",
]

_KNOCK_STATUSES = frozenset({401, 403})
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
# Names that the cavage signing string takes from the headers: a caller's header whose name
# only matches one of them after trimming takes the general path (it would be combined).
_CAVAGE_NAMES = frozenset({"host", "date", "digest"})
_date_now: tuple[int, str] = (-1, "")


def other_format(fmt: SignatureFormat) -> SignatureFormat:
    return "rfc9421" if fmt == "cavage" else "cavage"


def http_date(now: datetime) -> str:
    """RFC 7231 IMF-fixdate: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return format_datetime(now.astimezone(UTC), usegmt=True)


def _http_date_now() -> str:
    """``http_date(datetime.now(UTC))``, formatted once per second."""
    global _date_now
    second = int(time.time())
    cached = _date_now
    if cached[0] != second:
        cached = (second, http_date(datetime.fromtimestamp(second, UTC)))
        _date_now = cached
    return cached[1]


def _request_target(url: str) -> str:
    """The path and query of ``url`` as draft-cavage's ``(request-target)`` takes them."""
    if "://" not in url:
        return url
    parts = urlsplit(url)  # lru-cached by the standard library
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Signer:
    """An actor's signing key. ``private_key_pem`` is kept out of ``repr``."""

    key_id: str
    private_key_pem: str = field(repr=False)
    _key: PrivateKey = field(init=False, repr=False, compare=False)
    _cavage_prefix: str | None = field(init=False, repr=False, compare=False)
    """``keyId="…",algorithm="…",headers="`` of every cavage signature, or ``None`` when
    the key id cannot go in one (:func:`cavage.sign_request` then says why)."""

    def __post_init__(self) -> None:
        key = load_private_key(self.private_key_pem)
        if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise ValueError("outgoing requests are signed with RSA or Ed25519 keys only")
        object.__setattr__(self, "_key", key)
        prefix = None
        if '"' not in self.key_id and all(ord(c) >= 0x20 for c in self.key_id):
            algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
            prefix = f'keyId="{self.key_id}",algorithm="{algorithm}",headers="'
        object.__setattr__(self, "_cavage_prefix", prefix)

    @property
    def is_rsa(self) -> bool:
        return isinstance(self._key, rsa.RSAPrivateKey)

    def sign(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        fmt: SignatureFormat,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """Headers to add to the request so it is signed in ``fmt``.

        ``url`` is the absolute URL exactly as sent. ``headers`` are the request's headers
        (a ``Host`` there wins over the URL's). ``cavage``: ``Date``, ``Host``, ``Digest``
        (with a body) and ``Signature`` over ``(request-target) host date [digest]``.
        ``rfc9421``: ``Date``, ``Content-Digest`` (with a body), ``Signature-Input`` and
        ``Signature`` over ``@method @target-uri [content-digest]`` with ``created``.
        """
        if fmt == "cavage" and self._cavage_prefix is not None:
            fast = self._sign_cavage(method, url, headers, body, now)
            if fast is not None:
                return fast
        now = datetime.now(UTC) if now is None else now
        method = method.upper()
        lower = {name.lower(): value for name, value in headers.items()}
        added = {"Date": http_date(now)}
        if fmt == "cavage":
            added["Host"] = lower.get("host") or url_authority(url)
            signed = ["(request-target)", "host", "date"]
            if body is not None:
                added["Digest"] = make_digest(body)
                signed.append("digest")
            added["Signature"] = cavage.sign_request(
                method,
                url,
                {**lower, **{k.lower(): v for k, v in added.items()}},
                key_id=self.key_id,
                private_key=self._key,
                algorithm="rsa-sha256" if self.is_rsa else "hs2019",
                signed_headers=signed,
            )
            return added
        if fmt != "rfc9421":
            raise ValueError(f"unknown signature format {fmt!r}")
        components = ["@method", "@target-uri"]
        if body is not None:
            added["Content-Digest"] = make_content_digest(body)
            components.append("content-digest")
        signature_input, signature = rfc9421.sign_request(
            method,
            url,
            {**lower, **{k.lower(): v for k, v in added.items()}},
            key_id=self.key_id,
            private_key=self._key,
            algorithm="rsa-v1_5-sha256" if self.is_rsa else "ed25519",
            components=components,
            created=now,
        )
        added["Signature-Input"] = signature_input
        added["Signature"] = signature
        return added

    def _sign_cavage(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        now: datetime | None,
    ) -> dict[str, str] | None:
        """The cavage branch of :meth:`sign` without its generic header handling: the
        same headers, byte for byte (a delivery signs thousands of requests a minute).
        ``None`` for headers whose names need trimming, left to the general path."""
        host = None
        for name, value in headers.items():
            lower = name.lower()
            if lower == "host":
                host = value
            elif lower not in _CAVAGE_NAMES and lower.strip() in _CAVAGE_NAMES:
                return None
        host = host or url_authority(url)
        date = _http_date_now() if now is None else http_date(now)
        target = _request_target(url)
        text = f"(request-target): {method.lower()} {target}\nhost: {combined_value([host])}"
        text = f"{text}\ndate: {date}"
        added = {"Date": date, "Host": host}
        if body is not None:
            digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
            added["Digest"] = digest
            text = f"{text}\ndigest: {digest}"
            covered = '(request-target) host date digest",signature="'
        else:
            covered = '(request-target) host date",signature="'
        data = text.encode("utf-8")
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            raw = key.sign(data, _PKCS1V15, _SHA256)
        else:
            assert isinstance(key, ed25519.Ed25519PrivateKey)
            raw = key.sign(data)
        added["Signature"] = (
            f'{self._cavage_prefix}{covered}{base64.b64encode(raw).decode("ascii")}"'
        )
        return added


async def _send_once(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    signer: Signer,
    fmt: SignatureFormat,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    stream: bool,
) -> httpx.Response:
    request = client.build_request(method, url, content=body, headers=headers)
    request.headers.update(signer.sign(method, str(request.url), request.headers, body, fmt=fmt))
    return await client.send(request, stream=stream)


async def send_signed(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    signer: Signer,
    fmt: SignatureFormat,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    stream: bool = False,
) -> tuple[httpx.Response, SignatureFormat]:
    """Send to exactly ``url`` signed in ``fmt``; on 401/403 once more in the other format.

    Returns the last response and the format it was signed in. With ``stream`` the caller
    reads and closes the response. Transport errors propagate as httpx raises them.
    """
    response = await _send_once(
        client, method, url, signer=signer, fmt=fmt, body=body, headers=headers, stream=stream
    )
    if response.status_code not in _KNOCK_STATUSES:
        return response, fmt
    await response.aclose()
    retry = other_format(fmt)
    response = await _send_once(
        client, method, url, signer=signer, fmt=retry, body=body, headers=headers, stream=stream
    )
    return response, retry


async def _read_bounded(response: httpx.Response, max_bytes: int) -> httpx.Response:
    """A copy of a streamed response with its body read under a cap (then closed)."""
    try:
        body = await read_capped(response, max_bytes)
    finally:
        await response.aclose()
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request
    )


async def _send_with_fallback(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    signer: Signer,
    fmt: SignatureFormat,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    allow_private: bool,
) -> tuple[httpx.Response, SignatureFormat]:
    candidates = await candidate_urls(url, allow_private)
    for candidate in candidates[:-1]:
        try:
            return await send_signed(
                client,
                method,
                candidate,
                signer=signer,
                fmt=fmt,
                body=body,
                headers=headers,
                stream=True,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            continue
    return await send_signed(
        client,
        method,
        candidates[-1],
        signer=signer,
        fmt=fmt,
        body=body,
        headers=headers,
        stream=True,
    )


async def signed_request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    signer: Signer,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    db: Executor | None = None,
    domain: str | None = None,
    allow_private: bool = False,
    max_response_bytes: int = 1_048_576,
    time_limit: float = 60.0,
) -> httpx.Response:
    """Send a signed request (a delivery POST, a signed GET …) with double-knocking.

    The format comes from the ``servers`` row of ``domain`` (default: the URL's
    ``host[:port]``) when ``db`` is given, else ``cavage``. When the retry in the other
    format succeeds (status < 400) it is remembered for ``domain``. The URL goes through
    the scheme policy of :func:`~fedinet.federation.transport.candidate_urls`; no redirects
    are followed. The response is returned read (its body at most ``max_response_bytes``,
    decoded), whatever its status. Failures raise :class:`~fedinet.errors.RemoteFetchError`
    with a reason: ``unsafe_address`` (:class:`~fedinet.errors.UnsafeAddress`), ``bad_url``,
    ``timeout`` (``time_limit`` seconds in all), ``unreachable`` or ``too_large``.
    """
    domain = url_authority(url) if domain is None else domain
    fmt: SignatureFormat = "cavage"
    if db is not None:
        fmt = await servers_db.get_signature_format(db, domain)
    try:
        async with asyncio.timeout(time_limit):
            streamed, used = await _send_with_fallback(
                client,
                method,
                url,
                signer=signer,
                fmt=fmt,
                body=body,
                headers=headers,
                allow_private=allow_private,
            )
            response = await _read_bounded(streamed, max_response_bytes)
    except (TimeoutError, httpx.TimeoutException):
        raise RemoteFetchError(
            f"{method} {url} took longer than allowed", reason="timeout"
        ) from None
    except httpx.HTTPError as exc:
        raise RemoteFetchError(f"{method} {url} failed: {exc}", reason="unreachable") from None
    if used != fmt and response.status_code < 400 and db is not None:
        await servers_db.set_signature_format(db, domain, used)
    return response
