"""Named queries for timelines, paged as Mastodon pages them (by id).

Each timeline has two queries, newest-first and (for ``min_id``) oldest-first, so that
both walk an index instead of sorting. The public timelines leave out suspended accounts
and remote statuses of blocked domains: a silenced (limited) domain is seen only by those
who follow its people.
"""

from __future__ import annotations

from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor
from fedinet.models import Status

__all__ = ["home_timeline", "public_timeline"]

_HOME_DESC = """
    SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id
    WHERE h.owner_id = $1 AND s.deleted_at IS NULL
      AND ($3::bigint IS NULL OR h.status_id < $3)
      AND ($4::bigint IS NULL OR h.status_id > $4)
    ORDER BY h.status_id DESC
    LIMIT $2
"""

_HOME_ASC = """
    SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id
    WHERE h.owner_id = $1 AND s.deleted_at IS NULL
      AND ($3::bigint IS NULL OR h.status_id < $3)
      AND h.status_id > $4
    ORDER BY h.status_id ASC
    LIMIT $2
"""

_PUBLIC_DESC = """
    SELECT * FROM statuses
    WHERE visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (NOT $1 OR is_local) AND (NOT $2 OR NOT is_local)
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($4::bigint IS NULL OR id < $4)
      AND ($5::bigint IS NULL OR id > $5)
    ORDER BY id DESC
    LIMIT $3
"""

_PUBLIC_ASC = """
    SELECT * FROM statuses
    WHERE visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (NOT $1 OR is_local) AND (NOT $2 OR NOT is_local)
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($4::bigint IS NULL OR id < $4)
      AND id > $5
    ORDER BY id ASC
    LIMIT $3
"""


async def home_timeline(
    db: Executor,
    owner_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    """Newest first; with ``min_id``, the oldest just above it first."""
    if min_id is not None:
        rows = await db.fetch(_HOME_ASC, owner_id, limit, max_id, min_id)
    else:
        rows = await db.fetch(_HOME_DESC, owner_id, limit, max_id, since_id)
    return [status_from_row(row) for row in rows]


async def public_timeline(
    db: Executor,
    *,
    local_only: bool,
    remote_only: bool,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    if min_id is not None:
        rows = await db.fetch(_PUBLIC_ASC, local_only, remote_only, limit, max_id, min_id)
    else:
        rows = await db.fetch(_PUBLIC_DESC, local_only, remote_only, limit, max_id, since_id)
    return [status_from_row(row) for row in rows]
