from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fedinet.ap.activities import (
    accept_activity,
    announce_activity,
    as_list,
    block_activity,
    create_activity,
    delete_activity,
    delete_actor_activity,
    follow_activity,
    like_activity,
    object_id,
    reject_activity,
    undo_activity,
    update_activity,
    update_actor_activity,
)
from fedinet.ap.actors import actor_to_ap
from fedinet.ap.context import ACTIVITYSTREAMS, PUBLIC
from fedinet.ap.notes import NOTE_CONTEXT, ap_to_note, note_to_ap
from fedinet.models import Actor, Status

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://fedinet.test"
ALICE = f"{BASE}/users/alice"
BOB = "https://remote.example/users/bob"


def fixture(name: str) -> dict[str, Any]:
    doc = json.loads(FIXTURES.joinpath(name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def alice() -> Actor:
    return Actor(
        id=1,
        uri=ALICE,
        is_local=True,
        actor_type="Person",
        username="alice",
        domain="fedinet.test",
        followers_uri=f"{ALICE}/followers",
    )


def bob() -> Actor:
    return Actor(
        id=2, uri=BOB, is_local=False, actor_type="Person", username="bob", domain="remote.example"
    )


def a_note(**changes: Any) -> dict[str, Any]:
    status = Status(
        id=7,
        uri=f"{ALICE}/statuses/7",
        actor_id=1,
        is_local=True,
        visibility=changes.pop("visibility", "public"),
        content="<p>hi</p>",
        published=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        **changes,
    )
    return note_to_ap(
        status, alice(), mentions=[bob()], tags=["tag"], in_reply_to_uri=None, base_url=BASE
    )


# --------------------------------------------------------------------------- helpers


def test_object_id() -> None:
    assert object_id("https://a.example/1") == "https://a.example/1"
    assert object_id({"id": "https://a.example/1", "type": "Note"}) == "https://a.example/1"
    assert object_id({"type": "Note"}) is None
    assert object_id({"id": 5}) is None
    assert object_id("") is None
    assert object_id(None) is None
    assert object_id(["https://a.example/1"]) is None
    assert object_id(fixture("mitra_accept.json")["object"]).startswith("https://voyager")
    assert object_id(fixture("mbin_accept.json")["object"]) == (
        "https://some-other.instance/f/object/c51ea652-e594-4920-a989-f5350f0cec05"
    )


def test_as_list() -> None:
    assert as_list(None) == []
    assert as_list("x") == ["x"]
    assert as_list({"a": 1}) == [{"a": 1}]
    items = [1, 2]
    assert as_list(items) is items


# --------------------------------------------------------------------------- posts


def test_create_copies_audience_and_takes_the_note_context() -> None:
    note = a_note()
    before = copy.deepcopy(note)
    activity = create_activity(f"{ALICE}/statuses/7/activity", ALICE, note)
    assert note == before  # not mutated
    assert activity["@context"] == NOTE_CONTEXT
    assert activity["id"] == f"{ALICE}/statuses/7/activity"
    assert activity["type"] == "Create"
    assert activity["actor"] == ALICE
    assert activity["published"] == "2024-01-02T03:04:05Z"
    assert activity["to"] == [PUBLIC]
    assert activity["cc"] == [f"{ALICE}/followers", BOB]
    embedded = activity["object"]
    assert "@context" not in embedded
    assert embedded == {k: v for k, v in note.items() if k != "@context"}
    # What a receiver reads back is the note itself.
    parsed = ap_to_note(
        activity["object"],
        actor_uri=ALICE,
        followers_uri=f"{ALICE}/followers",
        activity=activity,
    )
    assert parsed.visibility == "public" and parsed.mentions == (BOB,)


def test_create_direct_note_keeps_its_audience() -> None:
    activity = create_activity("https://x/1", ALICE, a_note(visibility="direct"))
    assert activity["to"] == [BOB]
    assert activity["cc"] == []


def test_create_requires_an_object_id() -> None:
    with pytest.raises(ValueError, match="no id"):
        create_activity("https://x/1", ALICE, {"type": "Note"})


def test_update_of_an_edited_note() -> None:
    note = a_note(edited_at=datetime(2024, 2, 3, tzinfo=UTC), visibility="unlisted")
    activity = update_activity(f"{ALICE}/statuses/7#updates/1", ALICE, note)
    assert activity["type"] == "Update"
    assert activity["@context"] == NOTE_CONTEXT
    assert activity["published"] == "2024-02-03T00:00:00Z"
    assert activity["to"] == [f"{ALICE}/followers"]
    assert activity["cc"] == [PUBLIC, BOB]
    assert activity["object"]["updated"] == "2024-02-03T00:00:00Z"
    assert "@context" not in activity["object"]


def test_delete_with_tombstone_matches_mastodon_shape() -> None:
    activity = delete_activity(
        f"{ALICE}/statuses/7#delete", ALICE, f"{ALICE}/statuses/7", [PUBLIC], [BOB]
    )
    assert activity == {
        "@context": ACTIVITYSTREAMS,
        "id": f"{ALICE}/statuses/7#delete",
        "type": "Delete",
        "actor": ALICE,
        "to": [PUBLIC],
        "cc": [BOB],
        "object": {"id": f"{ALICE}/statuses/7", "type": "Tombstone"},
    }
    for name in ("mastodon_delete.json", "friendica_delete.json"):
        real = fixture(name)
        assert set(activity) - {"cc"} <= set(real)
        assert real["object"]["type"] == activity["object"]["type"]


def test_like_matches_mastodon() -> None:
    real = fixture("mastodon_like.json")
    assert like_activity(real["id"], real["actor"], real["object"]) == real


def test_announce() -> None:
    activity = announce_activity(
        f"{ALICE}/statuses/8/activity",
        ALICE,
        "https://remote.example/notes/1",
        published=datetime(2024, 3, 4, 5, 6, 7, 890, tzinfo=UTC),
        to=[PUBLIC],
        cc=[BOB, f"{ALICE}/followers"],
    )
    assert activity == {
        "@context": ACTIVITYSTREAMS,
        "id": f"{ALICE}/statuses/8/activity",
        "type": "Announce",
        "actor": ALICE,
        "published": "2024-03-04T05:06:07Z",
        "to": [PUBLIC],
        "cc": [BOB, f"{ALICE}/followers"],
        "object": "https://remote.example/notes/1",
    }


# --------------------------------------------------------------------------- relationships


def test_follow_matches_mastodon() -> None:
    real = fixture("mastodon_follow.json")
    assert follow_activity(real["id"], real["actor"], real["object"]) == real


def test_accept_embeds_the_follow_like_mbin_and_mastodon() -> None:
    real = fixture("mbin_accept.json")
    follow = dict(real["object"], **{"@context": ACTIVITYSTREAMS})
    assert accept_activity(real["id"], real["actor"], follow) == real
    # Without a context of its own, the Follow embeds the same.
    assert accept_activity(real["id"], real["actor"], real["object"]) == real


def test_reject_with_and_without_reason() -> None:
    follow = follow_activity("https://remote.example/follows/1", BOB, ALICE)
    plain = reject_activity(f"{ALICE}#rejects/follows/1", ALICE, follow)
    assert plain == {
        "@context": ACTIVITYSTREAMS,
        "id": f"{ALICE}#rejects/follows/1",
        "type": "Reject",
        "actor": ALICE,
        "object": {
            "id": "https://remote.example/follows/1",
            "type": "Follow",
            "actor": BOB,
            "object": ALICE,
        },
    }
    reasoned = reject_activity(f"{ALICE}#rejects/follows/1", ALICE, follow, content="no thanks")
    assert reasoned["content"] == "no thanks"
    assert "@context" in follow  # the caller's document is left alone


@pytest.mark.parametrize("builder", [accept_activity, reject_activity])
def test_answers_only_follows_of_oneself(builder: Any) -> None:
    follow = follow_activity("https://remote.example/follows/1", BOB, ALICE)
    with pytest.raises(ValueError, match="Follow of itself"):
        builder("https://x/1", f"{BASE}/users/carol", follow)
    with pytest.raises(ValueError, match="must embed a Follow"):
        builder("https://x/1", ALICE, dict(follow, type="Like"))
    with pytest.raises(ValueError, match="no id"):
        builder("https://x/1", ALICE, {"type": "Follow", "actor": BOB, "object": ALICE})


def test_block() -> None:
    assert block_activity(f"{ALICE}#blocks/1", ALICE, BOB) == {
        "@context": ACTIVITYSTREAMS,
        "id": f"{ALICE}#blocks/1",
        "type": "Block",
        "actor": ALICE,
        "object": BOB,
    }


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("mastodon_undo_follow.json", follow_activity),
        ("mastodon_undo_like.json", like_activity),
    ],
)
def test_undo_matches_mastodon(name: str, build: Any) -> None:
    real = fixture(name)
    inner = real["object"]
    rebuilt = build(inner["id"], inner["actor"], inner["object"])
    assert undo_activity(real["id"], real["actor"], rebuilt) == real


def test_undo_announce_copies_audience() -> None:
    announce = announce_activity(
        "https://x/a/1",
        ALICE,
        "https://remote.example/notes/1",
        published=datetime(2024, 1, 1, tzinfo=UTC),
        to=[PUBLIC],
        cc=[BOB],
    )
    undo = undo_activity("https://x/a/1#undo", ALICE, announce)
    assert undo["to"] == [PUBLIC] and undo["cc"] == [BOB]
    assert undo["object"]["type"] == "Announce"
    assert "@context" not in undo["object"]


def test_undo_only_ones_own() -> None:
    with pytest.raises(ValueError, match="its own"):
        undo_activity("https://x/1", ALICE, follow_activity("https://y/1", BOB, ALICE))


# --------------------------------------------------------------------------- actors


def test_update_actor() -> None:
    doc = actor_to_ap(alice(), [], base_url=BASE)
    activity = update_actor_activity(f"{ALICE}#updates/1700000000", ALICE, doc)
    assert activity["@context"] == doc["@context"]
    assert activity["type"] == "Update"
    assert activity["actor"] == ALICE
    assert activity["to"] == [PUBLIC]
    assert activity["object"] == {k: v for k, v in doc.items() if k != "@context"}
    with pytest.raises(ValueError, match="its own actor"):
        update_actor_activity("https://x/1", BOB, doc)


def test_delete_actor() -> None:
    assert delete_actor_activity(f"{ALICE}#delete", ALICE) == {
        "@context": ACTIVITYSTREAMS,
        "id": f"{ALICE}#delete",
        "type": "Delete",
        "actor": ALICE,
        "to": [PUBLIC],
        "object": ALICE,
    }


def test_everything_is_json() -> None:
    follow = follow_activity("https://x/f", BOB, ALICE)
    built = [
        create_activity("https://x/c", ALICE, a_note()),
        update_activity("https://x/u", ALICE, a_note()),
        delete_activity("https://x/d", ALICE, "https://x/n", [PUBLIC]),
        follow,
        accept_activity("https://x/a", ALICE, follow),
        reject_activity("https://x/r", ALICE, follow),
        undo_activity("https://x/un", BOB, follow),
        like_activity("https://x/l", ALICE, "https://x/n"),
        announce_activity(
            "https://x/b", ALICE, "https://x/n", published=datetime.now(UTC), to=[], cc=[]
        ),
        block_activity("https://x/k", ALICE, BOB),
        update_actor_activity("https://x/ua", ALICE, actor_to_ap(alice(), [], base_url=BASE)),
        delete_actor_activity("https://x/da", ALICE),
    ]
    for activity in built:
        assert json.loads(json.dumps(activity)) == activity
        assert activity["@context"]
