"""draft-cavage-http-signatures-12, the ``Signature`` header the fediverse uses today.

Signing and verification follow what Mastodon, GoToSocial and Pleroma do: ``rsa-sha256``
(RSA PKCS#1 v1.5 with SHA-256) and ``hs2019`` (the algorithm comes from the key: RSA
PKCS#1 v1.5 SHA-256 or RSA-PSS SHA-512, or Ed25519), plus ``ed25519``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from typing import cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fedinet.crypto._common import (
    HeadersLike,
    PrivateKey,
    PublicKey,
    Timestamp,
    combined_value,
    header_map,
    to_timestamp,
)
from fedinet.crypto.digest import verify_digest
from fedinet.errors import SignatureExpired, SignatureInvalid

__all__ = [
    "ALGORITHMS",
    "DEFAULT_REQUIRED_HEADERS",
    "ParsedSignature",
    "build_signing_string",
    "parse_signature_header",
    "sign_request",
    "verify_request",
]

ALGORITHMS = ("rsa-sha256", "hs2019", "ed25519")
"""Algorithm names accepted by :func:`verify_request`."""

DEFAULT_REQUIRED_HEADERS = ("(request-target)", "host")
"""Headers a signature must cover by default (besides ``date`` or ``(created)``)."""

_PARAM_RE = re.compile(r'[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?:"([^"]*)"|([^,"\s]*))[ \t]*')
_INT_RE = re.compile(r"[0-9]{1,15}\Z")


@dataclass(frozen=True)
class ParsedSignature:
    """A parsed ``Signature`` header; ``algorithm`` is lower-cased, ``hs2019`` when absent."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


def _split_params(value: str) -> dict[str, str]:
    text = value.strip()
    if text[:10].lower() == "signature " and "=" not in text[:10]:
        text = text[10:]  # "Authorization: Signature keyId=..." form
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM_RE.match(text, pos)
        if match is None:
            raise SignatureInvalid(f"malformed Signature header near {text[pos : pos + 30]!r}")
        name = match.group(1).lower()
        if name in params:
            raise SignatureInvalid(f"Signature header repeats the parameter {match.group(1)!r}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
        if pos < len(text):
            if text[pos] != ",":
                raise SignatureInvalid(f"malformed Signature header near {text[pos : pos + 30]!r}")
            pos += 1
    return params


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not _INT_RE.match(raw):
        raise SignatureInvalid(f"Signature parameter {name} is not an integer timestamp: {raw!r}")
    return int(raw)


def parse_signature_header(value: str) -> ParsedSignature:
    """Parse a ``Signature`` (or ``Authorization: Signature …``) value.

    Malformed input raises SignatureInvalid.
    """
    params = _split_params(value)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureInvalid("Signature header has no keyId")
    raw_signature = params.get("signature")
    if not raw_signature:
        raise SignatureInvalid("Signature header has no signature")
    try:
        # base64.b64decode(validate=True), without its per-call regex; a non-ASCII
        # value is refused here too, instead of escaping as a ValueError
        signature = binascii.a2b_base64(raw_signature.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise SignatureInvalid("Signature header's signature is not valid base64") from None
    raw_headers = params.get("headers")
    if raw_headers is None:
        headers: tuple[str, ...] = ("date",)  # the draft's default
    else:
        headers = tuple(h.lower() for h in raw_headers.split())
        if not headers:
            raise SignatureInvalid("Signature header has an empty headers list")
    return ParsedSignature(
        key_id=key_id,
        algorithm=(params.get("algorithm") or "hs2019").lower(),
        headers=headers,
        signature=signature,
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def build_signing_string(
    signed_headers: Sequence[str],
    method: str,
    path_with_query: str,
    headers: HeadersLike,
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """The draft's signing string; a listed header missing from the request -> SignatureInvalid."""
    return _signing_string(
        signed_headers, method, path_with_query, header_map(headers), created, expires
    )


def _signing_string(
    signed_headers: Sequence[str],
    method: str,
    path_with_query: str,
    grouped: dict[str, list[str]],
    created: int | None,
    expires: int | None,
) -> str:
    lines: list[str] = []
    for name in signed_headers:
        name = name.lower()
        if name == "(request-target)":
            value = f"{method.lower()} {path_with_query}"
        elif name in ("(created)", "(expires)"):
            stamp = created if name == "(created)" else expires
            if stamp is None:
                raise SignatureInvalid(f"{name} is signed but the {name[1:-1]} parameter is absent")
            value = str(stamp)
        elif name in grouped:
            value = combined_value(grouped[name])
        else:
            raise SignatureInvalid(f"signed header {name!r} is missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _target_and_host(url_or_path: str) -> tuple[str, str | None]:
    if "://" not in url_or_path:
        return url_or_path, None
    parts = urlsplit(url_or_path)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    return target, host


def _sign(private_key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey) and algorithm in ("rsa-sha256", "hs2019"):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, ed25519.Ed25519PrivateKey) and algorithm in ("hs2019", "ed25519"):
        return private_key.sign(data)
    raise ValueError(f"cannot sign with algorithm {algorithm!r} and a {_key_kind(private_key)} key")


def sign_request(
    method: str,
    url_or_path: str,
    headers: HeadersLike,
    *,
    key_id: str,
    private_key: PrivateKey,
    algorithm: str = "rsa-sha256",
    signed_headers: Sequence[str] | None = None,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """Return the ``Signature`` header value for a request.

    ``signed_headers`` defaults to ``(request-target) host date`` plus ``digest`` when the
    headers carry a Digest (put it there first, see :func:`fedinet.crypto.digest.make_digest`).
    With an absolute URL and no Host header, the host is taken from the URL.
    """
    if '"' in key_id or any(ord(c) < 0x20 for c in key_id):
        raise ValueError(f"key_id cannot be put in a Signature header: {key_id!r}")
    algorithm = algorithm.lower()
    target, url_host = _target_and_host(url_or_path)
    header_list = list(header_map(headers).items())
    pairs = [(name, value) for name, values in header_list for value in values]
    names = {name for name, _ in header_list}
    if "host" not in names and url_host is not None:
        pairs.append(("host", url_host))
    if signed_headers is None:
        signed_headers = ("(request-target)", "host", "date") + (
            ("digest",) if "digest" in names else ()
        )
    try:
        text = build_signing_string(
            signed_headers, method, target, pairs, created=created, expires=expires
        )
    except SignatureInvalid as exc:
        raise ValueError(str(exc)) from None
    signature = base64.b64encode(_sign(private_key, algorithm, text.encode("utf-8")))
    parts = [f'keyId="{key_id}"', f'algorithm="{algorithm}"']
    if created is not None:
        parts.append(f"created={created}")
    if expires is not None:
        parts.append(f"expires={expires}")
    parts.append(f'headers="{" ".join(h.lower() for h in signed_headers)}"')
    parts.append(f'signature="{signature.decode("ascii")}"')
    return ",".join(parts)


def _key_kind(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519"
    return "elliptic-curve"


# The kind of a public key by its class: isinstance against these ABCs runs on every
# verification, and a class's answer never changes.
_PUBLIC_KINDS: dict[type, str] = {}


def _public_kind(key: PublicKey) -> str:
    kind = _PUBLIC_KINDS.get(type(key))
    if kind is None:
        if isinstance(key, rsa.RSAPublicKey):
            kind = "RSA"
        elif isinstance(key, ed25519.Ed25519PublicKey):
            kind = "Ed25519"
        else:
            kind = "elliptic-curve"
        _PUBLIC_KINDS[type(key)] = kind
    return kind


def _check_algorithm(algorithm: str, key: PublicKey) -> None:
    if algorithm not in ALGORITHMS:
        raise SignatureInvalid(f"unsupported signature algorithm {algorithm!r}")
    kind = _public_kind(key)
    ok = (
        (algorithm == "rsa-sha256" and kind == "RSA")
        or (algorithm == "ed25519" and kind == "Ed25519")
        or (algorithm == "hs2019" and kind in ("RSA", "Ed25519"))
    )
    if not ok:
        raise SignatureInvalid(f"algorithm {algorithm!r} does not match the actor's {kind} key")


_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _signature_ok(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    kind = _public_kind(key)
    try:
        if kind == "Ed25519":
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
            return True
        if kind != "RSA":
            return False
        rsa_key = cast(rsa.RSAPublicKey, key)
        try:
            rsa_key.verify(signature, data, _PKCS1V15, _SHA256)
            return True
        except InvalidSignature:
            if algorithm != "hs2019":
                raise
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)
        rsa_key.verify(signature, data, pss, hashes.SHA512())
        return True
    except InvalidSignature:
        return False


def _check_window(label: str, when: int, now: int, max_skew: timedelta) -> None:
    skew = int(max_skew.total_seconds())
    if when < now - skew:
        raise SignatureExpired(
            f"{label} is {now - when} s in the past, outside the ±{skew} s window"
        )
    if when > now + skew:
        raise SignatureExpired(
            f"{label} is {when - now} s in the future, outside the ±{skew} s window"
        )


@functools.lru_cache(maxsize=64)
def _parse_http_date(value: str) -> int:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise SignatureInvalid(f"Date header is not a valid HTTP date: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def verify_request(
    parsed: ParsedSignature,
    method: str,
    path_with_query: str,
    headers: HeadersLike,
    public_key: PublicKey,
    *,
    now: Timestamp,
    max_skew: timedelta = timedelta(hours=12),
    required_headers: Collection[str] = DEFAULT_REQUIRED_HEADERS,
    has_body: bool = False,
    body: bytes | None = None,
    allow_unsigned_query: bool = True,
) -> None:
    """Verify a parsed signature against the request; return ``None`` or raise.

    Besides ``required_headers``, ``date`` or ``(created)`` must be signed, and ``digest``
    too when ``has_body`` (implied by a non-empty ``body``, which is then checked against the
    Digest header). ``allow_unsigned_query`` keeps Mastodon's leniency of also accepting a
    ``(request-target)`` signed without the query string. Raises SignatureInvalid,
    SignatureExpired or DigestMismatch naming the reason.
    """
    now_ts = to_timestamp(now)
    _check_algorithm(parsed.algorithm, public_key)
    signed = set(parsed.headers)
    for name in required_headers:
        if name.lower() not in signed:
            raise SignatureInvalid(f"the signature does not cover the required {name!r}")
    if "date" not in signed and "(created)" not in signed:
        raise SignatureInvalid("the signature covers neither the Date header nor (created)")
    has_body = has_body or bool(body)
    if has_body and "digest" not in signed:
        raise SignatureInvalid("the request has a body but the Digest header is not signed")

    if parsed.expires is not None and parsed.expires < now_ts:
        raise SignatureExpired(f"the signature expired {now_ts - parsed.expires} s ago")
    if "(created)" in signed:
        if parsed.created is None:
            raise SignatureInvalid("(created) is signed but the created parameter is absent")
        _check_window("(created)", parsed.created, now_ts, max_skew)
    grouped = header_map(headers)
    if "date" in signed:
        if "date" not in grouped:
            raise SignatureInvalid("the Date header is signed but missing from the request")
        _check_window("Date header", _parse_http_date(grouped["date"][-1]), now_ts, max_skew)

    targets = [path_with_query]
    if allow_unsigned_query and "?" in path_with_query:
        targets.append(path_with_query.split("?", 1)[0])
    for target in targets:
        text = _signing_string(
            parsed.headers, method, target, grouped, parsed.created, parsed.expires
        )
        if _signature_ok(public_key, parsed.algorithm, parsed.signature, text.encode("utf-8")):
            break
    else:
        raise SignatureInvalid("signature verification failed: it does not match the request")

    if body is not None and "digest" in grouped:
        verify_digest(combined_value(grouped["digest"]), body)
