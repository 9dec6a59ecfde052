"""Named queries for what fedinet knows about other servers (the ``servers`` table).

Rows are keyed by domain (``host[:port]``, lower-cased). A server has no row until something
is recorded about it; reads of an unknown server give the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from fedinet.db.types import Executor, Record

__all__ = [
    "SIGNATURE_FORMATS",
    "Server",
    "SignatureFormat",
    "get_server",
    "get_signature_format",
    "record_failure",
    "record_success",
    "reset_server_failures",
    "set_signature_format",
]

SignatureFormat = Literal["cavage", "rfc9421"]
SIGNATURE_FORMATS: tuple[SignatureFormat, ...] = get_args(SignatureFormat)


@dataclass(frozen=True, slots=True)
class Server:
    domain: str
    signature_format: SignatureFormat
    software: str | None
    software_version: str | None
    consecutive_failures: int
    unreachable_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


def _server_from_row(row: Record) -> Server:
    return Server(**dict(row))


def _key(domain: str) -> str:
    return domain.strip().lower()


async def get_server(db: Executor, domain: str) -> Server | None:
    row = await db.fetchrow("SELECT * FROM servers WHERE domain = $1", _key(domain))
    return None if row is None else _server_from_row(row)


async def get_signature_format(db: Executor, domain: str) -> SignatureFormat:
    """The signature format ``domain`` accepts from us; ``'cavage'`` until learned otherwise."""
    value = await db.fetchval(
        "SELECT signature_format FROM servers WHERE domain = $1", _key(domain)
    )
    return "rfc9421" if value == "rfc9421" else "cavage"


async def set_signature_format(db: Executor, domain: str, fmt: SignatureFormat) -> None:
    if fmt not in SIGNATURE_FORMATS:
        raise ValueError(f"unknown signature format {fmt!r} (expected cavage or rfc9421)")
    await db.execute(
        """
        INSERT INTO servers (domain, signature_format) VALUES ($1, $2)
        ON CONFLICT (domain) DO UPDATE
            SET signature_format = EXCLUDED.signature_format, updated_at = now()
        """,
        _key(domain),
        fmt,
    )


async def record_success(db: Executor, domain: str) -> None:
    """A request to ``domain`` succeeded: it is reachable again."""
    await db.execute(
        """
        INSERT INTO servers (domain, last_success_at) VALUES ($1, now())
        ON CONFLICT (domain) DO UPDATE
            SET consecutive_failures = 0, unreachable_since = NULL,
                last_success_at = now(), updated_at = now()
        """,
        _key(domain),
    )


async def record_failure(db: Executor, domain: str) -> Server:
    """A request to ``domain`` failed; returns the server with its failure count."""
    row = await db.fetchrow(
        """
        INSERT INTO servers (domain, consecutive_failures, unreachable_since)
        VALUES ($1, 1, now())
        ON CONFLICT (domain) DO UPDATE
            SET consecutive_failures = servers.consecutive_failures + 1,
                unreachable_since = coalesce(servers.unreachable_since, now()),
                updated_at = now()
        RETURNING *
        """,
        _key(domain),
    )
    assert row is not None
    return _server_from_row(row)


async def reset_server_failures(db: Executor, domain: str) -> None:
    """Forget a server's failures (an admin asked to retry it now): deliveries to it are
    claimed normally again instead of waiting for the next probe."""
    await db.execute(
        """
        UPDATE servers SET consecutive_failures = 0, unreachable_since = NULL,
                           updated_at = now()
        WHERE domain = $1
        """,
        _key(domain),
    )
