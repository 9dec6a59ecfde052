"""The directory: discoverable accounts, filtered by motive, interest and region, ranked
by the ground they share with the viewer. Only public motives are ever used."""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor
from fedinet.models import Actor

__all__ = [
    "DirectoryCandidate",
    "list_directory",
    "list_directory_candidates",
    "list_interests_in_use",
]


@dataclass(frozen=True, slots=True)
class DirectoryCandidate:
    """What ranking needs of a listed account (the rest is loaded for the shown ones)."""

    id: int
    motives: list[str]
    interests: list[str]
    region: str | None


async def list_directory(
    db: Executor,
    *,
    viewer_id: int | None,
    motives: list[str],
    interests: list[str],
    region: str | None,
    local_only: bool,
    order_new: bool,
    limit: int,
    offset: int,
) -> list[tuple[Actor, int]]:
    """(account, shared-ground score) pairs. Filters match any of the given motives and
    any of the given interests; the score counts shared interests (3 each), shared
    motives (2 each) and a shared region (2) with the viewer."""
    rows = await db.fetch(
        """
        WITH viewer AS (
            SELECT motives, interests, region FROM actors WHERE id = $1
        )
        SELECT a.*,
            coalesce((
                SELECT 3 * cardinality(ARRAY(
                           SELECT unnest(a.interests) INTERSECT SELECT unnest(v.interests)))
                     + 2 * cardinality(ARRAY(
                           SELECT unnest(a.motives) INTERSECT SELECT unnest(v.motives)))
                     + CASE WHEN a.region IS NOT NULL AND a.region = v.region THEN 2 ELSE 0 END
                FROM viewer v
            ), 0) AS shared_score
        FROM actors a
        LEFT JOIN users u ON u.actor_id = a.id
        WHERE a.discoverable AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND a.actor_type = 'Person'
          AND (NOT a.is_local OR (u.id IS NOT NULL AND u.approved))
          AND ($1::bigint IS NULL OR a.id <> $1)
          AND (cardinality($2::text[]) = 0 OR a.motives && $2::text[])
          AND (cardinality($3::text[]) = 0 OR a.interests && $3::text[])
          AND ($4::text IS NULL OR a.region = $4)
          AND (NOT $5 OR a.is_local)
        ORDER BY shared_score DESC,
                 CASE WHEN $6 THEN a.created_at ELSE a.updated_at END DESC,
                 a.id DESC
        LIMIT $7 OFFSET $8
        """,
        viewer_id,
        motives,
        interests,
        region,
        local_only,
        order_new,
        limit,
        offset,
    )
    result = []
    for row in rows:
        values = dict(row)
        score = int(values.pop("shared_score"))
        result.append((actor_from_row(values), score))
    return result


async def list_directory_candidates(
    db: Executor,
    *,
    exclude_id: int | None,
    motives: list[str],
    interests: list[str],
    region: str | None,
    local_only: bool,
    limit: int,
) -> list[DirectoryCandidate]:
    """The ``limit`` most recently active discoverable people matching the filters (any
    of ``motives``, any of ``interests``, exactly ``region``), most recent first. Walks
    ``actors_directory_recent_idx`` (or ``actors_directory_region_idx``), so the cost
    follows ``limit``, not the number of accounts."""
    rows = await db.fetch(
        """
        SELECT a.id, a.motives, a.interests, a.region FROM actors a
        WHERE a.discoverable AND a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND a.actor_type = 'Person'
          AND ($1::bigint IS NULL OR a.id <> $1)
          AND (cardinality($2::text[]) = 0 OR a.motives && $2::text[])
          AND (cardinality($3::text[]) = 0 OR a.interests && $3::text[])
          AND ($4::text IS NULL OR a.region = $4)
          AND (NOT $5 OR a.is_local)
          -- a scalar subquery, probed per row through users' unique index (an EXISTS
          -- here becomes a hashed subplan that reads every member on each call)
          AND (NOT a.is_local
               OR coalesce((SELECT u.approved FROM users u WHERE u.actor_id = a.id), false))
        ORDER BY a.updated_at DESC, a.id DESC
        LIMIT $6
        """,
        exclude_id,
        motives,
        interests,
        region,
        local_only,
        limit,
    )
    return [
        DirectoryCandidate(row["id"], row["motives"], row["interests"], row["region"])
        for row in rows
    ]


async def list_interests_in_use(db: Executor, *, limit: int, window: int = 2000) -> list[str]:
    """The interest tags most used by the ``window`` most recently active discoverable
    people, most used first (for type-ahead)."""
    rows = await db.fetch(
        """
        SELECT tag FROM (
            SELECT a.interests FROM actors a
            WHERE a.discoverable AND a.deleted_at IS NULL AND a.suspended_at IS NULL
              AND a.actor_type = 'Person'
            ORDER BY a.updated_at DESC, a.id DESC
            LIMIT $2
        ) recent, unnest(recent.interests) AS tag
        GROUP BY tag ORDER BY count(*) DESC, tag LIMIT $1
        """,
        limit,
        window,
    )
    return [str(row["tag"]) for row in rows]
