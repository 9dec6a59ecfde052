"""Named queries for blocked domains (the ``domain_blocks`` table).

A block on ``example.com`` also covers every subdomain (``a.example.com``) and every port
(``example.com:8443``). ``suspend`` refuses all federation; ``silence`` only limits what is
shown, so :func:`is_domain_blocked` answers for suspensions and :func:`find_domain_block`
gives the full picture.

Queries that filter rows by blocks use the SQL function ``fedinet_domain_block_severity``
(migration 0009), which applies the same covering rule inside PostgreSQL.
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
    "cancel_suspended_deliveries",
    "covering_domains",
    "domain_block_severity",
    "find_domain_block",
    "is_domain_blocked",
    "list_domain_blocks",
    "purge_suspended_from_feeds",
    "remove_domain_block",
    "sever_suspended_follows",
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


async def domain_block_severity(db: Executor, domain: str) -> Severity | None:
    """The strongest block covering ``domain``: ``suspend`` if any covering block suspends,
    else ``silence`` if one silences, else ``None`` (as the SQL function computes it)."""
    value = await db.fetchval("SELECT fedinet_domain_block_severity($1)", domain)
    if value == "suspend":
        return "suspend"
    return "silence" if value == "silence" else None


async def sever_suspended_follows(db: Executor) -> int:
    """Delete every follow (and request) between a local actor and an actor of a suspended
    domain, both ways; returns how many went."""
    value = await db.fetchval(
        """
        WITH suspended AS (
            SELECT id FROM actors
            WHERE NOT is_local AND fedinet_domain_block_severity(domain) = 'suspend'
        ),
        gone AS (
            DELETE FROM follows AS f
            WHERE f.follower_id IN (SELECT id FROM suspended)
               OR f.followee_id IN (SELECT id FROM suspended)
            RETURNING 1
        )
        SELECT count(*) FROM gone
        """
    )
    return int(value or 0)


async def purge_suspended_from_feeds(db: Executor) -> int:
    """Take statuses of suspended domains out of home feeds and drop the notifications
    their actors caused; returns how many feed entries went."""
    await db.execute(
        """
        DELETE FROM notifications AS n USING actors AS a
        WHERE a.id = n.from_actor_id AND NOT a.is_local
          AND fedinet_domain_block_severity(a.domain) = 'suspend'
        """
    )
    value = await db.fetchval(
        """
        WITH gone AS (
            DELETE FROM home_feed AS h USING statuses AS s, actors AS a
            WHERE h.status_id = s.id AND a.id = s.actor_id AND NOT a.is_local
              AND fedinet_domain_block_severity(a.domain) = 'suspend'
            RETURNING 1
        )
        SELECT count(*) FROM gone
        """
    )
    return int(value or 0)


async def cancel_suspended_deliveries(db: Executor) -> int:
    """Give up the pending deliveries to suspended domains (rows a worker holds right now
    included: their outcome no longer matters); returns how many."""
    value = await db.fetchval(
        """
        WITH cancelled AS (
            UPDATE deliveries
            SET state = 'failed', locked_until = NULL, last_error = 'domain suspended'
            WHERE state = 'pending' AND fedinet_domain_block_severity(domain) = 'suspend'
            RETURNING 1
        )
        SELECT count(*) FROM cancelled
        """
    )
    return int(value or 0)
