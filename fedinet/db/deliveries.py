"""Named queries for the activities members author and their delivery queue.

``activities`` holds what a local member did (dereferenceable, listed in the outbox);
``deliveries`` is the durable queue, one row per (activity, target inbox). Workers claim
due rows with ``FOR UPDATE SKIP LOCKED`` and a lease (``locked_until``): a worker that
dies mid-delivery leaves the row to be claimed again once the lease runs out, so delivery
is at least once.

A server whose ``consecutive_failures`` reached the caller's threshold is treated as
unreachable: its deliveries are not claimed, except one now and then as a probe (see
:func:`claim_deliveries`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fedinet.db.servers import SignatureFormat
from fedinet.db.types import Executor, Record
from fedinet.models import Activity

__all__ = [
    "DELIVERY_CHANNEL",
    "Delivery",
    "DeliveryRow",
    "DomainQueueStats",
    "claim_deliveries",
    "delete_finished_deliveries",
    "delivery_domain",
    "enqueue_deliveries",
    "get_activity_by_uri",
    "get_delivery",
    "insert_activity",
    "list_deliveries_for_activity",
    "list_outbox_activities",
    "mark_delivered",
    "mark_failed",
    "queue_stats",
    "release_deliveries",
    "reschedule_deliveries",
    "retry_domain_deliveries",
    "schedule_retry",
]

DELIVERY_CHANNEL = "fedinet_delivery"

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed delivery, with what is needed to send it.

    ``body_json`` is the activity as stored (jsonb's text form): the exact bytes to POST.
    ``signature_format`` is what the target server is known to accept. ``probe`` is true
    when the row was claimed as the periodic probe of an unreachable server.
    """

    id: int
    activity_id: int
    activity_uri: str
    actor_id: int
    inbox_uri: str
    domain: str
    attempts: int
    """Attempts so far, this one included."""
    body_json: str
    signature_format: SignatureFormat
    server_failures: int
    """``servers.consecutive_failures`` of the target when claimed."""
    probe: bool
    created_at: datetime

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body_json)
        return parsed


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A row of ``deliveries`` as stored (for inspection and the admin commands)."""

    id: int
    activity_id: int
    inbox_uri: str
    domain: str
    state: str
    """``pending``, ``delivered`` or ``failed``."""
    attempts: int
    next_attempt_at: datetime
    locked_until: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class DomainQueueStats:
    domain: str
    pending: int
    failed: int
    oldest_pending_age: timedelta | None


def _activity_from_row(row: Record) -> Activity:
    return Activity(**dict(row))


def _row_from_record(row: Record) -> DeliveryRow:
    return DeliveryRow(**dict(row))


def delivery_domain(inbox_uri: str) -> str:
    """``host[:port]`` of an inbox, lower-cased, the port only when not the scheme's default.

    The same key as ``servers.domain`` (and
    :func:`fedinet.federation.transport.url_authority`). Raises ``ValueError`` for a URL
    without a host or with a bad port.
    """
    parts = urlsplit(inbox_uri)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"inbox URL has no host: {inbox_uri!r}")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def _interleaved(inboxes: Iterable[str]) -> tuple[list[str], list[str]]:
    """Distinct inboxes with their domains, domains taking turns (a, b, c, a, b, a …).

    Rows are claimed in id order, so interleaving spreads a fan-out's first claims over
    many servers instead of queueing them behind one.
    """
    by_domain: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for inbox in inboxes:
        if inbox not in seen:
            seen.add(inbox)
            by_domain[delivery_domain(inbox)].append(inbox)
    queues = list(by_domain.items())
    urls: list[str] = []
    domains: list[str] = []
    depth = 0
    while queues:
        still = []
        for domain, members in queues:
            urls.append(members[depth])
            domains.append(domain)
            if depth + 1 < len(members):
                still.append((domain, members))
        queues = still
        depth += 1
    return urls, domains


# --- activities -------------------------------------------------------------------------


async def insert_activity(
    db: Executor,
    *,
    uri: str,
    actor_id: int,
    activity_type: str,
    object_uri: str | None,
    visibility: str,
    body: dict[str, Any],
) -> Activity:
    row = await db.fetchrow(
        """
        INSERT INTO activities (uri, actor_id, activity_type, object_uri, visibility, body)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING *
        """,
        uri,
        actor_id,
        activity_type,
        object_uri,
        visibility,
        body,
    )
    assert row is not None
    return _activity_from_row(row)


async def get_activity_by_uri(db: Executor, uri: str) -> Activity | None:
    row = await db.fetchrow("SELECT * FROM activities WHERE uri = $1", uri)
    return None if row is None else _activity_from_row(row)


async def list_outbox_activities(
    db: Executor, actor_id: int, *, limit: int, max_id: int | None = None
) -> list[Activity]:
    """An actor's public and unlisted activities, newest first, ids below ``max_id``."""
    rows = await db.fetch(
        """
        SELECT * FROM activities
        WHERE actor_id = $1
          AND visibility IN ('public', 'unlisted')
          AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC
        LIMIT $2
        """,
        actor_id,
        limit,
        max_id,
    )
    return [_activity_from_row(row) for row in rows]


# --- the queue --------------------------------------------------------------------------


async def enqueue_deliveries(db: Executor, activity_id: int, inboxes: list[str]) -> int:
    """Queue ``activity_id`` for each distinct inbox and wake the workers.

    Returns how many rows were added (an inbox already queued for this activity is not
    queued twice, and nothing is queued for a suspended domain). Raises ``ValueError``
    for an inbox URL without a host.
    """
    urls, domains = _interleaved(inboxes)
    if not urls:
        return 0
    added = await db.fetchval(
        """
        WITH suspended AS (
            SELECT u.domain FROM (SELECT DISTINCT unnest($3::text[]) AS domain) AS u
            WHERE fedinet_domain_block_severity(u.domain) = 'suspend'
        ),
        added AS (
            INSERT INTO deliveries (activity_id, inbox_uri, domain)
            SELECT $1, inbox, domain
            FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t (inbox, domain, n)
            WHERE t.domain NOT IN (SELECT suspended.domain FROM suspended)
            ORDER BY n
            ON CONFLICT (activity_id, inbox_uri) DO NOTHING
            RETURNING 1
        ),
        counted AS (SELECT count(*) AS n FROM added)
        SELECT n FROM counted, LATERAL (SELECT pg_notify($4, '') WHERE counted.n > 0) AS woken
        """,
        activity_id,
        urls,
        domains,
        DELIVERY_CHANNEL,
    )
    return int(added or 0)


async def claim_deliveries(
    db: Executor,
    *,
    limit: int,
    lease: timedelta,
    skip_domains: Sequence[str] = (),
    per_domain: int | None = None,
    unreachable_after: int = 10,
    probe_every: timedelta = timedelta(minutes=30),
) -> list[Delivery]:
    """Claim up to ``limit`` due pending deliveries for ``lease``; other workers skip them.

    Deliveries to ``skip_domains`` are left alone, and at most ``per_domain`` rows per
    domain are taken (so that one busy server does not fill the batch). A server with
    ``unreachable_after`` or more consecutive failures is skipped, except that one of its
    due deliveries is claimed as a probe (``Delivery.probe``) when nothing was recorded
    about it for ``probe_every``; claiming the probe stamps ``servers.updated_at``, so only
    one worker probes. Probes come on top of ``limit``. Each claim counts as an attempt.

    The oldest ``4 * limit`` due rows are locked (``SKIP LOCKED``) while the statement runs
    and the fairest ``limit`` of them are leased, so a claim running at the same moment
    may get fewer rows than exist; the next claim gets them.
    """
    rows = await db.fetch(
        """
        WITH probe_due AS (
            SELECT s.domain FROM servers AS s
            WHERE s.consecutive_failures >= $4
              AND s.updated_at <= now() - $5::interval
              AND s.domain <> ALL ($3::text[])
              AND EXISTS (
                  SELECT 1 FROM deliveries AS d
                  WHERE d.domain = s.domain
                    AND d.state = 'pending'
                    AND d.next_attempt_at <= now()
                    AND (d.locked_until IS NULL OR d.locked_until < now())
              )
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ),
        probed AS (
            UPDATE servers AS s SET updated_at = now()
            FROM probe_due
            WHERE s.domain = probe_due.domain
            RETURNING s.domain
        ),
        probes AS (
            SELECT p.id FROM probed
            CROSS JOIN LATERAL (
                SELECT d.id FROM deliveries AS d
                WHERE d.domain = probed.domain
                  AND d.state = 'pending'
                  AND d.next_attempt_at <= now()
                  AND (d.locked_until IS NULL OR d.locked_until < now())
                ORDER BY d.next_attempt_at, d.id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            ) AS p
        ),
        candidates AS MATERIALIZED (
            SELECT d.id, d.domain, d.next_attempt_at FROM deliveries AS d
            LEFT JOIN servers AS s ON s.domain = d.domain
            WHERE d.state = 'pending'
              AND d.next_attempt_at <= now()
              AND (d.locked_until IS NULL OR d.locked_until < now())
              AND d.domain <> ALL ($3::text[])
              AND coalesce(s.consecutive_failures, 0) < $4
            ORDER BY d.next_attempt_at, d.id
            LIMIT $1 * 4
            FOR UPDATE OF d SKIP LOCKED
        ),
        picked AS (
            SELECT ranked.id FROM (
                SELECT c.id, c.next_attempt_at, row_number() OVER (
                    PARTITION BY c.domain ORDER BY c.next_attempt_at, c.id
                ) AS nth
                FROM candidates AS c
            ) AS ranked
            WHERE $6::integer IS NULL OR ranked.nth <= $6
            ORDER BY ranked.next_attempt_at, ranked.id
            LIMIT $1
        )
        UPDATE deliveries AS d
        SET locked_until = now() + $2::interval, attempts = d.attempts + 1
        FROM activities AS a
        WHERE a.id = d.activity_id
          AND d.id IN (SELECT picked.id FROM picked UNION ALL SELECT probes.id FROM probes)
        RETURNING
            d.id, d.activity_id, a.uri AS activity_uri, a.actor_id, d.inbox_uri, d.domain,
            d.attempts, a.body::text AS body_json,
            coalesce(
                (SELECT s.signature_format FROM servers AS s WHERE s.domain = d.domain),
                'cavage'
            ) AS signature_format,
            coalesce(
                (SELECT s.consecutive_failures FROM servers AS s WHERE s.domain = d.domain), 0
            ) AS server_failures,
            d.id IN (SELECT probes.id FROM probes) AS probe,
            d.created_at
        """,
        limit,
        lease,
        list(skip_domains),
        unreachable_after,
        probe_every,
        per_domain,
    )
    return sorted((Delivery(**dict(row)) for row in rows), key=lambda item: item.id)


async def mark_delivered(db: Executor, delivered: Iterable[tuple[int, int]]) -> None:
    """Finish deliveries that succeeded: ``(delivery id, HTTP status)`` pairs."""
    pairs = list(delivered)
    if not pairs:
        return
    await db.execute(
        """
        UPDATE deliveries AS d
        SET state = 'delivered', delivered_at = now(), locked_until = NULL,
            last_status = t.status, last_error = NULL
        FROM unnest($1::bigint[], $2::integer[]) AS t (id, status)
        WHERE d.id = t.id AND d.state = 'pending'
        """,
        [pair[0] for pair in pairs],
        [pair[1] for pair in pairs],
    )


async def schedule_retry(
    db: Executor, delivery_id: int, delay: timedelta, status: int | None, error: str
) -> None:
    """Release a delivery to be tried again after ``delay``."""
    await db.execute(
        """
        UPDATE deliveries
        SET next_attempt_at = now() + $2::interval, locked_until = NULL,
            last_status = $3, last_error = $4
        WHERE id = $1 AND state = 'pending'
        """,
        delivery_id,
        delay,
        status,
        error,
    )


async def mark_failed(db: Executor, delivery_id: int, status: int | None, error: str) -> None:
    """Give a delivery up for good."""
    await db.execute(
        """
        UPDATE deliveries
        SET state = 'failed', locked_until = NULL, last_status = $2, last_error = $3
        WHERE id = $1 AND state = 'pending'
        """,
        delivery_id,
        status,
        error,
    )


async def release_deliveries(db: Executor, delivery_ids: Sequence[int]) -> int:
    """Hand claimed deliveries back unfinished (a worker shutting down): they are due again
    at once for any worker, and the interrupted attempt is not counted. Returns how many
    were released."""
    if not delivery_ids:
        return 0
    released = await db.fetchval(
        """
        WITH released AS (
            UPDATE deliveries
            SET locked_until = NULL, attempts = greatest(attempts - 1, 0)
            WHERE id = ANY ($1::bigint[]) AND state = 'pending' AND locked_until IS NOT NULL
            RETURNING 1
        )
        SELECT count(*) FROM released
        """,
        list(delivery_ids),
    )
    return int(released or 0)


async def reschedule_deliveries(
    db: Executor, *, domain: str | None = None, at: datetime | None = None
) -> int:
    """Move the next attempt of pending deliveries (of ``domain``, or all) to ``at``
    (default: now); return how many moved. Rows held by a worker are left alone."""
    moved = await db.fetchval(
        """
        WITH moved AS (
            UPDATE deliveries
            SET next_attempt_at = coalesce($2::timestamptz, now())
            WHERE state = 'pending'
              AND ($1::text IS NULL OR domain = $1)
              AND (locked_until IS NULL OR locked_until < now())
            RETURNING 1
        )
        SELECT count(*) FROM moved
        """,
        domain,
        at,
    )
    return int(moved or 0)


async def get_delivery(db: Executor, delivery_id: int) -> DeliveryRow | None:
    row = await db.fetchrow("SELECT * FROM deliveries WHERE id = $1", delivery_id)
    return None if row is None else _row_from_record(row)


async def list_deliveries_for_activity(db: Executor, activity_id: int) -> list[DeliveryRow]:
    rows = await db.fetch(
        "SELECT * FROM deliveries WHERE activity_id = $1 ORDER BY id", activity_id
    )
    return [_row_from_record(row) for row in rows]


async def queue_stats(db: Executor) -> list[DomainQueueStats]:
    """Pending and failed deliveries per domain, with the age of the oldest pending one;
    the domains with the most pending first."""
    rows = await db.fetch(
        """
        SELECT domain,
               count(*) FILTER (WHERE state = 'pending') AS pending,
               count(*) FILTER (WHERE state = 'failed') AS failed,
               now() - min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending_age
        FROM deliveries
        WHERE state IN ('pending', 'failed')
        GROUP BY domain
        ORDER BY pending DESC, domain
        """
    )
    return [DomainQueueStats(**dict(row)) for row in rows]


async def retry_domain_deliveries(db: Executor, domain: str) -> int:
    """Make every pending and failed delivery to ``domain`` due now (failed ones start
    over with no attempts counted) and wake the workers; returns how many. Rows held by a
    worker are left alone."""
    moved = await db.fetchval(
        """
        WITH moved AS (
            UPDATE deliveries
            SET state = 'pending', next_attempt_at = now(), locked_until = NULL,
                attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END
            WHERE domain = $1
              AND state IN ('pending', 'failed')
              AND (locked_until IS NULL OR locked_until < now())
            RETURNING 1
        ),
        counted AS (SELECT count(*) AS n FROM moved)
        SELECT n FROM counted, LATERAL (SELECT pg_notify($2, '') WHERE counted.n > 0) AS woken
        """,
        domain.strip().lower(),
        DELIVERY_CHANNEL,
    )
    return int(moved or 0)


async def delete_finished_deliveries(db: Executor, older_than: timedelta) -> int:
    """Delete delivered and failed rows created more than ``older_than`` ago (activities
    stay: they are the outbox); returns how many rows went."""
    value = await db.fetchval(
        """
        WITH gone AS (
            DELETE FROM deliveries
            WHERE state IN ('delivered', 'failed') AND created_at < now() - $1::interval
            RETURNING 1
        )
        SELECT count(*) FROM gone
        """,
        older_than,
    )
    return int(value or 0)
