"""Helpers shared by the signature modules: header lookup, clocks, key types."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "HeadersLike",
    "PrivateKey",
    "PublicKey",
    "Timestamp",
    "combined_value",
    "header_map",
    "to_timestamp",
]

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]
"""Request headers: a mapping or a list of ``(name, value)`` pairs; names are case-insensitive."""

_OBS_FOLD = re.compile(r"\r?\n[ \t]*")

PrivateKey = RSAPrivateKey | Ed25519PrivateKey | EllipticCurvePrivateKey
PublicKey = RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey
Timestamp = datetime | int


def header_map(headers: HeadersLike) -> dict[str, list[str]]:
    """Group header values by lower-cased name, keeping their order."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name.strip().lower(), []).append(value)
    return grouped


def combined_value(values: list[str]) -> str:
    """Join field lines the HTTP way: each value trimmed, then joined by ``", "``."""
    return ", ".join(_OBS_FOLD.sub(" ", v).strip(" \t") for v in values)


def to_timestamp(when: Timestamp) -> int:
    """Seconds since the epoch for an aware datetime or an int; naive datetimes are refused."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("a timezone-aware datetime is required (got a naive one)")
        return int(when.astimezone(UTC).timestamp())
    return int(when)
