"""Named queries for actors and their keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedinet.db.types import Executor, Record
from fedinet.models import Actor, ActorKey

__all__ = [
    "count_local_members",
    "get_actor_and_key",
    "get_actor_by_id",
    "get_actor_by_uri",
    "get_actors_by_ids",
    "get_actors_to_show",
    "get_key",
    "get_local_actor_by_username",
    "get_local_private_key",
    "insert_actor",
    "insert_key",
    "list_keys_for_actor",
    "mark_local_actor_deleted",
    "mark_remote_actor_deleted",
    "remove_actor_from_feeds",
    "replace_remote_keys",
    "set_actor_suspended",
    "set_display",
    "set_hide_collections",
    "set_images",
    "sever_actor",
    "update_local_profile",
    "upsert_remote_actor",
]


def actor_from_row(row: Record | Mapping[str, Any]) -> Actor:
    """Columns of ``actors`` map one to one onto :class:`Actor` fields."""
    return Actor(**row)  # a Record unpacks by name, without the copy into a dict


def _key_from_row(row: Record) -> ActorKey:
    return ActorKey(**dict(row))


async def insert_actor(db: Executor, **values: Any) -> Actor:
    """Insert an actor. ``values`` are column names of ``actors``."""
    row = await db.fetchrow(
        """
        INSERT INTO actors (
            uri, is_local, actor_type, username, domain, display_name, summary, url,
            inbox_uri, outbox_uri, shared_inbox_uri, followers_uri, following_uri,
            featured_uri, manually_approves_followers, discoverable, indexable, published
        ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                  $17, $18)
        RETURNING *
        """,
        values["uri"],
        values["is_local"],
        values.get("actor_type", "Person"),
        values["username"],
        values["domain"],
        values.get("display_name", ""),
        values.get("summary", ""),
        values.get("url"),
        values.get("inbox_uri"),
        values.get("outbox_uri"),
        values.get("shared_inbox_uri"),
        values.get("followers_uri"),
        values.get("following_uri"),
        values.get("featured_uri"),
        values.get("manually_approves_followers", True),
        values.get("discoverable", True),
        values.get("indexable", False),
        values.get("published"),
    )
    assert row is not None
    return actor_from_row(row)


async def get_actor_by_id(db: Executor, actor_id: int) -> Actor | None:
    row = await db.fetchrow("SELECT * FROM actors WHERE id = $1", actor_id)
    return None if row is None else actor_from_row(row)


async def get_actor_by_uri(db: Executor, uri: str) -> Actor | None:
    row = await db.fetchrow("SELECT * FROM actors WHERE uri = $1", uri)
    return None if row is None else actor_from_row(row)


async def get_local_actor_by_username(db: Executor, username: str) -> Actor | None:
    row = await db.fetchrow(
        "SELECT * FROM actors WHERE is_local AND lower(username) = lower($1)",
        username,
    )
    return None if row is None else actor_from_row(row)


async def count_local_members(db: Executor) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM actors a JOIN users u ON u.actor_id = a.id "
        "WHERE a.is_local AND a.deleted_at IS NULL"
    )
    return int(value or 0)


async def insert_key(
    db: Executor,
    *,
    key_id: str,
    actor_id: int,
    kind: str,
    public_key_pem: str,
    private_key_pem: str | None = None,
) -> ActorKey:
    row = await db.fetchrow(
        """
        INSERT INTO actor_keys (key_id, actor_id, kind, public_key_pem, private_key_pem)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING key_id, actor_id, kind, public_key_pem, private_key_pem
        """,
        key_id,
        actor_id,
        kind,
        public_key_pem,
        private_key_pem,
    )
    assert row is not None
    return _key_from_row(row)


async def get_key(db: Executor, key_id: str) -> ActorKey | None:
    row = await db.fetchrow(
        "SELECT key_id, actor_id, kind, public_key_pem, private_key_pem "
        "FROM actor_keys WHERE key_id = $1",
        key_id,
    )
    return None if row is None else _key_from_row(row)


async def list_keys_for_actor(db: Executor, actor_id: int) -> list[ActorKey]:
    rows = await db.fetch(
        "SELECT key_id, actor_id, kind, public_key_pem, private_key_pem "
        "FROM actor_keys WHERE actor_id = $1 ORDER BY created_at, key_id",
        actor_id,
    )
    return [_key_from_row(row) for row in rows]


async def get_local_private_key(db: Executor, actor_id: int, kind: str) -> ActorKey | None:
    row = await db.fetchrow(
        "SELECT key_id, actor_id, kind, public_key_pem, private_key_pem FROM actor_keys "
        "WHERE actor_id = $1 AND kind = $2 AND private_key_pem IS NOT NULL "
        "ORDER BY created_at DESC LIMIT 1",
        actor_id,
        kind,
    )
    return None if row is None else _key_from_row(row)


async def upsert_remote_actor(db: Executor, **values: Any) -> Actor:
    """Insert or refresh a remote actor fetched from its server; ``fetched_at`` = now."""
    row = await db.fetchrow(
        """
        INSERT INTO actors AS a (
            uri, is_local, actor_type, username, domain, display_name, summary, url,
            inbox_uri, outbox_uri, shared_inbox_uri, followers_uri, following_uri,
            featured_uri, manually_approves_followers, discoverable, indexable, avatar_url,
            header_url, fields, raw, published, fetched_at, motives, interests, region,
            follow_note_policy
        ) VALUES ($1, false, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                  $16, $17, $18, $19, $20, $21, now(), $22, $23, $24, $25)
        ON CONFLICT (uri) DO UPDATE SET
            actor_type = EXCLUDED.actor_type,
            username = EXCLUDED.username,
            display_name = EXCLUDED.display_name,
            summary = EXCLUDED.summary,
            url = EXCLUDED.url,
            inbox_uri = EXCLUDED.inbox_uri,
            outbox_uri = EXCLUDED.outbox_uri,
            shared_inbox_uri = EXCLUDED.shared_inbox_uri,
            followers_uri = EXCLUDED.followers_uri,
            following_uri = EXCLUDED.following_uri,
            featured_uri = EXCLUDED.featured_uri,
            manually_approves_followers = EXCLUDED.manually_approves_followers,
            discoverable = EXCLUDED.discoverable,
            indexable = EXCLUDED.indexable,
            avatar_url = EXCLUDED.avatar_url,
            header_url = EXCLUDED.header_url,
            fields = EXCLUDED.fields,
            raw = EXCLUDED.raw,
            published = EXCLUDED.published,
            motives = EXCLUDED.motives,
            interests = EXCLUDED.interests,
            region = EXCLUDED.region,
            follow_note_policy = EXCLUDED.follow_note_policy,
            fetched_at = now(),
            updated_at = now()
        WHERE NOT a.is_local
        RETURNING *
        """,
        values["uri"],
        values.get("actor_type", "Person"),
        values["username"],
        values["domain"],
        values.get("display_name", ""),
        values.get("summary", ""),
        values.get("url"),
        values.get("inbox_uri"),
        values.get("outbox_uri"),
        values.get("shared_inbox_uri"),
        values.get("followers_uri"),
        values.get("following_uri"),
        values.get("featured_uri"),
        values.get("manually_approves_followers", False),
        values.get("discoverable", False),
        values.get("indexable", False),
        values.get("avatar_url"),
        values.get("header_url"),
        values.get("fields", []),
        values.get("raw"),
        values.get("published"),
        values.get("motives", []),
        values.get("interests", []),
        values.get("region"),
        values.get("follow_note_policy"),
    )
    if row is None:
        raise ValueError(f"{values['uri']} is a local actor and cannot be replaced")
    return actor_from_row(row)


async def replace_remote_keys(
    db: Executor, actor_id: int, keys: list[tuple[str, str, str]]
) -> None:
    """Make ``keys`` ((key_id, kind, public_key_pem), …) the actor's only keys."""
    await db.execute(
        "DELETE FROM actor_keys WHERE actor_id = $1 AND NOT (key_id = ANY($2::text[]))",
        actor_id,
        [key_id for key_id, _, _ in keys],
    )
    await db.executemany(
        """
        INSERT INTO actor_keys (key_id, actor_id, kind, public_key_pem)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (key_id) DO UPDATE SET
            actor_id = EXCLUDED.actor_id,
            kind = EXCLUDED.kind,
            public_key_pem = EXCLUDED.public_key_pem
        WHERE actor_keys.private_key_pem IS NULL
        """,
        [(key_id, actor_id, kind, pem) for key_id, kind, pem in keys],
    )


async def get_actor_and_key(db: Executor, key_id: str) -> tuple[Actor, ActorKey] | None:
    """The key ``key_id`` and the actor owning it, when known."""
    key = await get_key(db, key_id)
    if key is None:
        return None
    actor = await get_actor_by_id(db, key.actor_id)
    if actor is None:
        return None
    return actor, key


async def mark_remote_actor_deleted(db: Executor, actor_id: int) -> None:
    """A remote account was deleted: keep a tombstone row, drop what it left here."""
    await db.execute(
        "UPDATE actors SET deleted_at = now() WHERE id = $1 AND NOT is_local", actor_id
    )
    await db.execute(
        "UPDATE statuses SET deleted_at = now(), content = '', raw = NULL "
        "WHERE actor_id = $1 AND deleted_at IS NULL",
        actor_id,
    )
    await db.execute(
        "DELETE FROM home_feed h USING statuses s WHERE h.status_id = s.id AND s.actor_id = $1",
        actor_id,
    )
    await db.execute("DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1", actor_id)
    await db.execute("DELETE FROM favourites WHERE actor_id = $1", actor_id)


async def get_actors_by_ids(db: Executor, actor_ids: list[int]) -> dict[int, Actor]:
    rows = await db.fetch("SELECT * FROM actors WHERE id = ANY($1::bigint[])", actor_ids)
    return {row["id"]: actor_from_row(row) for row in rows}


async def get_actors_to_show(db: Executor, actor_ids: list[int]) -> dict[int, Actor]:
    """Like :func:`get_actors_by_ids` without ``raw`` (the actor document as fetched, a few
    kilobytes of JSON each), which no client entity shows: for pages of statuses.
    tests/db/test_timelines.py fails when a new column is missing here."""
    rows = await db.fetch(
        """
        SELECT id, uri, is_local, actor_type, username, domain, display_name, summary, url,
               inbox_uri, outbox_uri, shared_inbox_uri, followers_uri, following_uri,
               featured_uri, manually_approves_followers, discoverable, indexable,
               avatar_url, header_url, fields, published, fetched_at, suspended_at,
               deleted_at, created_at, updated_at, motives, interests, region,
               follow_note_policy, hide_collections
        FROM actors WHERE id = ANY($1::bigint[])
        """,
        actor_ids,
    )
    return {row["id"]: actor_from_row(row) for row in rows}


async def update_local_profile(
    db: Executor,
    actor_id: int,
    *,
    display_name: str,
    summary: str,
    manually_approves_followers: bool,
    discoverable: bool,
    fields: list[dict[str, str]],
    motives: list[str],
    interests: list[str],
    region: str | None,
    follow_note_policy: str,
) -> Actor | None:
    row = await db.fetchrow(
        """
        UPDATE actors SET display_name = $2, summary = $3, manually_approves_followers = $4,
            discoverable = $5, fields = $6, motives = $7, interests = $8, region = $9,
            follow_note_policy = $10, updated_at = now()
        WHERE id = $1 AND is_local
        RETURNING *
        """,
        actor_id,
        display_name,
        summary,
        manually_approves_followers,
        discoverable,
        fields,
        motives,
        interests,
        region,
        follow_note_policy,
    )
    return None if row is None else actor_from_row(row)


async def set_display(db: Executor, actor_id: int, *, display_name: str, summary: str) -> None:
    await db.execute(
        "UPDATE actors SET display_name = $2, summary = $3, updated_at = now() WHERE id = $1",
        actor_id,
        display_name,
        summary,
    )


async def set_hide_collections(db: Executor, actor_id: int, hide: bool) -> None:
    await db.execute(
        "UPDATE actors SET hide_collections = $2, updated_at = now() WHERE id = $1 AND is_local",
        actor_id,
        hide,
    )


async def set_images(
    db: Executor, actor_id: int, *, avatar_url: str | None, header_url: str | None
) -> None:
    """A local member's avatar and header URLs (uploaded files)."""
    await db.execute(
        "UPDATE actors SET avatar_url = $2, header_url = $3, updated_at = now() "
        "WHERE id = $1 AND is_local",
        actor_id,
        avatar_url,
        header_url,
    )


async def set_actor_suspended(db: Executor, actor_id: int, suspended: bool) -> Actor | None:
    """Suspend an actor (``suspended_at`` = now, kept if already set) or lift it."""
    row = await db.fetchrow(
        """
        UPDATE actors
        SET suspended_at = CASE WHEN $2 THEN coalesce(suspended_at, now()) END,
            updated_at = now()
        WHERE id = $1
        RETURNING *
        """,
        actor_id,
        suspended,
    )
    return None if row is None else actor_from_row(row)


async def remove_actor_from_feeds(db: Executor, actor_id: int) -> None:
    """Take an actor's statuses out of every home feed and drop the notifications it
    caused (suspension)."""
    await db.execute(
        "DELETE FROM home_feed h USING statuses s WHERE h.status_id = s.id AND s.actor_id = $1",
        actor_id,
    )
    await db.execute("DELETE FROM notifications WHERE from_actor_id = $1", actor_id)


async def sever_actor(db: Executor, actor_id: int) -> int:
    """Cut an actor off from local members: its follows both ways, its statuses in home
    feeds and the notifications it caused; returns how many follows went."""
    await remove_actor_from_feeds(db, actor_id)
    status = await db.execute(
        "DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1", actor_id
    )
    return int(status.rsplit(" ", 1)[-1])


async def mark_local_actor_deleted(db: Executor, actor_id: int) -> None:
    """A member's account is deleted: keep the actor as a tombstone (its username stays
    taken, its keys sign the Delete), wipe its profile and statuses, cut its ties."""
    await db.execute(
        """
        UPDATE actors
        SET deleted_at = now(), display_name = '', summary = '', fields = '[]'::jsonb,
            avatar_url = NULL, header_url = NULL, motives = '{}', interests = '{}',
            region = NULL, discoverable = false, updated_at = now()
        WHERE id = $1 AND is_local
        """,
        actor_id,
    )
    await db.execute(
        "UPDATE statuses SET deleted_at = now(), content = '', source_text = NULL, raw = NULL "
        "WHERE actor_id = $1 AND deleted_at IS NULL",
        actor_id,
    )
    await sever_actor(db, actor_id)
    await db.execute("DELETE FROM favourites WHERE actor_id = $1", actor_id)
    await db.execute(
        "UPDATE connect_links SET revoked_at = now() WHERE owner_id = $1 AND revoked_at IS NULL",
        actor_id,
    )
