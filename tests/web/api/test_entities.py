"""The Status entity (and its parts) from real rows, validated against the OpenAPI shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fedinet.config import Settings
from fedinet.db.actors import upsert_remote_actor
from fedinet.models import Status
from fedinet.runtime import Runtime
from fedinet.web.api.entities import iso_time, load_statuses, media_attachment_to_mastodon
from tests.web.api.conftest import Member, make_member
from tests.web.api.schema import assert_matches


async def insert_status(runtime: Runtime, **values: Any) -> Status:
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    row = await runtime.pool.fetchrow(
        f"INSERT INTO statuses ({columns}) VALUES ({placeholders}) RETURNING *",
        *values.values(),
    )
    assert row is not None
    return Status(**dict(row))


def test_iso_time() -> None:
    moment = datetime(2019, 12, 8, 3, 48, 33, 901234, tzinfo=UTC)
    assert iso_time(moment) == "2019-12-08T03:48:33.901Z"
    assert iso_time(None) is None


def test_media_attachment() -> None:
    entity = media_attachment_to_mastodon(
        {
            "type": "Document",
            "media_type": "image/png",
            "url": "https://r.example/a.png",
            "description": "a cat",
            "width": 640,
            "height": 480,
            "blurhash": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
        },
        "1234",
    )
    assert_matches("MediaAttachment", entity)
    assert entity["type"] == "image"
    assert entity["meta"]["original"]["aspect"] == 640 / 480
    unknown = media_attachment_to_mastodon({"url": "https://r.example/x.bin"}, "5")
    assert unknown["type"] == "unknown"
    assert_matches("MediaAttachment", unknown)


async def test_statuses_with_boost_mentions_tags_and_viewer_flags(
    runtime: Runtime, settings: Settings, alice: Member
) -> None:
    bob = await make_member(runtime, settings, "bob")
    carol = await upsert_remote_actor(
        runtime.pool,
        uri="https://remote.example/users/carol",
        username="carol",
        domain="remote.example",
    )
    original = await insert_status(
        runtime,
        uri="https://remote.example/notes/1",
        url="https://remote.example/@carol/1",
        actor_id=carol.id,
        is_local=False,
        visibility="public",
        content="<p>Hi @alice #Python</p>",
        summary="cw",
        sensitive=True,
        language="en",
        attachments=[{"type": "Document", "media_type": "video/mp4", "url": "https://r/v.mp4"}],
    )
    await runtime.pool.execute(
        "INSERT INTO mentions (status_id, actor_id) VALUES ($1, $2)", original.id, alice.actor.id
    )
    await runtime.pool.execute(
        "INSERT INTO status_tags (status_id, tag) VALUES ($1, 'python')", original.id
    )
    reply = await insert_status(
        runtime,
        uri="https://fedinet.test/users/bob/statuses/2",
        actor_id=bob.actor.id,
        is_local=True,
        visibility="unlisted",
        content="<p>reply</p>",
        in_reply_to_id=original.id,
        in_reply_to_actor_id=carol.id,
    )
    boost = await insert_status(
        runtime,
        uri="https://fedinet.test/users/alice/statuses/3/activity",
        actor_id=alice.actor.id,
        is_local=True,
        visibility="public",
        reblog_of_id=original.id,
    )
    await runtime.pool.execute(
        "INSERT INTO favourites (uri, actor_id, status_id) VALUES ('https://f/1', $1, $2)",
        alice.actor.id,
        original.id,
    )
    authors = {a.id: a for a in (alice.actor, bob.actor, carol)}
    rendered = await load_statuses(
        runtime.pool,
        settings,
        [boost, reply],
        authors=authors,
        boosted={original.id: original},
        viewer=alice.actor,
    )
    for entity in rendered:
        assert_matches("Status", entity)
    boost_entity, reply_entity = rendered
    assert boost_entity["id"] == str(boost.id)
    assert boost_entity["content"] == ""
    assert boost_entity["account"]["acct"] == "alice"
    inner = boost_entity["reblog"]
    assert_matches("Status", inner)
    assert inner["id"] == str(original.id)
    assert inner["account"]["acct"] == "carol@remote.example"
    assert inner["url"] == "https://remote.example/@carol/1"
    assert inner["spoiler_text"] == "cw" and inner["sensitive"] is True
    assert inner["mentions"] == [
        {
            "id": str(alice.actor.id),
            "username": "alice",
            "url": "https://fedinet.test/@alice",
            "acct": "alice",
        }
    ]
    assert inner["tags"] == [{"name": "python", "url": "https://fedinet.test/tags/python"}]
    assert (inner["replies_count"], inner["reblogs_count"], inner["favourites_count"]) == (
        1,
        1,
        1,
    )
    assert inner["favourited"] is True and inner["reblogged"] is True
    assert inner["media_attachments"][0]["type"] == "video"
    assert reply_entity["in_reply_to_id"] == str(original.id)
    assert reply_entity["in_reply_to_account_id"] == str(carol.id)
    assert reply_entity["favourited"] is False
    assert "pinned" not in reply_entity  # bob's status, seen by alice
    assert boost_entity["pinned"] is False  # alice's own

    anonymous = await load_statuses(
        runtime.pool, settings, [original], authors=authors, viewer=None
    )
    assert_matches("Status", anonymous[0])
    assert "favourited" not in anonymous[0]
