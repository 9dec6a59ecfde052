"""Bulk-loading a large instance for ``bench_timeline`` (bench-only SQL, never run by fedinet).

Everything is made inside PostgreSQL with ``generate_series``, so a million statuses load
in a minute or two rather than through a million round trips:

* ``ACCOUNTS`` remote accounts spread over ``DOMAINS`` servers;
* ``STATUSES`` public statuses (about 400 characters of HTML each, and the Note document
  as received, which fedinet keeps in ``raw``, as the accounts keep their actor
  documents), written round-robin by those accounts, with ids made as ``fedinet_id``
  makes them (milliseconds << 16 | a counter), one second apart, the newest now;
* the member follows ``FOLLOWED`` of the accounts (accepted), and the member's home feed
  holds every status those accounts wrote, as fan-out on write would have left it;
* a sprinkling of replies, favourites, mentions and tags, so the per-page queries that
  count and list them have something to find.
"""

from __future__ import annotations

from typing import Any

__all__ = ["seed", "seeded_status_count"]

DOMAINS = 100
ACCOUNTS = 10_000
FOLLOWED = 1_000
STATUSES = 1_000_000

_ACTORS = """
INSERT INTO actors (uri, is_local, username, domain, display_name, summary, url, inbox_uri,
                    shared_inbox_uri, followers_uri, following_uri, outbox_uri,
                    manually_approves_followers, published, fetched_at, raw)
SELECT 'https://server' || (g % $2) || '.example/users/user' || g, false, 'user' || g,
       'server' || (g % $2) || '.example', 'User number ' || g,
       '<p>I grow tomatoes and write about <a href="https://example.org">gardens</a>.</p>',
       'https://server' || (g % $2) || '.example/@user' || g,
       'https://server' || (g % $2) || '.example/users/user' || g || '/inbox',
       'https://server' || (g % $2) || '.example/inbox',
       'https://server' || (g % $2) || '.example/users/user' || g || '/followers',
       'https://server' || (g % $2) || '.example/users/user' || g || '/following',
       'https://server' || (g % $2) || '.example/users/user' || g || '/outbox',
       false, now() - interval '400 days', now(),
       -- the actor document as fetched (fedinet keeps it): about 2.5 KB, as Mastodon's
       jsonb_build_object(
           '@context', jsonb_build_array('https://www.w3.org/ns/activitystreams',
                                         'https://w3id.org/security/v1'),
           'id', 'https://server' || (g % $2) || '.example/users/user' || g,
           'type', 'Person', 'preferredUsername', 'user' || g, 'name', 'User number ' || g,
           'summary', '<p>I grow tomatoes and write about gardens.</p>',
           'inbox', 'https://server' || (g % $2) || '.example/users/user' || g || '/inbox',
           'outbox', 'https://server' || (g % $2) || '.example/users/user' || g || '/outbox',
           'followers', 'https://server' || (g % $2) || '.example/users/user' || g || '/followers',
           'following', 'https://server' || (g % $2) || '.example/users/user' || g || '/following',
           'url', 'https://server' || (g % $2) || '.example/@user' || g,
           'manuallyApprovesFollowers', false, 'discoverable', true,
           'published', '2025-01-01T00:00:00Z',
           'publicKey', jsonb_build_object(
               'id', 'https://server' || (g % $2) || '.example/users/user' || g || '#main-key',
               'owner', 'https://server' || (g % $2) || '.example/users/user' || g,
               'publicKeyPem', '-----BEGIN PUBLIC KEY-----\n' || repeat(md5(g::text), 12)
                               || '\n-----END PUBLIC KEY-----\n'),
           'endpoints', jsonb_build_object('sharedInbox',
                                           'https://server' || (g % $2) || '.example/inbox'),
           'icon', jsonb_build_object('type', 'Image', 'mediaType', 'image/png',
                                      'url', 'https://server' || (g % $2) || '.example/a.png'),
           'attachment', jsonb_build_array(jsonb_build_object(
               'type', 'PropertyValue', 'name', 'Garden',
               'value', '<a href="https://example.org">example.org</a>')))
FROM generate_series(1, $1) AS g
"""

# the seeded remote accounts, numbered 0.. in creation order
_NUMBERED = """
CREATE TEMP TABLE bench_accounts AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id
FROM actors WHERE NOT is_local AND domain LIKE 'server%.example'
"""

_FOLLOWS = """
INSERT INTO follows (uri, follower_id, followee_id, state, accepted_at)
SELECT 'https://bench.invalid/follows/' || b.id, $1, b.id, 'accepted', now()
FROM bench_accounts b WHERE b.n < $2
"""

# status g (1 = oldest) is written by account g mod ACCOUNTS, one second after g - 1
_STATUSES = """
INSERT INTO statuses (id, uri, url, actor_id, is_local, visibility, content, language,
                      published, created_at, raw)
SELECT ((floor(extract(epoch FROM t.at) * 1000)::bigint) << 16) | (g & 65535),
       a.uri || '/statuses/' || g, a.url || '/' || g, a.id, false, 'public',
       '<p>Status ' || g || ' from ' || a.username || ': the seedlings are coming up '
       || 'nicely this week, the tomatoes are finally flowering, and the beans have found '
       || 'their way up the fence. Anyone else trying companion planting with marigolds '
       || 'this year? I would love to hear how it went for you and what you learned.</p>',
       'en', t.at, t.at,
       -- the Note as received (fedinet keeps it): about 1.5 KB
       jsonb_build_object(
           'id', a.uri || '/statuses/' || g, 'type', 'Note', 'attributedTo', a.uri,
           'url', a.url || '/' || g, 'published', t.at, 'sensitive', false,
           'to', jsonb_build_array('https://www.w3.org/ns/activitystreams#Public'),
           'cc', jsonb_build_array(a.uri || '/followers'),
           'content', '<p>Status ' || g || ' from ' || a.username || ': the seedlings are '
               || 'coming up nicely this week, the tomatoes are finally flowering, and the '
               || 'beans have found their way up the fence.</p>',
           'contentMap', jsonb_build_object('en', '<p>Status ' || g || '</p>'),
           'attachment', '[]'::jsonb, 'tag', '[]'::jsonb,
           'replies', jsonb_build_object(
               'id', a.uri || '/statuses/' || g || '/replies', 'type', 'Collection',
               'first', jsonb_build_object('type', 'CollectionPage', 'items', '[]'::jsonb,
                   'next', a.uri || '/statuses/' || g || '/replies?only_other_accounts=true'
                           || '&page=true',
                   'partOf', a.uri || '/statuses/' || g || '/replies')),
           'likes', jsonb_build_object('id', a.uri || '/statuses/' || g || '/likes',
                                       'type', 'Collection', 'totalItems', 0),
           'shares', jsonb_build_object('id', a.uri || '/statuses/' || g || '/shares',
                                        'type', 'Collection', 'totalItems', 0))
FROM generate_series(1, $1) AS g
JOIN bench_accounts b ON b.n = g % $2
JOIN actors a ON a.id = b.id
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => $1 - g) AS at) t
"""

_HOME_FEED = """
INSERT INTO home_feed (owner_id, status_id)
SELECT $1, s.id FROM statuses s JOIN follows f ON f.followee_id = s.actor_id
WHERE f.follower_id = $1 AND f.state = 'accepted'
"""

# every 50th status replies to the one before it; every 7th has a favourite; every 11th a
# tag; every 13th mentions the member
_REPLIES = """
UPDATE statuses s SET in_reply_to_id = p.id, in_reply_to_uri = p.uri,
                      in_reply_to_actor_id = p.actor_id
FROM statuses p
WHERE s.id % 50 = 0 AND p.id = (SELECT max(id) FROM statuses q WHERE q.id < s.id)
"""

_FAVOURITES = """
INSERT INTO favourites (uri, actor_id, status_id)
SELECT s.uri || '#likes/1', (SELECT id FROM bench_accounts WHERE n = 1), s.id
FROM statuses s WHERE s.id % 7 = 0
"""

_TAGS = """
INSERT INTO status_tags (status_id, tag) SELECT id, 'gardening' FROM statuses WHERE id % 11 = 0
"""

_MENTIONS = (
    "INSERT INTO mentions (status_id, actor_id) SELECT id, $1 FROM statuses WHERE id % 13 = 0"
)


async def seeded_status_count(conn: Any) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM statuses"))


async def seed(conn: Any, member_actor_id: int, *, statuses: int = STATUSES) -> None:
    """Load the instance around the member ``member_actor_id`` (one transaction)."""
    async with conn.transaction():
        await conn.execute(_ACTORS, ACCOUNTS, DOMAINS)
        await conn.execute(_NUMBERED)
        await conn.execute(_FOLLOWS, member_actor_id, FOLLOWED)
        await conn.execute(_STATUSES, statuses, ACCOUNTS)
        await conn.execute(_HOME_FEED, member_actor_id)
        await conn.execute(_REPLIES)
        await conn.execute(_FAVOURITES)
        await conn.execute(_TAGS)
        await conn.execute(_MENTIONS, member_actor_id)
        await conn.execute("DROP TABLE bench_accounts")
    await conn.execute("VACUUM ANALYZE")
