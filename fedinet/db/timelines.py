"""Named queries for timelines, paged as Mastodon pages them (by id).

Each timeline has two queries, newest-first and (for ``min_id``) oldest-first, so that
both walk an index instead of sorting. The public timelines leave out suspended accounts
and remote statuses of blocked domains: a silenced (limited) domain is seen only by those
who follow its people.

The home timeline checks ``fedinet_hides`` (blocks, mutes, domain blocks) per status only
when its owner has any of those: three index probes once per page instead of three per
status for the many who have none.

They name every column of ``statuses`` but ``raw``: the document as received (a kilobyte
or two of JSON per remote status) is never shown, and decoding it was a large part of
serving a page. tests/db/test_timelines.py fails when a new column is missing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fedinet.db.statuses import status_from_row
from fedinet.db.types import Executor
from fedinet.models import Status

__all__ = [
    "BOOKMARKED",
    "FAVOURITED",
    "PINNED",
    "REBLOGGED",
    "HomeEntry",
    "HomePage",
    "ShownStatus",
    "home_page",
    "home_timeline",
    "list_timeline",
    "public_timeline",
    "statuses_in_order",
    "statuses_to_show",
    "tag_timeline",
]

# The home page's statuses: one row per page entry, followed for a boost by one for the
# status it boosts (``original``). ``key`` tells whether a rendered entity is still what
# the rows say: the status's id and row version (its xmin, the transaction that last
# wrote it: PostgreSQL writes a new row version on every UPDATE), its author's actor and
# counters row versions, and its own counters' row version (status_stats). ``flags`` are
# the viewer's (favourited 1, reblogged 2, bookmarked 4, pinned 8), never cached. The
# bounds are written so that PostgreSQL keeps one generic plan for the statement instead
# of planning it again on every request. ``credentials_version`` is that of the token
# ``$5`` as oauth.get_token_with_bearer reads it: an endpoint holding a token it read
# earlier checks it is unchanged in the same statement (see web/api/auth.py).
_HOME_PAGE_DESC = """
    SELECT x.original, t.id, t.actor_id, t.reblog_of_id,
           concat_ws(' ', t.id, t.xmin, a.xmin, coalesce(st.xmin::text, '-'),
                     coalesce((SELECT ss.xmin::text FROM status_stats ss
                               WHERE ss.status_id = t.id), '-')) AS key,
           (EXISTS (SELECT 1 FROM favourites f
                    WHERE f.status_id = t.id AND f.actor_id = $1))::int
           + 2 * (EXISTS (SELECT 1 FROM statuses b
                          WHERE b.reblog_of_id = t.id AND b.actor_id = $1
                            AND b.deleted_at IS NULL))::int
           + 4 * (EXISTS (SELECT 1 FROM bookmarks k
                          WHERE k.status_id = t.id AND k.actor_id = $1))::int
           + 8 * (EXISTS (SELECT 1 FROM status_pins n
                          WHERE n.status_id = t.id AND n.actor_id = $1))::int AS flags,
           EXISTS (SELECT 1 FROM filters z WHERE z.owner_id = $1
                   AND (z.expires_at IS NULL OR z.expires_at > now())) AS has_filters,
           (SELECT concat_ws(' ', ot.xmin, oa.xmin, ou.xmin, oc.xmin)
            FROM oauth_tokens ot JOIN oauth_apps oa ON oa.id = ot.app_id
            LEFT JOIN users ou ON ou.id = ot.user_id
            LEFT JOIN actors oc ON oc.id = ou.actor_id
            WHERE ot.id = $5) AS credentials_version
    FROM (
        SELECT h.status_id AS id, s.reblog_of_id
        FROM home_feed h JOIN statuses s ON s.id = h.status_id
        WHERE h.owner_id = $1 AND s.deleted_at IS NULL
          AND h.status_id < coalesce($3::bigint, 9223372036854775807)
          AND h.status_id > coalesce($4::bigint, -9223372036854775808)
          AND ((NOT EXISTS (SELECT 1 FROM blocks b WHERE b.actor_id = $1 OR b.target_id = $1)
                AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.actor_id = $1)
                AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.actor_id = $1))
               OR (NOT fedinet_hides(h.owner_id, s.actor_id)
                   AND (s.reblog_of_id IS NULL OR NOT EXISTS (
                         SELECT 1 FROM statuses o WHERE o.id = s.reblog_of_id
                           AND fedinet_hides(h.owner_id, o.actor_id)))))
          AND (s.actor_id = h.owner_id OR NOT EXISTS (
                SELECT 1 FROM lists l JOIN list_accounts la ON la.list_id = l.id
                WHERE l.owner_id = h.owner_id AND l.exclusive AND la.actor_id = s.actor_id))
        ORDER BY h.status_id DESC
        LIMIT $2
    ) AS p
    CROSS JOIN LATERAL (VALUES (p.id, false), (p.reblog_of_id, true)) AS x(id, original)
    JOIN statuses t ON t.id = x.id
    JOIN actors a ON a.id = t.actor_id
    LEFT JOIN account_stats st ON st.actor_id = t.actor_id
    ORDER BY p.id DESC, x.original
"""

# The same, oldest first (for ``min_id``).
_HOME_PAGE_ASC = """
    SELECT x.original, t.id, t.actor_id, t.reblog_of_id,
           concat_ws(' ', t.id, t.xmin, a.xmin, coalesce(st.xmin::text, '-'),
                     coalesce((SELECT ss.xmin::text FROM status_stats ss
                               WHERE ss.status_id = t.id), '-')) AS key,
           (EXISTS (SELECT 1 FROM favourites f
                    WHERE f.status_id = t.id AND f.actor_id = $1))::int
           + 2 * (EXISTS (SELECT 1 FROM statuses b
                          WHERE b.reblog_of_id = t.id AND b.actor_id = $1
                            AND b.deleted_at IS NULL))::int
           + 4 * (EXISTS (SELECT 1 FROM bookmarks k
                          WHERE k.status_id = t.id AND k.actor_id = $1))::int
           + 8 * (EXISTS (SELECT 1 FROM status_pins n
                          WHERE n.status_id = t.id AND n.actor_id = $1))::int AS flags,
           EXISTS (SELECT 1 FROM filters z WHERE z.owner_id = $1
                   AND (z.expires_at IS NULL OR z.expires_at > now())) AS has_filters,
           (SELECT concat_ws(' ', ot.xmin, oa.xmin, ou.xmin, oc.xmin)
            FROM oauth_tokens ot JOIN oauth_apps oa ON oa.id = ot.app_id
            LEFT JOIN users ou ON ou.id = ot.user_id
            LEFT JOIN actors oc ON oc.id = ou.actor_id
            WHERE ot.id = $5) AS credentials_version
    FROM (
        SELECT h.status_id AS id, s.reblog_of_id
        FROM home_feed h JOIN statuses s ON s.id = h.status_id
        WHERE h.owner_id = $1 AND s.deleted_at IS NULL
          AND h.status_id < coalesce($3::bigint, 9223372036854775807)
          AND h.status_id > coalesce($4::bigint, -9223372036854775808)
          AND ((NOT EXISTS (SELECT 1 FROM blocks b WHERE b.actor_id = $1 OR b.target_id = $1)
                AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.actor_id = $1)
                AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.actor_id = $1))
               OR (NOT fedinet_hides(h.owner_id, s.actor_id)
                   AND (s.reblog_of_id IS NULL OR NOT EXISTS (
                         SELECT 1 FROM statuses o WHERE o.id = s.reblog_of_id
                           AND fedinet_hides(h.owner_id, o.actor_id)))))
          AND (s.actor_id = h.owner_id OR NOT EXISTS (
                SELECT 1 FROM lists l JOIN list_accounts la ON la.list_id = l.id
                WHERE l.owner_id = h.owner_id AND l.exclusive AND la.actor_id = s.actor_id))
        ORDER BY h.status_id ASC
        LIMIT $2
    ) AS p
    CROSS JOIN LATERAL (VALUES (p.id, false), (p.reblog_of_id, true)) AS x(id, original)
    JOIN statuses t ON t.id = x.id
    JOIN actors a ON a.id = t.actor_id
    LEFT JOIN account_stats st ON st.actor_id = t.actor_id
    ORDER BY p.id ASC, x.original
"""

# The statuses of a page by id, every column but ``raw`` (see the module's docstring).
_STATUSES_TO_SHOW = """
    SELECT id, uri, url, actor_id, is_local, object_type, visibility,
           in_reply_to_uri, in_reply_to_id, in_reply_to_actor_id, reblog_of_id,
           content, source_text, summary, sensitive, language, attachments,
           published, edited_at, deleted_at, created_at
    FROM statuses WHERE id = ANY($1::bigint[])
"""

_PUBLIC_DESC = """
    SELECT id, uri, url, actor_id, is_local, object_type, visibility,
           in_reply_to_uri, in_reply_to_id, in_reply_to_actor_id, reblog_of_id,
           content, source_text, summary, sensitive, language, attachments,
           published, edited_at, deleted_at, created_at
    FROM statuses
    WHERE visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (NOT $1 OR is_local) AND (NOT $2 OR NOT is_local)
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($4::bigint IS NULL OR id < $4)
      AND ($5::bigint IS NULL OR id > $5)
      AND ($6::bigint IS NULL OR NOT fedinet_hides($6, actor_id))
    ORDER BY id DESC
    LIMIT $3
"""

_PUBLIC_ASC = """
    SELECT id, uri, url, actor_id, is_local, object_type, visibility,
           in_reply_to_uri, in_reply_to_id, in_reply_to_actor_id, reblog_of_id,
           content, source_text, summary, sensitive, language, attachments,
           published, edited_at, deleted_at, created_at
    FROM statuses
    WHERE visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (NOT $1 OR is_local) AND (NOT $2 OR NOT is_local)
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($4::bigint IS NULL OR id < $4)
      AND id > $5
      AND ($6::bigint IS NULL OR NOT fedinet_hides($6, actor_id))
    ORDER BY id ASC
    LIMIT $3
"""

# The local timelines name ``is_local`` (and the other predicates of
# statuses_local_public_idx, migrations/0014) literally rather than as ``NOT $1 OR
# is_local``: a prepared statement may run with a generic plan, which cannot use a partial
# index on a parameter. With the shared queries, a local page walked the index of every
# public status (remote ones included) until it found enough local ones.
_PUBLIC_LOCAL_DESC = """
    SELECT id, uri, url, actor_id, is_local, object_type, visibility,
           in_reply_to_uri, in_reply_to_id, in_reply_to_actor_id, reblog_of_id,
           content, source_text, summary, sensitive, language, attachments,
           published, edited_at, deleted_at, created_at
    FROM statuses
    WHERE is_local AND visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($2::bigint IS NULL OR id < $2)
      AND ($3::bigint IS NULL OR id > $3)
      AND ($4::bigint IS NULL OR NOT fedinet_hides($4, actor_id))
    ORDER BY id DESC
    LIMIT $1
"""

_PUBLIC_LOCAL_ASC = """
    SELECT id, uri, url, actor_id, is_local, object_type, visibility,
           in_reply_to_uri, in_reply_to_id, in_reply_to_actor_id, reblog_of_id,
           content, source_text, summary, sensitive, language, attachments,
           published, edited_at, deleted_at, created_at
    FROM statuses
    WHERE is_local AND visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL
      AND (SELECT a.suspended_at IS NULL
                  AND (a.is_local OR fedinet_domain_block_severity(a.domain) IS NULL)
           FROM actors a WHERE a.id = statuses.actor_id)
      AND ($2::bigint IS NULL OR id < $2)
      AND id > $3
      AND ($4::bigint IS NULL OR NOT fedinet_hides($4, actor_id))
    ORDER BY id ASC
    LIMIT $1
"""


_TAG_DESC = """
    SELECT s.id, s.uri, s.url, s.actor_id, s.is_local, s.object_type, s.visibility,
           s.in_reply_to_uri, s.in_reply_to_id, s.in_reply_to_actor_id, s.reblog_of_id,
           s.content, s.source_text, s.summary, s.sensitive, s.language, s.attachments,
           s.published, s.edited_at, s.deleted_at, s.created_at
    FROM statuses s
    WHERE s.id IN (SELECT t.status_id FROM status_tags t WHERE t.tag = ANY($1::text[]))
      AND s.visibility = 'public' AND s.deleted_at IS NULL
      AND (NOT $2 OR s.is_local) AND (NOT $3 OR NOT s.is_local)
      AND (NOT $4 OR s.attachments <> '[]'::jsonb)
      AND ($6::bigint IS NULL OR s.id < $6)
      AND ($7::bigint IS NULL OR s.id > $7)
      AND ($8::bigint IS NULL OR NOT fedinet_hides($8, s.actor_id))
      AND NOT EXISTS (
            SELECT 1 FROM status_tags o WHERE o.status_id = s.id AND o.tag = ANY($9::text[]))
    ORDER BY s.id DESC
    LIMIT $5
"""

_TAG_ASC = """
    SELECT s.id, s.uri, s.url, s.actor_id, s.is_local, s.object_type, s.visibility,
           s.in_reply_to_uri, s.in_reply_to_id, s.in_reply_to_actor_id, s.reblog_of_id,
           s.content, s.source_text, s.summary, s.sensitive, s.language, s.attachments,
           s.published, s.edited_at, s.deleted_at, s.created_at
    FROM statuses s
    WHERE s.id IN (SELECT t.status_id FROM status_tags t WHERE t.tag = ANY($1::text[]))
      AND s.visibility = 'public' AND s.deleted_at IS NULL
      AND (NOT $2 OR s.is_local) AND (NOT $3 OR NOT s.is_local)
      AND (NOT $4 OR s.attachments <> '[]'::jsonb)
      AND ($6::bigint IS NULL OR s.id < $6)
      AND s.id > $7
      AND ($8::bigint IS NULL OR NOT fedinet_hides($8, s.actor_id))
      AND NOT EXISTS (
            SELECT 1 FROM status_tags o WHERE o.status_id = s.id AND o.tag = ANY($9::text[]))
    ORDER BY s.id ASC
    LIMIT $5
"""

_TAG_LOCAL_DESC = """
    SELECT s.id, s.uri, s.url, s.actor_id, s.is_local, s.object_type, s.visibility,
           s.in_reply_to_uri, s.in_reply_to_id, s.in_reply_to_actor_id, s.reblog_of_id,
           s.content, s.source_text, s.summary, s.sensitive, s.language, s.attachments,
           s.published, s.edited_at, s.deleted_at, s.created_at
    FROM statuses s
    WHERE s.is_local AND s.visibility = 'public' AND s.deleted_at IS NULL
      AND s.id IN (SELECT t.status_id FROM status_tags t WHERE t.tag = ANY($1::text[]))
      AND (NOT $2 OR s.attachments <> '[]'::jsonb)
      AND ($4::bigint IS NULL OR s.id < $4)
      AND ($5::bigint IS NULL OR s.id > $5)
      AND ($6::bigint IS NULL OR NOT fedinet_hides($6, s.actor_id))
      AND NOT EXISTS (
            SELECT 1 FROM status_tags o WHERE o.status_id = s.id AND o.tag = ANY($7::text[]))
    ORDER BY s.id DESC
    LIMIT $3
"""

_TAG_LOCAL_ASC = """
    SELECT s.id, s.uri, s.url, s.actor_id, s.is_local, s.object_type, s.visibility,
           s.in_reply_to_uri, s.in_reply_to_id, s.in_reply_to_actor_id, s.reblog_of_id,
           s.content, s.source_text, s.summary, s.sensitive, s.language, s.attachments,
           s.published, s.edited_at, s.deleted_at, s.created_at
    FROM statuses s
    WHERE s.is_local AND s.visibility = 'public' AND s.deleted_at IS NULL
      AND s.id IN (SELECT t.status_id FROM status_tags t WHERE t.tag = ANY($1::text[]))
      AND (NOT $2 OR s.attachments <> '[]'::jsonb)
      AND ($4::bigint IS NULL OR s.id < $4)
      AND s.id > $5
      AND ($6::bigint IS NULL OR NOT fedinet_hides($6, s.actor_id))
      AND NOT EXISTS (
            SELECT 1 FROM status_tags o WHERE o.status_id = s.id AND o.tag = ANY($7::text[]))
    ORDER BY s.id ASC
    LIMIT $3
"""

# A list shows what its accounts post that its owner may see: public and unlisted posts,
# followers-only ones when the owner follows, direct ones that mention the owner; replies
# as the list's replies_policy says.
_LIST = """
    SELECT s.id, s.uri, s.url, s.actor_id, s.is_local, s.object_type, s.visibility,
           s.in_reply_to_uri, s.in_reply_to_id, s.in_reply_to_actor_id, s.reblog_of_id,
           s.content, s.source_text, s.summary, s.sensitive, s.language, s.attachments,
           s.published, s.edited_at, s.deleted_at, s.created_at
    FROM lists l
    JOIN list_accounts la ON la.list_id = l.id
    JOIN statuses s ON s.actor_id = la.actor_id
    WHERE l.id = $1 AND s.deleted_at IS NULL
      AND ($3::bigint IS NULL OR s.id < $3)
      AND ($4::bigint IS NULL OR s.id > $4)
      AND ($5::bigint IS NULL OR s.id > $5)
      AND (s.visibility IN ('public', 'unlisted')
           OR (s.visibility = 'private' AND EXISTS (
                SELECT 1 FROM follows f WHERE f.follower_id = l.owner_id
                  AND f.followee_id = s.actor_id AND f.state = 'accepted'))
           OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id
                      AND m.actor_id = l.owner_id))
      AND (s.in_reply_to_actor_id IS NULL OR s.in_reply_to_actor_id = s.actor_id
           OR s.in_reply_to_actor_id = l.owner_id
           OR (l.replies_policy = 'list' AND EXISTS (
                SELECT 1 FROM list_accounts o WHERE o.list_id = l.id
                  AND o.actor_id = s.in_reply_to_actor_id))
           OR (l.replies_policy = 'followed' AND EXISTS (
                SELECT 1 FROM follows f WHERE f.follower_id = l.owner_id
                  AND f.followee_id = s.in_reply_to_actor_id AND f.state = 'accepted')))
      AND NOT fedinet_hides(l.owner_id, s.actor_id)
      AND (s.reblog_of_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM statuses o WHERE o.id = s.reblog_of_id
              AND fedinet_hides(l.owner_id, o.actor_id)))
    ORDER BY CASE WHEN $5::bigint IS NULL THEN -s.id ELSE s.id END
    LIMIT $2
"""


@dataclass(slots=True)
class ShownStatus:
    """A status of a home page: ``key`` identifies the version of its entity (see
    :data:`_HOME_PAGE_DESC`), ``flags`` the viewer's (:data:`FAVOURITED` …)."""

    id: int
    actor_id: int
    reblog_of_id: int | None
    key: str
    flags: int


FAVOURITED: Final = 1
REBLOGGED: Final = 2
BOOKMARKED: Final = 4
PINNED: Final = 8


@dataclass(slots=True)
class HomeEntry:
    """A page entry, and for a boost the status it boosts (``None`` when that is gone)."""

    status: ShownStatus
    original: ShownStatus | None


@dataclass(frozen=True, slots=True)
class HomePage:
    entries: list[HomeEntry]
    viewer_has_filters: bool
    credentials_version: str | None = None  # of ``token_id``'s rows; None on empty pages


async def home_page(
    db: Executor,
    owner_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
    token_id: int | None = None,
) -> HomePage:
    """The home timeline's page as :class:`ShownStatus` entries, what rendering it needs
    to know, in one round trip. Newest first; with ``min_id``, the oldest just above it
    first. With ``token_id``, ``credentials_version`` is that token's (see
    :class:`fedinet.db.oauth.BearerToken`), read in the same snapshot as the page."""
    if min_id is not None:
        rows = await db.fetch(_HOME_PAGE_ASC, owner_id, limit, max_id, min_id, token_id)
    else:
        rows = await db.fetch(_HOME_PAGE_DESC, owner_id, limit, max_id, since_id, token_id)
    entries: list[HomeEntry] = []
    for original, status_id, actor_id, reblog_of_id, key, flags, _, _ in rows:
        shown = ShownStatus(status_id, actor_id, reblog_of_id, key, flags)
        if original:
            entries[-1].original = shown
        else:
            entries.append(HomeEntry(shown, None))
    if not rows:
        return HomePage(entries, viewer_has_filters=False)
    return HomePage(
        entries,
        viewer_has_filters=rows[0]["has_filters"],
        credentials_version=rows[0]["credentials_version"],
    )


async def statuses_to_show(db: Executor, status_ids: list[int]) -> dict[int, Status]:
    """Statuses by id with every column but ``raw`` (deleted ones too: a boost shows
    the boosted status whatever its state, as ``statuses.get_statuses_by_ids``)."""
    rows = await db.fetch(_STATUSES_TO_SHOW, status_ids)
    return {row["id"]: status_from_row(row) for row in rows}


async def home_timeline(
    db: Executor,
    owner_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    """The statuses of :func:`home_page`, in its order."""
    page = await home_page(
        db, owner_id, limit=limit, max_id=max_id, since_id=since_id, min_id=min_id
    )
    return await statuses_in_order(db, [entry.status.id for entry in page.entries])


async def statuses_in_order(db: Executor, status_ids: list[int]) -> list[Status]:
    """The statuses of a page read earlier, in its order, less those deleted since (gone
    from the page, as from a page read now)."""
    found = await statuses_to_show(db, status_ids)
    shown = (found.get(status_id) for status_id in status_ids)
    return [s for s in shown if s is not None and s.deleted_at is None]


async def public_timeline(
    db: Executor,
    *,
    local_only: bool,
    remote_only: bool,
    limit: int,
    viewer_id: int | None = None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    if local_only:
        if remote_only:
            return []
        if min_id is not None:
            rows = await db.fetch(_PUBLIC_LOCAL_ASC, limit, max_id, min_id, viewer_id)
        else:
            rows = await db.fetch(_PUBLIC_LOCAL_DESC, limit, max_id, since_id, viewer_id)
        return [status_from_row(row) for row in rows]
    if min_id is not None:
        rows = await db.fetch(
            _PUBLIC_ASC, local_only, remote_only, limit, max_id, min_id, viewer_id
        )
    else:
        rows = await db.fetch(
            _PUBLIC_DESC, local_only, remote_only, limit, max_id, since_id, viewer_id
        )
    return [status_from_row(row) for row in rows]


async def tag_timeline(
    db: Executor,
    tags: list[str],
    *,
    limit: int,
    local_only: bool = False,
    remote_only: bool = False,
    only_media: bool = False,
    none_tags: list[str] | None = None,
    viewer_id: int | None = None,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    """Public statuses tagged with one of ``tags`` (normalized) and none of ``none_tags``."""
    cursor = min_id if min_id is not None else since_id
    if local_only:
        if remote_only:
            return []
        query = _TAG_LOCAL_ASC if min_id is not None else _TAG_LOCAL_DESC
        rows = await db.fetch(
            query, tags, only_media, limit, max_id, cursor, viewer_id, none_tags or []
        )
        return [status_from_row(row) for row in rows]
    query = _TAG_ASC if min_id is not None else _TAG_DESC
    rows = await db.fetch(
        query,
        tags,
        local_only,
        remote_only,
        only_media,
        limit,
        max_id,
        cursor,
        viewer_id,
        none_tags or [],
    )
    return [status_from_row(row) for row in rows]


async def list_timeline(
    db: Executor,
    list_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    rows = await db.fetch(_LIST, list_id, limit, max_id, since_id, min_id)
    return [status_from_row(row) for row in rows]
