"""Named queries behind the lists of one account: its statuses, its followers and the
accounts it follows, followers in common, and account search.

Paged queries take Mastodon's cursors (``max_id``, ``since_id``, ``min_id``) and come
newest-first, or oldest-first with ``min_id`` (the caller re-sorts), as the timelines do.
"""

from __future__ import annotations

from fedinet.db.actors import actor_from_row
from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor
from fedinet.models import Actor, Status

__all__ = [
    "list_account_statuses",
    "list_familiar_followers",
    "list_follower_accounts",
    "list_following_accounts",
    "search_accounts",
]

# $1 author, $2 limit, $3 max_id, $4 since_id or min_id, $5 visibilities the viewer may see
# whatever the mentions, $6 viewer (mentioned in the others), $7 exclude_replies,
# $8 exclude_reblogs, $9 only_media, $10 tagged
_STATUSES_DESC = """
    SELECT s.* FROM statuses s
    WHERE s.actor_id = $1 AND s.deleted_at IS NULL
      AND ($3::bigint IS NULL OR s.id < $3)
      AND ($4::bigint IS NULL OR s.id > $4)
      AND (s.visibility = ANY($5::text[])
           OR ($6::bigint IS NOT NULL AND EXISTS (
               SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.actor_id = $6)))
      AND (NOT $7 OR s.in_reply_to_uri IS NULL OR s.in_reply_to_actor_id = s.actor_id)
      AND (NOT $8 OR s.reblog_of_id IS NULL)
      AND (NOT $9 OR (s.reblog_of_id IS NULL AND jsonb_array_length(s.attachments) > 0))
      AND ($10::text IS NULL OR EXISTS (
               SELECT 1 FROM status_tags t WHERE t.status_id = s.id AND t.tag = $10))
    ORDER BY s.id DESC
    LIMIT $2
"""

_STATUSES_ASC = """
    SELECT s.* FROM statuses s
    WHERE s.actor_id = $1 AND s.deleted_at IS NULL
      AND ($3::bigint IS NULL OR s.id < $3)
      AND ($4::bigint IS NULL OR s.id > $4)
      AND (s.visibility = ANY($5::text[])
           OR ($6::bigint IS NOT NULL AND EXISTS (
               SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.actor_id = $6)))
      AND (NOT $7 OR s.in_reply_to_uri IS NULL OR s.in_reply_to_actor_id = s.actor_id)
      AND (NOT $8 OR s.reblog_of_id IS NULL)
      AND (NOT $9 OR (s.reblog_of_id IS NULL AND jsonb_array_length(s.attachments) > 0))
      AND ($10::text IS NULL OR EXISTS (
               SELECT 1 FROM status_tags t WHERE t.status_id = s.id AND t.tag = $10))
    ORDER BY s.id ASC
    LIMIT $2
"""


async def list_account_statuses(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    visibilities: list[str],
    viewer_id: int | None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
    tagged: str | None = None,
) -> list[Status]:
    """An account's statuses (boosts included unless excluded) in ``visibilities``, plus
    those of other visibilities that mention ``viewer_id``. ``exclude_replies`` keeps
    replies to oneself (threads), as Mastodon does."""
    query = _STATUSES_ASC if min_id is not None else _STATUSES_DESC
    rows = await db.fetch(
        query,
        actor_id,
        limit,
        max_id,
        min_id if min_id is not None else since_id,
        visibilities,
        viewer_id,
        exclude_replies,
        exclude_reblogs,
        only_media,
        tagged,
    )
    return [status_from_row(row) for row in rows]


# $1 the account, $2 limit, $3 max_id, $4 since_id or min_id (follow ids)
_FOLLOWERS_DESC = """
    SELECT f.id AS follow_id, a.* FROM follows f JOIN actors a ON a.id = f.follower_id
    WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.deleted_at IS NULL
      AND a.suspended_at IS NULL
      AND ($3::bigint IS NULL OR f.id < $3) AND ($4::bigint IS NULL OR f.id > $4)
    ORDER BY f.id DESC
    LIMIT $2
"""

_FOLLOWERS_ASC = """
    SELECT f.id AS follow_id, a.* FROM follows f JOIN actors a ON a.id = f.follower_id
    WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.deleted_at IS NULL
      AND a.suspended_at IS NULL
      AND ($3::bigint IS NULL OR f.id < $3) AND ($4::bigint IS NULL OR f.id > $4)
    ORDER BY f.id ASC
    LIMIT $2
"""

_FOLLOWING_DESC = """
    SELECT f.id AS follow_id, a.* FROM follows f JOIN actors a ON a.id = f.followee_id
    WHERE f.follower_id = $1 AND f.state = 'accepted' AND a.deleted_at IS NULL
      AND a.suspended_at IS NULL
      AND ($3::bigint IS NULL OR f.id < $3) AND ($4::bigint IS NULL OR f.id > $4)
    ORDER BY f.id DESC
    LIMIT $2
"""

_FOLLOWING_ASC = """
    SELECT f.id AS follow_id, a.* FROM follows f JOIN actors a ON a.id = f.followee_id
    WHERE f.follower_id = $1 AND f.state = 'accepted' AND a.deleted_at IS NULL
      AND a.suspended_at IS NULL
      AND ($3::bigint IS NULL OR f.id < $3) AND ($4::bigint IS NULL OR f.id > $4)
    ORDER BY f.id ASC
    LIMIT $2
"""


async def _follow_page(
    db: Executor,
    queries: tuple[str, str],
    actor_id: int,
    limit: int,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
) -> list[tuple[int, Actor]]:
    rows = await db.fetch(
        queries[1] if min_id is not None else queries[0],
        actor_id,
        limit,
        max_id,
        min_id if min_id is not None else since_id,
    )
    result = []
    for row in rows:
        values = dict(row)
        follow_id = values.pop("follow_id")
        result.append((int(follow_id), actor_from_row(values)))
    return result


async def list_follower_accounts(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(follow id, follower) of accepted follows of ``actor_id``, paged by follow id."""
    return await _follow_page(
        db, (_FOLLOWERS_DESC, _FOLLOWERS_ASC), actor_id, limit, max_id, since_id, min_id
    )


async def list_following_accounts(
    db: Executor,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[tuple[int, Actor]]:
    """(follow id, followee) of the accounts ``actor_id`` follows, paged by follow id."""
    return await _follow_page(
        db, (_FOLLOWING_DESC, _FOLLOWING_ASC), actor_id, limit, max_id, since_id, min_id
    )


async def list_familiar_followers(
    db: Executor, viewer_id: int, target_ids: list[int], *, limit: int
) -> dict[int, list[Actor]]:
    """For each target: accounts ``viewer_id`` follows that follow the target too (up to
    ``limit`` each, newest follows first)."""
    rows = await db.fetch(
        """
        SELECT t.target_id, a.* FROM unnest($2::bigint[]) AS t(target_id)
        CROSS JOIN LATERAL (
            SELECT x.* FROM follows mine
            JOIN follows theirs ON theirs.follower_id = mine.followee_id
            JOIN actors x ON x.id = mine.followee_id
            WHERE mine.follower_id = $1 AND mine.state = 'accepted'
              AND theirs.followee_id = t.target_id AND theirs.state = 'accepted'
              AND x.deleted_at IS NULL AND x.suspended_at IS NULL AND x.id <> t.target_id
              AND NOT (x.hide_collections AND x.id <> $1)
            ORDER BY theirs.id DESC LIMIT $3
        ) a
        """,
        viewer_id,
        target_ids,
        limit,
    )
    found: dict[int, list[Actor]] = {target: [] for target in target_ids}
    for row in rows:
        values = dict(row)
        target = int(values.pop("target_id"))
        found.setdefault(target, []).append(actor_from_row(values))
    return found


async def search_accounts(
    db: Executor,
    query: str,
    *,
    domain: str | None,
    local_only: bool,
    viewer_id: int,
    following_only: bool,
    limit: int,
    offset: int,
) -> list[Actor]:
    """Accounts fedinet knows whose username starts with ``query`` (and whose domain
    starts with ``domain`` when given) or whose display name contains it: approved local
    members and remote actors, never the instance actor, suspended or deleted accounts.
    Exact usernames come first, then accounts the viewer follows."""
    rows = await db.fetch(
        """
        SELECT a.* FROM actors a
        WHERE a.deleted_at IS NULL AND a.suspended_at IS NULL
          AND NOT (a.is_local AND a.actor_type = 'Application')
          AND (NOT a.is_local OR EXISTS (
                SELECT 1 FROM users u WHERE u.actor_id = a.id AND u.approved))
          AND (lower(a.username) LIKE lower($7) || '%'
               OR ($2::text IS NULL AND a.display_name ILIKE '%' || $7 || '%'))
          AND ($2::text IS NULL OR lower(a.domain) LIKE lower($8) || '%')
          AND (NOT $9 OR a.is_local)
          AND (NOT $4 OR EXISTS (
                SELECT 1 FROM follows f WHERE f.follower_id = $3 AND f.followee_id = a.id
                  AND f.state = 'accepted'))
        ORDER BY lower(a.username) = lower($1) DESC,
                 EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $3
                         AND f.followee_id = a.id AND f.state = 'accepted') DESC,
                 a.is_local DESC, lower(a.username), a.id
        LIMIT $5 OFFSET $6
        """,
        query,
        domain,
        viewer_id,
        following_only,
        limit,
        offset,
        _like_escape(query),
        None if domain is None else _like_escape(domain),
        local_only,
    )
    return [actor_from_row(row) for row in rows]


def _like_escape(value: str) -> str:
    """``value`` matched literally by LIKE (``_`` is common in usernames)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
