"""Named follow queries: accounts two people both follow, one pair or many at once."""

from __future__ import annotations

from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.runtime import Runtime


async def test_followed_by_both_many_matches_the_single_query(runtime: Runtime) -> None:
    pool = runtime.pool
    ids = {}
    for name in ("me", "ann", "ben", "cat", "t1", "t2", "t3"):
        actor = await actors_db.upsert_remote_actor(
            pool,
            uri=f"https://remote.example/users/{name}",
            actor_type="Person",
            username=name,
            domain="remote.example",
            inbox_uri=f"https://remote.example/users/{name}/inbox",
        )
        ids[name] = actor.id
    follows = [
        ("me", "t1", True),
        ("me", "t2", True),
        ("me", "t3", False),  # pending: never counts
        ("ann", "t1", True),
        ("ann", "t2", True),
        ("ann", "t3", True),
        ("ben", "t3", True),
    ]
    for follower, followee, accepted in follows:
        await follows_db.insert_follow(
            pool,
            uri=f"https://remote.example/follows/{follower}-{followee}",
            follower_id=ids[follower],
            followee_id=ids[followee],
            accepted=accepted,
        )
    others = [ids["ann"], ids["ben"], ids["cat"]]
    many = await follows_db.list_followed_by_both_many(pool, ids["me"], others, limit=5)
    assert sorted(many[ids["ann"]]) == ["t1@remote.example", "t2@remote.example"]
    assert many[ids["ben"]] == [] and many[ids["cat"]] == []
    for other in others:
        single = await follows_db.list_followed_by_both(pool, ids["me"], other, limit=5)
        assert many[other] == single
    limited = await follows_db.list_followed_by_both_many(pool, ids["me"], others, limit=1)
    assert len(limited[ids["ann"]]) == 1
