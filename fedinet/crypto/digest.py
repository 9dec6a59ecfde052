"""Body digests: the draft-cavage ``Digest`` header and RFC 9530 ``Content-Digest``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from fedinet.crypto import sfv
from fedinet.errors import DigestMismatch

__all__ = [
    "make_content_digest",
    "make_digest",
    "verify_content_digest",
    "verify_digest",
]

# Digest header (RFC 3230) names, compared case-insensitively -> hashlib name.
_DIGEST_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}
# Content-Digest (RFC 9530) keys are lower-case structured-field keys.
_CONTENT_DIGEST_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}


_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


def _hash(hash_name: str, body: bytes) -> bytes:
    return _HASHES[hash_name](body).digest()


def make_digest(body: bytes, algorithm: str = "SHA-256") -> str:
    """``Digest`` header value for ``body``, e.g. ``SHA-256=X48E9q…BPE=``."""
    hash_name = _DIGEST_ALGORITHMS.get(algorithm.lower())
    if hash_name is None:
        raise ValueError(f"unsupported Digest algorithm {algorithm!r} (use SHA-256 or SHA-512)")
    encoded = base64.b64encode(_hash(hash_name, body)).decode("ascii")
    return f"{algorithm.upper()}={encoded}"


def verify_digest(header_value: str, body: bytes) -> None:
    """Check a ``Digest`` header against ``body``; raise :class:`DigestMismatch` if it fails.

    Several comma-separated ``algorithm=base64`` values may be given. At least one must use
    SHA-256 or SHA-512 and every such value must match; others are ignored.
    """
    checked: list[str] = []
    seen: list[str] = []
    for part in header_value.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise DigestMismatch(
                f"malformed Digest header value {part!r} (expected algorithm=base64)"
            )
        name = name.strip()
        seen.append(name)
        hash_name = _DIGEST_ALGORITHMS.get(name.lower())
        if hash_name is None:
            continue
        try:
            given = binascii.a2b_base64(value.strip().encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError):
            raise DigestMismatch(f"Digest {name} value is not valid base64: {value!r}") from None
        computed = _hash(hash_name, body)
        if not hmac.compare_digest(given, computed):
            raise DigestMismatch(
                f"body does not match the Digest header: computed {name.upper()}="
                f"{base64.b64encode(computed).decode('ascii')}, given {value.strip()}"
            )
        checked.append(name)
    if not checked:
        found = ", ".join(seen) if seen else "none"
        raise DigestMismatch(
            f"Digest header has no supported algorithm (need SHA-256 or SHA-512; found {found})"
        )


def make_content_digest(body: bytes, algorithms: Sequence[str] = ("sha-256",)) -> str:
    """RFC 9530 ``Content-Digest`` value, e.g. ``sha-256=:X48E9q…BPE=:``."""
    members: dict[str, sfv.Member] = {}
    for algorithm in algorithms:
        hash_name = _CONTENT_DIGEST_ALGORITHMS.get(algorithm)
        if hash_name is None:
            raise ValueError(f"unsupported Content-Digest algorithm {algorithm!r}")
        members[algorithm] = sfv.Item(_hash(hash_name, body))
    if not members:
        raise ValueError("at least one Content-Digest algorithm is needed")
    return sfv.serialize_dictionary(members)


def verify_content_digest(header_value: str, body: bytes) -> None:
    """Check an RFC 9530 ``Content-Digest`` against ``body``; DigestMismatch if it fails.

    At least one of ``sha-256`` / ``sha-512`` must be present and every one present must match.
    """
    try:
        members = sfv.parse_dictionary(header_value)
    except ValueError as exc:
        raise DigestMismatch(f"malformed Content-Digest header: {exc}") from None
    checked = 0
    for name, member in members.items():
        hash_name = _CONTENT_DIGEST_ALGORITHMS.get(name)
        if hash_name is None:
            continue
        if not isinstance(member, sfv.Item) or not isinstance(member.value, bytes):
            raise DigestMismatch(f"Content-Digest {name} value is not a byte sequence")
        computed = _hash(hash_name, body)
        if not hmac.compare_digest(member.value, computed):
            raise DigestMismatch(
                f"body does not match the Content-Digest header ({name}): computed "
                f":{base64.b64encode(computed).decode('ascii')}:"
            )
        checked += 1
    if not checked:
        found = ", ".join(members) if members else "none"
        raise DigestMismatch(
            f"Content-Digest has no supported algorithm (need sha-256 or sha-512; found {found})"
        )
