"""Read-only queries the client API needs to present accounts, statuses and the instance:
counts, the viewer's flags on statuses, mentions and tags (batched by id, so that a page
of N entities costs a fixed number of queries rather than N), and a few lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fedinet.db.actors import actor_from_row
from fedinet.db.types import Executor
from fedinet.models import Actor

__all__ = [
    "AccountCounts",
    "PageFacts",
    "StatusCounts",
    "ViewerFlags",
    "WeeklyActivity",
    "count_account_stats",
    "count_local_statuses",
    "count_pending_follow_requests",
    "count_status_stats",
    "get_authors_to_show",
    "get_contact_actor",
    "get_remote_actor_by_acct",
    "list_mentioned_actors",
    "list_peer_domains",
    "list_tags_for_statuses",
    "status_page_facts",
    "viewer_status_flags",
    "weekly_activity",
]


@dataclass(frozen=True, slots=True)
class AccountCounts:
    followers: int = 0
    following: int = 0
    statuses: int = 0
    last_status_at: date | None = None


@dataclass(frozen=True, slots=True)
class StatusCounts:
    replies: int = 0
    reblogs: int = 0
    favourites: int = 0


@dataclass(frozen=True, slots=True)
class ViewerFlags:
    """What the viewing member did with a status."""

    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page of statuses shows besides the statuses and their authors."""

    counts: dict[int, StatusCounts]
    flags: dict[int, ViewerFlags]
    """The viewer's flags (all false without a viewer)."""
    tags: dict[int, list[str]]
    mentioned_ids: dict[int, list[int]]
    """The ids of the actors each status mentions, by actor id."""
    viewer_has_filters: bool
    """Whether the viewer has a filter not expired (then filters apply to the page)."""


@dataclass(frozen=True, slots=True)
class WeeklyActivity:
    week_start: datetime
    statuses: int
    logins: int
    registrations: int


# --------------------------------------------------------------------------- accounts


async def count_account_stats(db: Executor, actor_ids: list[int]) -> dict[int, AccountCounts]:
    """Accepted followers and follows, statuses (boosts included, direct messages not, as
    Mastodon counts them) and the day of the last one, for each actor in ``actor_ids``."""
    if not actor_ids:
        return {}
    # Kept on write by the triggers of migrations/0012_account_stats.sql: one index
    # lookup per account, however much it has posted or how many follow it.
    rows = await db.fetch(
        """
        SELECT actor_id AS id, followers_count AS followers, following_count AS following,
               statuses_count AS statuses, last_status_at
        FROM account_stats WHERE actor_id = ANY($1::bigint[])
        """,
        actor_ids,
    )
    return {
        int(row["id"]): AccountCounts(
            followers=int(row["followers"] or 0),
            following=int(row["following"] or 0),
            statuses=int(row["statuses"] or 0),
            last_status_at=None if row["last_status_at"] is None else row["last_status_at"].date(),
        )
        for row in rows
    }


async def get_authors_to_show(
    db: Executor, actor_ids: list[int]
) -> tuple[dict[int, Actor], dict[int, AccountCounts]]:
    """The actors of :func:`fedinet.db.actors.get_actors_to_show` (no ``raw``) and their
    counts of :func:`count_account_stats`, in one round trip: for pages of statuses.
    tests/db/test_timelines.py fails when a new column of ``actors`` is missing here."""
    if not actor_ids:
        return {}, {}
    rows = await db.fetch(
        """
        SELECT a.id, a.uri, a.is_local, a.actor_type, a.username, a.domain, a.display_name,
               a.summary, a.url, a.inbox_uri, a.outbox_uri, a.shared_inbox_uri,
               a.followers_uri, a.following_uri, a.featured_uri,
               a.manually_approves_followers, a.discoverable, a.indexable, a.avatar_url,
               a.header_url, a.fields, a.published, a.fetched_at, a.suspended_at,
               a.deleted_at, a.created_at, a.updated_at, a.motives, a.interests, a.region,
               a.follow_note_policy, a.hide_collections,
               coalesce(st.followers_count, 0) AS stats_followers,
               coalesce(st.following_count, 0) AS stats_following,
               coalesce(st.statuses_count, 0) AS stats_statuses,
               st.last_status_at AS stats_last_status_at
        FROM actors a LEFT JOIN account_stats st ON st.actor_id = a.id
        WHERE a.id = ANY($1::bigint[])
        """,
        actor_ids,
    )
    actors: dict[int, Actor] = {}
    counts: dict[int, AccountCounts] = {}
    for row in rows:
        values = dict(row)
        last = values.pop("stats_last_status_at")
        actor_id = values["id"]
        counts[actor_id] = AccountCounts(
            followers=int(values.pop("stats_followers")),
            following=int(values.pop("stats_following")),
            statuses=int(values.pop("stats_statuses")),
            last_status_at=None if last is None else last.date(),
        )
        actors[actor_id] = actor_from_row(values)
    return actors, counts


async def count_pending_follow_requests(db: Executor, actor_id: int, *, cap: int = 40) -> int:
    """Pending follow requests to ``actor_id``, counted up to ``cap`` (as Mastodon does)."""
    value = await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM follows WHERE followee_id = $1 "
        "AND state = 'pending' LIMIT $2) pending",
        actor_id,
        cap,
    )
    return int(value or 0)


# --------------------------------------------------------------------------- statuses


async def count_status_stats(db: Executor, status_ids: list[int]) -> dict[int, StatusCounts]:
    if not status_ids:
        return {}
    rows = await db.fetch(
        """
        SELECT s.id, coalesce(c.replies_count, 0) AS replies,
               coalesce(c.reblogs_count, 0) AS reblogs,
               coalesce(c.favourites_count, 0) AS favourites
        FROM unnest($1::bigint[]) AS s(id)
        LEFT JOIN status_stats c ON c.status_id = s.id
        """,
        status_ids,
    )
    return {
        int(row["id"]): StatusCounts(
            replies=int(row["replies"]),
            reblogs=int(row["reblogs"]),
            favourites=int(row["favourites"]),
        )
        for row in rows
    }


async def status_page_facts(
    db: Executor, status_ids: list[int], viewer_actor_id: int | None
) -> PageFacts:
    """What a page of statuses shows besides the statuses, in one round trip: the counts
    of :func:`count_status_stats`, the viewer's flags of :func:`viewer_status_flags`, the
    tags of :func:`list_tags_for_statuses`, the ids of the mentioned actors (those of
    :func:`list_mentioned_actors`) and whether the viewer has active filters."""
    if not status_ids:
        return PageFacts({}, {}, {}, {}, viewer_has_filters=False)
    rows = await db.fetch(
        """
        SELECT s.id, coalesce(c.replies_count, 0) AS replies,
               coalesce(c.reblogs_count, 0) AS reblogs,
               coalesce(c.favourites_count, 0) AS favourites,
               $2::bigint IS NOT NULL AND EXISTS (
                   SELECT 1 FROM favourites f
                   WHERE f.status_id = s.id AND f.actor_id = $2) AS favourited,
               $2::bigint IS NOT NULL AND EXISTS (
                   SELECT 1 FROM statuses b
                   WHERE b.reblog_of_id = s.id AND b.actor_id = $2
                     AND b.deleted_at IS NULL) AS reblogged,
               $2::bigint IS NOT NULL AND EXISTS (
                   SELECT 1 FROM bookmarks k
                   WHERE k.status_id = s.id AND k.actor_id = $2) AS bookmarked,
               $2::bigint IS NOT NULL AND EXISTS (
                   SELECT 1 FROM status_pins p
                   WHERE p.status_id = s.id AND p.actor_id = $2) AS pinned,
               ARRAY(SELECT t.tag FROM status_tags t
                     WHERE t.status_id = s.id ORDER BY t.tag) AS tags,
               ARRAY(SELECT m.actor_id FROM mentions m
                     WHERE m.status_id = s.id ORDER BY m.actor_id) AS mentioned,
               $2::bigint IS NOT NULL AND EXISTS (
                   SELECT 1 FROM filters x WHERE x.owner_id = $2
                     AND (x.expires_at IS NULL OR x.expires_at > now())) AS has_filters
        FROM unnest($1::bigint[]) AS s(id)
        LEFT JOIN status_stats c ON c.status_id = s.id
        """,
        status_ids,
        viewer_actor_id,
    )
    counts: dict[int, StatusCounts] = {}
    flags: dict[int, ViewerFlags] = {}
    tags: dict[int, list[str]] = {}
    mentioned: dict[int, list[int]] = {}
    has_filters = False
    for row in rows:
        status_id = int(row["id"])
        counts[status_id] = StatusCounts(
            replies=int(row["replies"]),
            reblogs=int(row["reblogs"]),
            favourites=int(row["favourites"]),
        )
        flags[status_id] = ViewerFlags(
            favourited=row["favourited"],
            reblogged=row["reblogged"],
            bookmarked=row["bookmarked"],
            pinned=row["pinned"],
        )
        if row["tags"]:
            tags[status_id] = list(row["tags"])
        if row["mentioned"]:
            mentioned[status_id] = list(row["mentioned"])
        has_filters = row["has_filters"]
    return PageFacts(counts, flags, tags, mentioned, viewer_has_filters=has_filters)


async def viewer_status_flags(
    db: Executor, viewer_actor_id: int, status_ids: list[int]
) -> dict[int, ViewerFlags]:
    if not status_ids:
        return {}
    rows = await db.fetch(
        """
        SELECT s.id,
               EXISTS (SELECT 1 FROM favourites f
                        WHERE f.status_id = s.id AND f.actor_id = $1) AS favourited,
               EXISTS (SELECT 1 FROM statuses b
                        WHERE b.reblog_of_id = s.id AND b.actor_id = $1
                          AND b.deleted_at IS NULL) AS reblogged,
               EXISTS (SELECT 1 FROM bookmarks k
                        WHERE k.status_id = s.id AND k.actor_id = $1) AS bookmarked,
               EXISTS (SELECT 1 FROM status_pins p
                        WHERE p.status_id = s.id AND p.actor_id = $1) AS pinned
        FROM unnest($2::bigint[]) AS s(id)
        """,
        viewer_actor_id,
        status_ids,
    )
    return {
        int(row["id"]): ViewerFlags(
            favourited=row["favourited"],
            reblogged=row["reblogged"],
            bookmarked=row["bookmarked"],
            pinned=row["pinned"],
        )
        for row in rows
    }


async def list_mentioned_actors(db: Executor, status_ids: list[int]) -> dict[int, list[Actor]]:
    """The actors each status mentions, in a stable order (by actor id)."""
    if not status_ids:
        return {}
    rows = await db.fetch(
        "SELECT m.status_id AS mentioned_in, a.* FROM mentions m "
        "JOIN actors a ON a.id = m.actor_id "
        "WHERE m.status_id = ANY($1::bigint[]) ORDER BY m.status_id, a.id",
        status_ids,
    )
    found: dict[int, list[Actor]] = {}
    for row in rows:
        values = dict(row)
        status_id = int(values.pop("mentioned_in"))
        found.setdefault(status_id, []).append(Actor(**values))
    return found


async def list_tags_for_statuses(db: Executor, status_ids: list[int]) -> dict[int, list[str]]:
    if not status_ids:
        return {}
    rows = await db.fetch(
        "SELECT status_id, tag FROM status_tags WHERE status_id = ANY($1::bigint[]) "
        "ORDER BY status_id, tag",
        status_ids,
    )
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(int(row["status_id"]), []).append(row["tag"])
    return found


# --------------------------------------------------------------------------- instance


async def count_local_statuses(db: Executor) -> int:
    """This instance's statuses, boosts and deleted ones left out: exact, and read from
    statuses_local_created_idx alone (migrations/0014), so it costs in proportion to the
    local statuses, however many remote ones were received."""
    value = await db.fetchval(
        "SELECT count(*) FROM statuses WHERE is_local AND deleted_at IS NULL "
        "AND reblog_of_id IS NULL"
    )
    return int(value or 0)


# Each step seeks the next domain in actors_domain_idx (a "loose index scan"), so the cost
# grows with the number of domains, not of remote actors, as ``SELECT DISTINCT`` did.
_PEER_DOMAINS = """
    WITH RECURSIVE peers (domain) AS (
        SELECT min(a.domain) FROM actors a WHERE NOT a.is_local
        UNION ALL
        SELECT (SELECT min(a.domain) FROM actors a
                WHERE a.domain > peers.domain AND NOT a.is_local)
        FROM peers WHERE peers.domain IS NOT NULL
    )
    SELECT p.domain FROM peers p
    WHERE p.domain IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM domain_blocks b
                      WHERE b.domain = p.domain AND b.severity = 'suspend')
    ORDER BY p.domain
"""


async def list_peer_domains(db: Executor) -> list[str]:
    """Domains of the remote actors fedinet knows, suspended domains left out."""
    rows = await db.fetch(_PEER_DOMAINS)
    return [row["domain"] for row in rows]


async def get_remote_actor_by_acct(db: Executor, username: str, domain: str) -> Actor | None:
    """A remote actor fedinet already knows, by ``username@domain`` (case-insensitive)."""
    row = await db.fetchrow(
        "SELECT * FROM actors WHERE NOT is_local AND lower(username) = lower($1) "
        "AND domain = lower($2)",
        username,
        domain,
    )
    return None if row is None else actor_from_row(row)


async def get_contact_actor(db: Executor) -> Actor | None:
    """The first admin's actor (the instance's contact), if any is active."""
    row = await db.fetchrow(
        """
        SELECT a.* FROM actors a JOIN users u ON u.actor_id = a.id
        WHERE u.is_admin AND a.is_local AND a.suspended_at IS NULL AND a.deleted_at IS NULL
        ORDER BY u.id LIMIT 1
        """
    )
    return None if row is None else actor_from_row(row)


async def weekly_activity(db: Executor, weeks: int = 12) -> list[WeeklyActivity]:
    """Local statuses, logins and sign-ups per ISO week (Monday 00:00 UTC), newest first.

    Logins are approximate: fedinet keeps each member's last login and each token's last
    use, not a history, so a member counts in the week of their latest activity only.
    The statuses of each week are a range of statuses_local_created_idx (migrations/0014).
    """
    rows = await db.fetch(
        """
        WITH weeks AS (
            SELECT w AT TIME ZONE 'UTC' AS week_start,
                   (w + interval '1 week') AT TIME ZONE 'UTC' AS week_end
            FROM generate_series(
                date_trunc('week', now() AT TIME ZONE 'UTC') - ($1 - 1) * interval '1 week',
                date_trunc('week', now() AT TIME ZONE 'UTC'),
                interval '1 week'
            ) AS w
        )
        SELECT w.week_start,
               (SELECT count(*) FROM statuses s
                 WHERE s.is_local AND s.reblog_of_id IS NULL
                   AND s.created_at >= w.week_start AND s.created_at < w.week_end)
                   AS statuses,
               (SELECT count(*) FROM (
                    SELECT u.id FROM users u
                     WHERE u.last_login_at >= w.week_start AND u.last_login_at < w.week_end
                    UNION
                    SELECT t.user_id FROM oauth_tokens t
                     WHERE t.user_id IS NOT NULL
                       AND t.last_used_at >= w.week_start AND t.last_used_at < w.week_end
                ) active) AS logins,
               (SELECT count(*) FROM users u
                 WHERE u.created_at >= w.week_start AND u.created_at < w.week_end)
                   AS registrations
        FROM weeks w
        ORDER BY w.week_start DESC
        """,
        weeks,
    )
    return [
        WeeklyActivity(
            week_start=row["week_start"],
            statuses=int(row["statuses"]),
            logins=int(row["logins"]),
            registrations=int(row["registrations"]),
        )
        for row in rows
    ]
