"""Real ActivityPub documents from Mastodon, Pleroma, Friendica, Mitra, Mbin and Smithereen,
fed through fedinet's inbox queue and handlers.

The documents under ``fixtures/real/`` are copies of what those servers sent (see
``fixtures/real/SOURCES.md``). They were addressed to other servers (mostly Lemmy
instances), so to make one relevant here a test rewrites only the URLs that named the
recipient's side: the target account, the target status, our own follow request.
:func:`substitute` does exactly that — whole URLs, listed per case — and leaves the remote
actor, every other id and the structure as sent. Each activity is then checked the way
the inbox checks it (:func:`check_ownership`), stored as the inbox stores it, processed
by the real worker code (``process_pending``) and its effect asserted in the database.

Case ids start with the server that emitted the document, so a failure names it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fedinet.ap.activities import object_id
from fedinet.ap.actors import ap_to_actor
from fedinet.ap.notes import ap_to_note
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import statuses as statuses_db
from fedinet.db.inbox import InboxItem
from fedinet.errors import BadActivity
from fedinet.federation.actors import store_remote_actor
from fedinet.federation.inbox import check_ownership
from fedinet.federation.notes import store_remote_status
from fedinet.models import Actor, Status
from fedinet.runtime import Runtime
from fedinet.services.accounts import create_member
from fedinet.services.follows import follow as follow_remote
from fedinet.services.statuses import post_status
from tests.helpers.queue import store_and_process

FIXTURES = Path(__file__).parent / "fixtures" / "real"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def load(path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    return doc


# Actor documents by id: the real ones copied from the reference, and the minimal
# Mastodon-shaped stand-ins (``minimal_*.json``) for senders whose document is missing.
ACTOR_FILES = {
    load(str(path.relative_to(FIXTURES)))["id"]: str(path.relative_to(FIXTURES))
    for path in sorted(FIXTURES.glob("*/actors/*.json"))
}


def substitute(doc: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """``doc`` with each URL of ``mapping`` replaced by its local stand-in, wherever the
    URL is a whole JSON string or a whole quoted attribute value in embedded HTML (a
    mention's ``href``). Longer URLs that merely start with it (``…/followers``,
    ``…#context``) are left alone. Every URL of ``mapping`` must occur."""
    text = json.dumps(doc, ensure_ascii=False)
    for old, new in mapping.items():
        pattern = re.compile(r'(?<=")' + re.escape(old) + r'(?=\\?")')
        text, count = pattern.subn(new.replace("\\", "\\\\"), text)
        assert count, f"{old} does not occur in the document"
    result: dict[str, Any] = json.loads(text)
    return result


def create_envelope(note: dict[str, Any], activity_id: str) -> dict[str, Any]:
    """Wrap an object document in the Create its server sends it in (as Mastodon does:
    the context moves to the activity, addressing and date are copied)."""
    obj = {k: v for k, v in note.items() if k != "@context"}
    envelope: dict[str, Any] = {
        "@context": note.get("@context", "https://www.w3.org/ns/activitystreams"),
        "id": activity_id,
        "type": "Create",
        "actor": obj["attributedTo"],
    }
    for key in ("published", "to", "cc"):
        if key in obj:
            envelope[key] = obj[key]
    envelope["object"] = obj
    return envelope


def test_substitute_replaces_whole_urls_only() -> None:
    old, new = "https://ds9.lemmy.ml/c/testcom", "https://fedinet.test/users/alice"
    doc = {
        "object": old,
        "cc": [f"{old}/followers"],
        "context": f"{old}#context",
        "content": f'<a href="{old}" class="mention">@testcom</a>',
    }
    assert substitute(doc, {old: new}) == {
        "object": new,
        "cc": [f"{old}/followers"],
        "context": f"{old}#context",
        "content": f'<a href="{new}" class="mention">@testcom</a>',
    }
    with pytest.raises(AssertionError, match="does not occur"):
        substitute(doc, {"https://elsewhere.example/u/x": new})


# --------------------------------------------------------------------------- local side


async def store_actor(runtime: Runtime, uri: str) -> Actor:
    doc = load(ACTOR_FILES[uri])
    return await store_remote_actor(runtime, ap_to_actor(doc, fetched_from=doc["id"]))


async def member(runtime: Runtime, name: str, *, locked: bool = True) -> Actor:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, runtime.settings, username=name, email=f"{name}@example.org"
        )
        if not locked:
            await conn.execute(
                "UPDATE actors SET manually_approves_followers = false WHERE id = $1",
                created.actor.id,
            )
    return created.actor


async def local_status(runtime: Runtime, author: Actor, text: str) -> Status:
    async def nobody(acct: str) -> Actor | None:
        return None

    async with runtime.pool.acquire() as conn:
        return await post_status(conn, runtime.settings, author, text=text, resolve=nobody)


async def follows(runtime: Runtime, follower: Actor, followee: Actor) -> None:
    await follows_db.insert_follow(
        runtime.pool,
        uri=f"{follower.uri}#follows/{followee.id}",
        follower_id=follower.id,
        followee_id=followee.id,
        accepted=True,
    )


async def seed_remote_status(runtime: Runtime, author: Actor, uri: str, html: str) -> Status:
    """A status of ``author`` stored as if an earlier Create had brought it (the reference
    has no Create for the statuses its Deletes and Updates refer to)."""
    note = ap_to_note(
        {
            "id": uri,
            "type": "Note",
            "attributedTo": author.uri,
            "content": html,
            "published": "2022-01-01T00:00:00Z",
            "to": [PUBLIC],
            "cc": [author.followers_uri],
        },
        actor_uri=author.uri,
        followers_uri=author.followers_uri,
    )
    async with runtime.pool.acquire() as conn:
        return await store_remote_status(conn, author, note)


async def deliver(runtime: Runtime, activity: dict[str, Any]) -> InboxItem:
    """Check the activity as the inbox does, store it as the inbox does (signed by its
    actor's main key), run the worker and return the item in its final state."""
    sender = await actors_db.get_actor_by_uri(runtime.pool, object_id(activity.get("actor")) or "")
    assert sender is not None, "store the sender's actor first"
    check_ownership(activity, sender)
    return await store_and_process(runtime, activity, sender.uri)


def done(item: InboxItem) -> bool:
    assert item.state == "done", f"{item.state}: {item.error}"
    return True


async def home_feed(runtime: Runtime, owner: Actor) -> list[str]:
    rows = await runtime.pool.fetch(
        "SELECT s.uri FROM home_feed h JOIN statuses s ON s.id = h.status_id "
        "WHERE h.owner_id = $1 ORDER BY s.id",
        owner.id,
    )
    return [r["uri"] for r in rows]


async def notifications(runtime: Runtime, recipient: Actor) -> list[tuple[str, str, int | None]]:
    rows = await runtime.pool.fetch(
        "SELECT n.notification_type, a.uri, n.status_id FROM notifications n "
        "JOIN actors a ON a.id = n.from_actor_id WHERE n.recipient_id = $1 ORDER BY n.id",
        recipient.id,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def mentioned_uris(runtime: Runtime, status: Status) -> set[str]:
    rows = await runtime.pool.fetch(
        "SELECT a.uri FROM mentions m JOIN actors a ON a.id = m.actor_id WHERE m.status_id = $1",
        status.id,
    )
    return {r["uri"] for r in rows}


async def stored(runtime: Runtime, uri: str) -> Status:
    status = await statuses_db.get_status_by_uri(runtime.pool, uri)
    assert status is not None, f"{uri} was not stored"
    return status


async def favourite_count(runtime: Runtime) -> int:
    return int(await runtime.pool.fetchval("SELECT count(*) FROM favourites"))


# --------------------------------------------------------------------------- Follow


FOLLOWS = [
    pytest.param(
        "mastodon/activities/follow.json", "https://ds9.lemmy.ml/c/testcom", id="mastodon"
    ),
    pytest.param("pleroma/activities/follow.json", "https://lemmy.ca/u/kinetix", id="pleroma"),
]


async def open_to_follows_without_a_note(runtime: Runtime, target: Actor) -> None:
    """Mastodon and Pleroma send no note with a Follow; a member whose policy is ``open``
    takes such requests as Mastodon would."""
    await runtime.pool.execute(
        "UPDATE users SET follow_note_policy = 'open' WHERE actor_id = $1", target.id
    )


@pytest.mark.parametrize(("path", "target"), FOLLOWS)
async def test_follow_without_a_note_is_not_let_in_by_default(
    runtime: Runtime, path: str, target: str
) -> None:
    alice = await member(runtime, "alice", locked=False)
    activity = substitute(load(path), {target: alice.uri})
    sender = await store_actor(runtime, activity["actor"])
    assert done(await deliver(runtime, activity))
    follow = await follows_db.get_follow(runtime.pool, sender.id, alice.id)
    assert follow is not None and follow.uri == activity["id"]
    assert follow.state != "accepted"
    sent = await runtime.pool.fetch(
        "SELECT a.body->>'type' AS t FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert "Accept" not in [r["t"] for r in sent]


@pytest.mark.parametrize(("path", "target"), FOLLOWS)
async def test_follow_of_a_locked_member_is_a_pending_request(
    runtime: Runtime, path: str, target: str
) -> None:
    alice = await member(runtime, "alice")
    await open_to_follows_without_a_note(runtime, alice)
    activity = substitute(load(path), {target: alice.uri})
    sender = await store_actor(runtime, activity["actor"])
    assert done(await deliver(runtime, activity))
    follow = await follows_db.get_follow(runtime.pool, sender.id, alice.id)
    assert follow is not None
    assert follow.state == "pending" and follow.uri == activity["id"]
    assert await notifications(runtime, alice) == [("follow_request", sender.uri, None)]
    assert await runtime.pool.fetchval("SELECT count(*) FROM deliveries") == 0


@pytest.mark.parametrize(("path", "target"), FOLLOWS)
async def test_follow_of_an_open_member_is_accepted_and_answered(
    runtime: Runtime, path: str, target: str
) -> None:
    alice = await member(runtime, "alice", locked=False)
    await open_to_follows_without_a_note(runtime, alice)
    activity = substitute(load(path), {target: alice.uri})
    sender = await store_actor(runtime, activity["actor"])
    assert done(await deliver(runtime, activity))
    follow = await follows_db.get_follow(runtime.pool, sender.id, alice.id)
    assert follow is not None and follow.state == "accepted"
    assert await notifications(runtime, alice) == [("follow", sender.uri, None)]
    accept = await runtime.pool.fetchrow(
        "SELECT a.body, d.inbox_uri FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert accept is not None
    assert accept["inbox_uri"] in (sender.inbox_uri, sender.shared_inbox_uri)
    assert accept["body"]["type"] == "Accept"
    assert object_id(accept["body"]["object"]) == activity["id"]


async def test_mastodon_undo_follow_removes_the_request(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    await open_to_follows_without_a_note(runtime, alice)
    target = {"https://ds9.lemmy.ml/c/testcom": alice.uri}
    follow = substitute(load("mastodon/activities/follow.json"), target)
    undo = substitute(load("mastodon/activities/undo_follow.json"), target)
    sender = await store_actor(runtime, follow["actor"])
    assert done(await deliver(runtime, follow))
    assert await follows_db.get_follow(runtime.pool, sender.id, alice.id) is not None
    assert done(await deliver(runtime, undo))
    assert await follows_db.get_follow(runtime.pool, sender.id, alice.id) is None


# --------------------------------------------------------------------------- Create


@dataclass(frozen=True)
class CreateCase:
    path: str
    content: str
    """The stored (sanitized) content; ``{alice}`` stands for the local member's URI."""
    visibility: str = "public"
    object_type: str = "Note"
    language: str | None = None
    member_url: str | None = None
    """The remote account the post was addressed to / mentioned: becomes alice."""
    reply_url: str | None = None
    """The remote post it replied to: becomes a status of alice's."""
    remote_mentions: tuple[str, ...] = ()
    """Mentioned remote actors whose documents are stored before (so they resolve)."""


CREATES = [
    pytest.param(
        CreateCase(
            "mastodon/activities/create_note.json",
            visibility="unlisted",  # to: followers, cc: Public
            language="en",
            remote_mentions=("https://mamot.fr/users/retiolus",),
            content=(
                '<p><span class="h-card"><a href="https://mamot.fr/@retiolus" '
                'class="u-url mention" target="_blank" rel="nofollow noopener noreferrer">'
                "@<span>retiolus</span></a></span> i have never been disappointed by a "
                "thinkpad. if you want to save money, get a model from a few years ago, "
                "there isnt a huge difference anyway.</p>"
            ),
        ),
        id="mastodon-create_note",
    ),
    pytest.param(
        CreateCase(
            "mastodon/activities/create_page_1.json",
            language="fr",
            content=(
                '<p>Test post to community</p><p><span class="h-card"><a '
                'href="https://lemmy.qa.urbanwildlife.biz/c/lemmy_community" '
                'class="u-url mention" target="_blank" rel="nofollow noopener noreferrer">'
                "@<span>lemmy_community</span></a></span></p>"
            ),
        ),
        id="mastodon-create_note_to_community",
    ),
    pytest.param(
        CreateCase(
            "friendica/activities/create_note.json",
            language="de",
            member_url="https://lemmy.schuerz.at/u/jakob",
            reply_url="https://lemmy.schuerz.at/post/25360",
            content=(
                '<span class="h-card"><a href="{alice}" class="u-url mention" '
                'target="_blank" rel="nofollow noopener noreferrer">@<span>jakob</span>'
                "</a></span> test"
            ),
        ),
        id="friendica-create_note",
    ),
    pytest.param(
        CreateCase(
            "friendica/activities/create_page_2.json",
            visibility="unlisted",  # to: the community, cc: Public
            object_type="Article",
            language="de",
            content="<p><strong>From Friendica to Lemmy</strong></p>Hello Lemmy!",
        ),
        id="friendica-create_article",
    ),
    pytest.param(
        CreateCase(
            "pleroma/activities/create_note.json",
            member_url="https://enterprise.lemmy.ml/u/picard",
            reply_url="https://enterprise.lemmy.ml/post/55143",
            content=(
                '<span class="h-card"><a class="u-url mention" href="{alice}" '
                'target="_blank" rel="nofollow noopener noreferrer">@<span>lanodan</span>'
                "</a></span> test"
            ),
        ),
        id="pleroma-create_note",
    ),
    pytest.param(
        CreateCase(
            "mitra/activities/create_post.json",
            language="da",
            content="<p>Remote post 5</p>",
        ),
        id="mitra-create_note",
    ),
    pytest.param(
        CreateCase(
            "smithereen/activities/create_note.json",
            member_url="https://ds9.lemmy.ml/u/nutomic",
            reply_url="https://ds9.lemmy.ml/post/1723",
            content="<p>So does this federate now?</p>",
        ),
        id="smithereen-create_note",
    ),
]


@pytest.mark.parametrize("case", CREATES)
async def test_create_is_stored_and_reaches_home_feeds(runtime: Runtime, case: CreateCase) -> None:
    alice = await member(runtime, "alice")  # the addressed / mentioned member, if any
    carol = await member(runtime, "carol")  # follows the author
    mapping: dict[str, str] = {}
    parent: Status | None = None
    if case.member_url:
        mapping[case.member_url] = alice.uri
    if case.reply_url:
        parent = await local_status(runtime, alice, "a post to reply to")
        mapping[case.reply_url] = parent.uri
    activity = substitute(load(case.path), mapping)
    author = await store_actor(runtime, activity["actor"])
    for uri in case.remote_mentions:
        await store_actor(runtime, uri)
    await follows(runtime, carol, author)

    assert done(await deliver(runtime, activity))

    note = activity["object"]
    status = await stored(runtime, note["id"])
    assert status.actor_id == author.id and not status.is_local
    assert status.visibility == case.visibility
    assert status.object_type == case.object_type
    assert status.content == case.content.format(alice=alice.uri)
    assert status.language == case.language
    assert status.published == datetime.fromisoformat(note["published"])
    assert status.in_reply_to_uri == (parent.uri if parent else note.get("inReplyTo"))
    assert status.in_reply_to_id == (parent.id if parent else None)
    expected_mentions = set(case.remote_mentions) | ({alice.uri} if case.member_url else set())
    assert await mentioned_uris(runtime, status) == expected_mentions
    assert await home_feed(runtime, carol) == [status.uri]
    own = {parent.uri} if parent else set()  # a member's own posts are in her home feed
    if case.member_url:
        assert set(await home_feed(runtime, alice)) == own | {status.uri}
        assert await notifications(runtime, alice) == [("mention", author.uri, status.id)]
    else:
        assert set(await home_feed(runtime, alice)) == own
        assert await notifications(runtime, alice) == []


# --------------------------------------------------------------------------- direct messages


async def test_mastodon_private_message_reaches_only_the_mentioned_member(
    runtime: Runtime,
) -> None:
    alice = await member(runtime, "alice")  # the recipient
    carol = await member(runtime, "carol")  # merely follows the sender
    note = substitute(
        load("mastodon/activities/private_message.json"),
        {"https://ds9.lemmy.ml/u/nutomic": alice.uri},
    )
    activity = create_envelope(note, f"{note['id']}/activity")
    sender = await store_actor(runtime, activity["actor"])
    await follows(runtime, carol, sender)

    assert done(await deliver(runtime, activity))

    status = await stored(runtime, note["id"])
    assert status.visibility == "direct"
    assert await mentioned_uris(runtime, status) == {alice.uri}
    assert await home_feed(runtime, alice) == [status.uri]
    assert await home_feed(runtime, carol) == []
    assert await notifications(runtime, alice) == [("mention", sender.uri, status.id)]
    assert await notifications(runtime, carol) == []
    assert "444" in status.content and f'href="{alice.uri}"' in status.content


async def test_mastodon_private_message_as_a_bare_note_is_refused_at_the_inbox(
    runtime: Runtime,
) -> None:
    """The reference file is the Note itself; Mastodon always sends it in a Create. Posted
    bare, it has no actor: the inbox refuses it before storing anything."""
    note = load("mastodon/activities/private_message.json")
    sender = await store_actor(runtime, note["attributedTo"])
    with pytest.raises(BadActivity, match="no actor"):
        check_ownership(note, sender)


async def test_pleroma_chat_message_is_dropped_with_a_reason(runtime: Runtime) -> None:
    """Pleroma chats (``ChatMessage``) are not posts; like Mastodon, fedinet drops them,
    and says why."""
    alice = await member(runtime, "alice")
    message = substitute(
        load("pleroma/objects/chat_message.json"),
        {"https://enterprise.lemmy.ml/u/picard": alice.uri},
    )
    activity = create_envelope(message, "https://queer.hacktivis.me/activities/chat-create-2")
    await store_actor(runtime, activity["actor"])
    item = await deliver(runtime, activity)
    assert item.state == "ignored" and "ChatMessage" in (item.error or "")
    assert await statuses_db.get_status_by_uri(runtime.pool, message["id"]) is None
    assert await notifications(runtime, alice) == []


# --------------------------------------------------------------------------- Delete


DELETES = [
    pytest.param("mastodon/activities/delete.json", id="mastodon"),
    pytest.param("pleroma/activities/delete.json", id="pleroma"),
    pytest.param("friendica/activities/delete.json", id="friendica"),
]


@pytest.mark.parametrize("path", DELETES)
async def test_delete_removes_the_status(runtime: Runtime, path: str) -> None:
    carol = await member(runtime, "carol")
    activity = load(path)
    author = await store_actor(runtime, activity["actor"])
    await follows(runtime, carol, author)
    target = object_id(activity["object"])
    assert target is not None
    await seed_remote_status(runtime, author, target, "<p>soon gone</p>")
    assert await home_feed(runtime, carol) == [target]

    assert done(await deliver(runtime, activity))

    status = await stored(runtime, target)
    assert status.deleted_at is not None and status.content == ""
    assert await home_feed(runtime, carol) == []


# --------------------------------------------------------------------------- Like / Undo Like


# Friendica's test8 posted …2062; heluecht likes it, dislikes it and comments on it.
FRIENDICA_THREAD = {
    "https://pirati.ca/profile/test8": "member",
    "https://pirati.ca/objects/ec054ce7-2062-3bfa-8687-ca8313624820": "status",
}


LIKES = [
    pytest.param(
        "mastodon/activities/like_page.json",
        {"https://ds9.lemmy.ml/post/147": "status"},
        id="mastodon",
    ),
    pytest.param("friendica/activities/like_page.json", FRIENDICA_THREAD, id="friendica"),
]


async def local_targets(
    runtime: Runtime, alice: Actor, roles: dict[str, str]
) -> tuple[dict[str, str], Status]:
    status = await local_status(runtime, alice, "a post worth liking")
    uris = {"status": status.uri, "member": alice.uri}
    return {url: uris[role] for url, role in roles.items()}, status


@pytest.mark.parametrize(("path", "roles"), LIKES)
async def test_like_favourites_a_local_status(
    runtime: Runtime, path: str, roles: dict[str, str]
) -> None:
    alice = await member(runtime, "alice")
    mapping, status = await local_targets(runtime, alice, roles)
    activity = substitute(load(path), mapping)
    liker = await store_actor(runtime, activity["actor"])

    assert done(await deliver(runtime, activity))

    row = await runtime.pool.fetchrow("SELECT * FROM favourites")
    assert row is not None
    assert row["actor_id"] == liker.id and row["status_id"] == status.id
    assert await notifications(runtime, alice) == [("favourite", liker.uri, status.id)]


async def test_mastodon_undo_like_removes_the_favourite(runtime: Runtime) -> None:
    """The real Undo names another Like id (#likes/212341) than the Like (#likes/212340):
    it is matched by actor and status."""
    alice = await member(runtime, "alice")
    mapping, _ = await local_targets(runtime, alice, {"https://ds9.lemmy.ml/post/147": "status"})
    like = substitute(load("mastodon/activities/like_page.json"), mapping)
    undo = substitute(load("mastodon/activities/undo_like_page.json"), mapping)
    await store_actor(runtime, like["actor"])
    assert done(await deliver(runtime, like))
    assert await favourite_count(runtime) == 1
    assert done(await deliver(runtime, undo))
    assert await favourite_count(runtime) == 0


async def test_friendica_dislike_and_its_undo_are_ignored(runtime: Runtime) -> None:
    """Dislike has no meaning here (Mastodon ignores it too); neither it nor its Undo may
    touch the Like the same account made."""
    alice = await member(runtime, "alice")
    mapping, _ = await local_targets(runtime, alice, FRIENDICA_THREAD)
    like = substitute(load("friendica/activities/like_page.json"), mapping)
    dislike = substitute(load("friendica/activities/dislike_page.json"), mapping)
    undo = substitute(load("friendica/activities/undo_dislike_page.json"), mapping)
    await store_actor(runtime, like["actor"])
    assert done(await deliver(runtime, like))

    item = await deliver(runtime, dislike)
    assert item.state == "ignored", item.error
    item = await deliver(runtime, undo)
    assert item.state == "ignored" and "Dislike" in (item.error or "")
    assert await favourite_count(runtime) == 1


# --------------------------------------------------------------------------- Flag


FLAGS = [
    pytest.param(
        "mastodon/activities/flag.json",
        {
            "https://example.com/users/1": "member",
            "https://example.com/posts/380590": "status1",
            "https://example.com/posts/380591": "status2",
        },
        id="mastodon",
    ),
    pytest.param(
        "mbin/activities/flag.json",
        {"https://lemmy-test/u/BentiGorlich": "member", "https://lemmy-test/post/4": "status1"},
        id="mbin",
    ),
]


@pytest.mark.parametrize(("path", "roles"), FLAGS)
async def test_flag_creates_a_report(runtime: Runtime, path: str, roles: dict[str, str]) -> None:
    alice = await member(runtime, "alice")
    uris = {
        "member": alice.uri,
        "status1": (await local_status(runtime, alice, "first reported post")).uri,
        "status2": (await local_status(runtime, alice, "second reported post")).uri,
    }
    activity = substitute(load(path), {url: uris[role] for url, role in roles.items()})
    reporter = await store_actor(runtime, activity["actor"])

    assert done(await deliver(runtime, activity))

    report = await runtime.pool.fetchrow("SELECT * FROM reports")
    assert report is not None
    assert report["uri"] == activity["id"]
    assert report["reporter_actor_id"] == reporter.id
    assert report["target_actor_id"] == alice.id
    assert report["status_uris"] == [uris[r] for r in roles.values() if r.startswith("status")]
    assert report["comment"] == activity["content"]


# --------------------------------------------------------------------------- Accept


ACCEPTS = [
    pytest.param(
        "mastodon/activities/accept_follow.json",
        "https://fedi-test.mooo.com/users/rarely-typical/follows/test",
        "https://fedi-test.mooo.com/users/rarely-typical",
        id="mastodon",
    ),
    pytest.param(
        "mitra/activities/accept.json",
        "https://voyager.lemmy.ml/activities/follow/7d782f02-b91d-4455-b6c0-772540f00c2d",
        "https://voyager.lemmy.ml/u/silverpill",
        id="mitra",
    ),
    pytest.param(
        "mbin/activities/accept.json",
        "https://some-other.instance/f/object/c51ea652-e594-4920-a989-f5350f0cec05",
        "https://some-other.instance/u/someUser",
        id="mbin",
    ),
]


@pytest.mark.parametrize(("path", "follow_url", "follower_url"), ACCEPTS)
async def test_accept_accepts_our_pending_follow(
    runtime: Runtime, path: str, follow_url: str, follower_url: str
) -> None:
    alice = await member(runtime, "alice")
    original = load(path)
    followee = await store_actor(runtime, original["actor"])
    async with runtime.pool.acquire() as conn:
        ours = await follow_remote(conn, runtime.settings, alice, followee)
    assert ours.state == "pending"
    activity = substitute(original, {follow_url: ours.uri, follower_url: alice.uri})

    assert done(await deliver(runtime, activity))

    accepted = await follows_db.get_follow(runtime.pool, alice.id, followee.id)
    assert accepted is not None and accepted.state == "accepted"


# --------------------------------------------------------------------------- Update


EDITED = (
    '<span class="h-card"><a href="{alice}" class="u-url mention" '
    'target="_blank" rel="nofollow noopener noreferrer">@<span>test8</span></a></span> '
    "This is an edited comment."
)


async def test_friendica_update_edits_the_stored_comment(runtime: Runtime) -> None:
    alice = await member(runtime, "alice")
    mapping, _ = await local_targets(runtime, alice, FRIENDICA_THREAD)
    activity = substitute(load("friendica/activities/update_note.json"), mapping)
    author = await store_actor(runtime, activity["actor"])
    uri = activity["object"]["id"]
    before = await seed_remote_status(runtime, author, uri, "<p>a comment</p>")

    assert done(await deliver(runtime, activity))

    status = await stored(runtime, uri)
    assert status.id == before.id
    assert status.content == EDITED.format(alice=alice.uri)
    assert status.edited_at == datetime(2022, 3, 24, 21, 37, 34, tzinfo=UTC)


async def test_friendica_update_records_the_mentions_of_the_new_version(
    runtime: Runtime,
) -> None:
    alice = await member(runtime, "alice")
    mapping, _ = await local_targets(runtime, alice, FRIENDICA_THREAD)
    activity = substitute(load("friendica/activities/update_note.json"), mapping)
    author = await store_actor(runtime, activity["actor"])
    uri = activity["object"]["id"]
    await seed_remote_status(runtime, author, uri, "<p>a comment</p>")

    assert done(await deliver(runtime, activity))

    assert await mentioned_uris(runtime, await stored(runtime, uri)) == {alice.uri}


async def test_friendica_update_of_an_unknown_comment_stores_it_and_delete_removes_it(
    runtime: Runtime,
) -> None:
    alice = await member(runtime, "alice")
    mapping, parent = await local_targets(runtime, alice, FRIENDICA_THREAD)
    update = substitute(load("friendica/activities/update_note.json"), mapping)
    delete = load("friendica/activities/delete.json")  # deletes the same comment
    author = await store_actor(runtime, update["actor"])
    uri = update["object"]["id"]
    assert object_id(delete["object"]) == uri

    assert done(await deliver(runtime, update))

    status = await stored(runtime, uri)
    assert status.actor_id == author.id
    assert status.visibility == "unlisted"  # to: test8 and the community, cc: Public
    assert status.content == EDITED.format(alice=alice.uri)
    assert status.in_reply_to_id == parent.id
    assert await mentioned_uris(runtime, status) == {alice.uri}
    assert set(await home_feed(runtime, alice)) == {parent.uri, uri}
    assert await notifications(runtime, alice) == [("mention", author.uri, status.id)]

    assert done(await deliver(runtime, delete))

    status = await stored(runtime, uri)
    assert status.deleted_at is not None and status.content == ""
    assert await home_feed(runtime, alice) == [parent.uri]


# --------------------------------------------------------------------------- parsing only


@dataclass(frozen=True)
class ObjectCase:
    path: str
    visibility: str
    object_type: str = "Note"
    followers: str | None = None
    """The author's followers collection (from its actor document, where there is one)."""
    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    attachments: int = 0
    title: str | None = None
    url: str | None = None


OBJECTS = [
    pytest.param(
        ObjectCase(
            "mastodon/objects/note_1.json",
            "unlisted",
            followers="https://mastodon.madrid/users/felix/followers",
            mentions=("https://mamot.fr/users/retiolus",),
            url="https://mastodon.madrid/@felix/107224289116410645",
        ),
        id="mastodon-note_1",
    ),
    pytest.param(
        ObjectCase(
            "mastodon/objects/note_2.json",
            "public",
            followers="https://floss.social/users/kde/followers",
            mentions=("https://lemmy.kde.social/c/kde",),
            attachments=1,
            url="https://floss.social/@kde/113306831140126616",
        ),
        id="mastodon-note_2",
    ),
    pytest.param(
        ObjectCase(
            "mastodon/objects/page.json",
            "public",
            followers="https://masto.qa.urbanwildlife.biz/users/mastodon/followers",
            mentions=("https://enterprise.lemmy.ml/c/tenforward",),
            url="https://masto.qa.urbanwildlife.biz/110830743680706519",
        ),
        id="mastodon-page",
    ),
    pytest.param(
        ObjectCase(
            "friendica/objects/note_1.json",
            "public",
            followers="https://soc.schuerz.at/followers/jakob",
            mentions=("https://lemmy.schuerz.at/u/jakob",),
            url="https://soc.schuerz.at/display/4edd2508-4361-edb8-c4d8-b45181083984",
        ),
        id="friendica-note_1",
    ),
    pytest.param(
        ObjectCase(
            "friendica/objects/note_2.json",
            "public",
            followers="https://nerdica.net/followers/liwott",
            mentions=("https://lemmy.ml/u/Liwott",),
            hashtags=("friendica", "lemmy"),
            url="https://nerdica.net/display/a85d7459-7262-66e9-f901-f05552414769",
        ),
        id="friendica-note_2",
    ),
    pytest.param(
        ObjectCase(
            "friendica/objects/page_1.json",
            "unlisted",
            object_type="Page",
            followers="https://pirati.ca/followers/heluecht",
            mentions=("https://ds9.lemmy.ml/c/testcom",),
            title="ISS astronauts perform final spacewalk of Expedition 66",
            url=None,  # the link points to nasaspaceflight.com: shown in the content instead
        ),
        id="friendica-page_1",
    ),
    pytest.param(
        ObjectCase(
            "friendica/objects/page_2.json",
            "unlisted",
            object_type="Article",
            followers="https://pirati.ca/followers/heluecht",
            mentions=("https://ds9.lemmy.ml/c/testcom",),
            title="From Friendica to Lemmy",
            url="https://pirati.ca/display/ec054ce7-5162-3bf2-504c-16d024994850",
        ),
        id="friendica-article",
    ),
    pytest.param(
        ObjectCase(
            "pleroma/objects/note.json",
            "unlisted",  # to: popolon and the author's followers, cc: Public
            followers="https://queer.hacktivis.me/users/lanodan/followers",
            mentions=("https://pleroma.popolon.org/users/popolon",),
        ),
        id="pleroma-note",
    ),
    pytest.param(
        ObjectCase(
            "smithereen/objects/note.json",
            "public",
            followers="https://friends.grishka.me/users/1/followers",
            mentions=("https://ds9.lemmy.ml/u/nutomic",),
            url="https://friends.grishka.me/posts/66561",
        ),
        id="smithereen-note",
    ),
]


@pytest.mark.parametrize("case", OBJECTS)
def test_object_is_parsed(case: ObjectCase) -> None:
    obj = load(case.path)
    note = ap_to_note(obj, actor_uri=obj["attributedTo"], followers_uri=case.followers)
    assert note.uri == obj["id"]
    assert note.object_type == case.object_type
    assert note.visibility == case.visibility
    assert note.mentions == case.mentions
    assert note.hashtags == case.hashtags
    assert len(note.attachments) == case.attachments
    assert note.title == case.title
    assert note.url == case.url
    assert note.in_reply_to == obj.get("inReplyTo")
    assert note.published == datetime.fromisoformat(obj["published"])
    assert note.content and "<script" not in note.content and "<bdi" not in note.content
    if case.title:
        assert note.content.startswith(f"<p><strong>{case.title}</strong></p>")


def test_mastodon_attachment_is_read() -> None:
    obj = load("mastodon/objects/note_2.json")
    note = ap_to_note(obj, actor_uri=obj["attributedTo"], followers_uri=None)
    (attachment,) = note.attachments
    assert attachment == {
        "type": "Document",
        "media_type": "image/jpeg",
        "url": obj["attachment"][0]["url"],
        "description": obj["attachment"][0]["name"],
        "width": 1500,
        "height": 1095,
        "blurhash": "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc",
    }


def test_friendica_link_page_shows_its_link() -> None:
    obj = load("friendica/objects/page_1.json")
    note = ap_to_note(obj, actor_uri=obj["attributedTo"], followers_uri=None)
    assert note.content.endswith(
        '<p><a href="https://www.nasaspaceflight.com/2022/03/us-eva-80/" '
        'target="_blank" rel="nofollow noopener noreferrer">'
        "https://www.nasaspaceflight.com/2022/03/us-eva-80/</a></p>"
    )


def test_pleroma_chat_message_is_not_a_post() -> None:
    obj = load("pleroma/objects/chat_message.json")
    with pytest.raises(BadActivity) as raised:
        ap_to_note(obj, actor_uri=obj["attributedTo"], followers_uri=None)
    assert raised.value.reason == "unsupported_object"


@dataclass(frozen=True)
class ActorCase:
    path: str
    actor_type: str
    username: str
    key_kinds: tuple[str, ...]
    locked: bool = False
    shared_inbox: bool = True


ACTORS = [
    pytest.param(
        ActorCase("mastodon/actors/person.json", "Person", "mastodon", ("rsa",)),
        id="mastodon-person",
    ),
    pytest.param(
        ActorCase(
            "mastodon/actors/rarely_typical.json", "Person", "rarely_typical", ("rsa",), locked=True
        ),
        id="mastodon-rarely_typical",
    ),
    pytest.param(
        ActorCase("friendica/actors/person_1.json", "Person", "jakob", ("rsa",), locked=True),
        id="friendica-person",
    ),
    pytest.param(
        ActorCase("friendica/actors/person_2.json", "Organization", "informapirata", ("rsa",)),
        id="friendica-organization",
    ),
    pytest.param(
        ActorCase("pleroma/actors/person.json", "Person", "lanodan", ("rsa",)), id="pleroma-person"
    ),
    pytest.param(
        ActorCase("smithereen/actors/person.json", "Person", "grishka", ("rsa",)),
        id="smithereen-person",
    ),
    pytest.param(
        ActorCase(
            "mbin/actors/instance.json",
            "Application",
            "fedia.io",
            ("rsa",),
            locked=True,
            shared_inbox=False,
        ),
        id="mbin-instance",
    ),
    pytest.param(
        ActorCase(
            "fedify/activitypub.academy_brauca_darradiul.json",
            "Person",
            "brauca_darradiul",
            ("rsa",),
        ),
        id="mastodon-activitypub.academy",
    ),
    pytest.param(
        ActorCase("fedify/oeee.cafe_3609fd4e.json", "Person", "hongminhee", ("rsa",)),
        id="oeee.cafe-person",
    ),
    pytest.param(
        ActorCase(
            "fedify/wizard.casa_hongminhee.json",
            "Person",
            "hongminhee",
            ("rsa", "ed25519"),
            locked=True,
            shared_inbox=False,
        ),
        id="fedify-wizard.casa",
    ),
]


@pytest.mark.parametrize("case", ACTORS)
def test_actor_is_parsed(case: ActorCase) -> None:
    doc = load(case.path)
    actor = ap_to_actor(doc, fetched_from=doc["id"])
    assert actor.uri == doc["id"]
    assert actor.actor_type == case.actor_type
    assert actor.username == case.username
    assert actor.inbox_uri == doc["inbox"]
    assert actor.manually_approves_followers is case.locked
    assert (actor.shared_inbox_uri is not None) is case.shared_inbox
    assert tuple(k.kind for k in actor.keys) == case.key_kinds
    assert all(k.key_id.startswith(doc["id"]) for k in actor.keys)


def test_fedify_keyholder_without_inbox_is_not_an_actor() -> None:
    """fedify's ``remote.domain/users/bob`` only carries keys: no inbox, no username."""
    doc = load("fedify/remote.domain_bob.json")
    with pytest.raises(BadActivity, match="no inbox"):
        ap_to_actor(doc, fetched_from=doc["id"])
