"""The directory: discoverable accounts, filtered by motive, interest and region, ranked
by the ground they share with the viewer. Only public motives are ever used."""

from __future__ import annotations

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor
from fedinet.models import Actor

__all__ = ["list_directory", "list_interests_in_use"]


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


async def list_interests_in_use(db: Executor, *, limit: int) -> list[str]:
    """The interest tags most discoverable accounts share, most used first (for
    type-ahead)."""
    rows = await db.fetch(
        """
        SELECT tag FROM actors a, unnest(a.interests) AS tag
        WHERE a.discoverable AND a.deleted_at IS NULL AND a.suspended_at IS NULL
        GROUP BY tag ORDER BY count(*) DESC, tag LIMIT $1
        """,
        limit,
    )
    return [str(row["tag"]) for row in rows]
