"""Blocking other servers: suspend (no federation at all) or silence (limit).

What each severity does, as Mastodon and GoToSocial define them:

* **suspend**: their inbox POSTs are refused (403, checked when the signature is read), the
  activities of theirs still waiting in the inbox queue are dropped, nothing of ours is
  fetched from or delivered to them (pending deliveries are given up, new ones are never
  queued), every follow between our members and their accounts is severed both ways, and
  their posts leave our members' home feeds along with their notifications. Nothing is
  sent to them about it. Lifting the block restores federation, not the severed follows.
* **silence** (Mastodon's "limit"): federation goes on, but their posts are left out of the
  public timelines and their notifications reach only members who follow the sender.

A block covers the domain's subdomains and ports (:mod:`fedinet.db.domain_blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.config import Settings
from fedinet.db import domain_blocks as blocks_db
from fedinet.db.domain_blocks import SEVERITIES, DomainBlock, Severity
from fedinet.db.types import Connection, Executor
from fedinet.errors import NotFound, ValidationError

__all__ = [
    "DomainBlockOutcome",
    "block_domain",
    "list_domain_blocks",
    "parse_severity",
    "unblock_domain",
]

MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class DomainBlockOutcome:
    block: DomainBlock
    follows_severed: int = 0
    deliveries_cancelled: int = 0
    feed_entries_removed: int = 0


def parse_severity(value: str) -> Severity:
    cleaned = value.strip().lower()
    if cleaned == "limit":  # Mastodon's name for it
        cleaned = "silence"
    for severity in SEVERITIES:
        if severity == cleaned:
            return severity
    raise ValidationError(f"severity must be suspend or silence, got {value!r}", field="severity")


async def block_domain(
    conn: Connection, settings: Settings, domain: str, severity: str, reason: str = ""
) -> DomainBlockOutcome:
    """Block ``domain`` (or change an existing block) and apply what it means at once."""
    level = parse_severity(severity)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is longer than {MAX_REASON} characters", field="reason")
    wanted = domain.strip().lower().rstrip(".")
    if "://" in wanted:
        raise ValidationError(
            f"give a domain name, not a URL: {domain!r}", field="domain", reason="not_a_domain"
        )
    if wanted and wanted in blocks_db.covering_domains(settings.domain):
        raise ValidationError(
            f"{wanted} covers this instance's own domain ({settings.domain})",
            field="domain",
            reason="own_domain",
        )
    async with conn.transaction():
        block = await blocks_db.add_domain_block(conn, wanted, level, reason)
        if level != "suspend":
            return DomainBlockOutcome(block=block)
        severed = await blocks_db.sever_suspended_follows(conn)
        removed = await blocks_db.purge_suspended_from_feeds(conn)
        cancelled = await blocks_db.cancel_suspended_deliveries(conn)
    return DomainBlockOutcome(
        block=block,
        follows_severed=severed,
        deliveries_cancelled=cancelled,
        feed_entries_removed=removed,
    )


async def unblock_domain(db: Executor, domain: str) -> None:
    """Lift the block on exactly ``domain``; :class:`NotFound` when there is none."""
    if not await blocks_db.remove_domain_block(db, domain):
        raise NotFound(f"{domain.strip().lower()} is not blocked", reason="not_blocked")


async def list_domain_blocks(db: Executor) -> list[DomainBlock]:
    return await blocks_db.list_domain_blocks(db)
