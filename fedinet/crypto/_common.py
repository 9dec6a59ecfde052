"""Helpers shared by the signature modules: header lookup, clocks, key types."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "HeaderMap",
    "HeadersLike",
    "PrivateKey",
    "PublicKey",
    "Timestamp",
    "combined_value",
    "header_map",
    "to_timestamp",
]


class HeaderMap(dict[str, list[str]]):
    """Header values grouped by lower-cased name, in order: what :func:`header_map` returns.

    Passing one where :data:`HeadersLike` is accepted skips the grouping, so a caller that
    verifies one request several ways groups its headers once. Treat it as read-only.
    """


HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]] | HeaderMap
"""Request headers: a mapping or a list of ``(name, value)`` pairs (names are
case-insensitive), or a :class:`HeaderMap` already grouped."""

_OBS_FOLD = re.compile(r"\r?\n[ \t]*")

PrivateKey = RSAPrivateKey | Ed25519PrivateKey | EllipticCurvePrivateKey
PublicKey = RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey
Timestamp = datetime | int


def header_map(headers: HeadersLike) -> HeaderMap:
    """Group header values by lower-cased name, keeping their order (a HeaderMap as is)."""
    if isinstance(headers, HeaderMap):
        return headers
    pairs: Iterable[tuple[str, str]] = (
        cast(Mapping[str, str], headers).items() if isinstance(headers, Mapping) else headers
    )
    grouped = HeaderMap()
    for name, value in pairs:
        key = name.strip().lower()
        found = grouped.get(key)
        if found is None:
            grouped[key] = [value]
        else:
            found.append(value)
    return grouped


def _field_value(value: str) -> str:
    if "\n" in value:
        value = _OBS_FOLD.sub(" ", value)
    return value.strip(" \t")


def combined_value(values: list[str]) -> str:
    """Join field lines the HTTP way: each value trimmed, then joined by ``", "``."""
    if len(values) == 1:
        return _field_value(values[0])
    return ", ".join(_field_value(v) for v in values)


def to_timestamp(when: Timestamp) -> int:
    """Seconds since the epoch for an aware datetime or an int; naive datetimes are refused."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("a timezone-aware datetime is required (got a naive one)")
        return int(when.astimezone(UTC).timestamp())
    return int(when)
