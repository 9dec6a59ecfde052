"""Named queries for blocked domains (the ``domain_blocks`` table).

A block on ``example.com`` also covers every subdomain (``a.example.com``) and every port
(``example.com:8443``). ``suspend`` refuses all federation; ``silence`` only limits what is
shown, so :func:`is_domain_blocked` answers for suspensions and :func:`find_domain_block`
gives the full picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from fedinet.db.types import Executor, Record
from fedinet.errors import ValidationError

__all__ = [
    "SEVERITIES",
    "DomainBlock",
    "Severity",
    "add_domain_block",
    "covering_domains",
    "find_domain_block",
    "is_domain_blocked",
    "list_domain_blocks",
    "remove_domain_block",
]

Severity = Literal["suspend", "silence"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)


@dataclass(frozen=True, slots=True)
class DomainBlock:
    domain: str
    severity: Severity
    reason: str
    created_at: datetime


def _block_from_row(row: Record) -> DomainBlock:
    return DomainBlock(**dict(row))


def _normalise(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


def covering_domains(domain: str) -> list[str]:
    """Every block entry that would cover ``domain``, most specific first.

    ``a.example.com:8443`` -> ``a.example.com:8443``, ``a.example.com``, ``example.com``,
    ``com``. IP addresses only cover themselves (with and without the port).
    """
    full = _normalise(domain)
    if full.startswith("["):  # an IPv6 literal, maybe with a port
        host = full[: full.find("]") + 1]
        return [full] if host == full else [full, host]
    host = full.rsplit(":", 1)[0] if full.count(":") == 1 else full
    found = [full] if host != full else []
    labels = host.split(".")
    if all(label.isdigit() for label in labels):  # an IPv4 literal
        return [*found, host]
    found.extend(".".join(labels[i:]) for i in range(len(labels)) if labels[i])
    return found


def _check_domain(domain: str) -> str:
    value = _normalise(domain)
    if not value or any(c.isspace() or c in "/@?#" for c in value):
        raise ValidationError(f"not a domain name: {domain!r}", field="domain")
    return value


async def find_domain_block(db: Executor, domain: str) -> DomainBlock | None:
    """The most specific block covering ``domain`` (any severity), or ``None``."""
    candidates = covering_domains(domain)
    row = await db.fetchrow(
        "SELECT * FROM domain_blocks WHERE domain = ANY($1::text[]) "
        "ORDER BY array_position($1::text[], domain) LIMIT 1",
        candidates,
    )
    return None if row is None else _block_from_row(row)


async def is_domain_blocked(db: Executor, domain: str) -> bool:
    """Whether ``domain`` or a parent domain is suspended (refuse all federation with it)."""
    value = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM domain_blocks "
        "WHERE domain = ANY($1::text[]) AND severity = 'suspend')",
        covering_domains(domain),
    )
    return bool(value)


async def add_domain_block(
    db: Executor, domain: str, severity: Severity = "suspend", reason: str = ""
) -> DomainBlock:
    """Block ``domain`` (and its subdomains); blocking it again updates severity and reason."""
    if severity not in SEVERITIES:
        raise ValidationError(
            f"severity must be suspend or silence, got {severity!r}", field="severity"
        )
    row = await db.fetchrow(
        """
        INSERT INTO domain_blocks (domain, severity, reason) VALUES ($1, $2, $3)
        ON CONFLICT (domain) DO UPDATE
            SET severity = EXCLUDED.severity, reason = EXCLUDED.reason
        RETURNING *
        """,
        _check_domain(domain),
        severity,
        reason,
    )
    assert row is not None
    return _block_from_row(row)


async def remove_domain_block(db: Executor, domain: str) -> bool:
    """Lift the block on exactly ``domain``; ``False`` if there was none."""
    row = await db.fetchrow(
        "DELETE FROM domain_blocks WHERE domain = $1 RETURNING domain", _normalise(domain)
    )
    return row is not None


async def list_domain_blocks(db: Executor) -> list[DomainBlock]:
    rows = await db.fetch("SELECT * FROM domain_blocks ORDER BY domain")
    return [_block_from_row(row) for row in rows]
