"""Following with notes, on one instance and towards remote actors (their deliveries are
queued, not sent, here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fedinet.ap.actors import ap_to_actor
from fedinet.db import follows as follows_db
from fedinet.db import users as users_db
from fedinet.db.instance import set_instance_setting
from fedinet.errors import NoteRefused, RateLimited, ValidationError
from fedinet.federation.actors import store_remote_actor
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services import follows
from fedinet.services.accounts import create_member
from fedinet.services.follows import FollowIntent
from fedinet.services.profile import ProfileChange, update_profile
from tests.helpers.remote import RemoteAccount

GOOD_NOTE = "Your pottery class photos made me pick up clay again after ten years, thank you!"


async def member(runtime: Runtime, name: str, **change: object) -> Actor:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, runtime.settings, username=name, email=f"{name}@example.org"
        )
        actor = created.actor
        if change:
            actor, _ = await update_profile(
                conn,
                runtime.settings,
                actor,
                created.user,
                ProfileChange(**change),  # type: ignore[arg-type]
            )
    return actor


async def remote(runtime: Runtime, name: str) -> Actor:
    account = RemoteAccount(name, "https://remote.example")
    return await store_remote_actor(
        runtime, ap_to_actor(account.document(), fetched_from=account.uri)
    )


async def outcomes(runtime: Runtime) -> list[tuple[str, str | None]]:
    rows = await runtime.pool.fetch("SELECT outcome, refusal_reason FROM request_notes ORDER BY id")
    return [(r["outcome"], r["refusal_reason"]) for r in rows]


async def test_a_personal_note_reaches_the_member(runtime: Runtime) -> None:
    ana = await member(runtime, "ana", interests=["pottery"])
    ben = await member(runtime, "ben", interests=["pottery", "chess"])
    async with runtime.pool.acquire() as conn:
        made = await follows.follow(
            conn, runtime.settings, ben, ana, FollowIntent(note=GOOD_NOTE, motive="hobbies")
        )
    assert made.state == "pending" and made.note == GOOD_NOTE and made.motive == "hobbies"
    assert await outcomes(runtime) == [("pending", None)]
    # a follow_request notification, and the note as a message from the system account
    kinds = await runtime.pool.fetch(
        "SELECT notification_type FROM notifications WHERE recipient_id = $1 ORDER BY id",
        ana.id,
    )
    assert [k["notification_type"] for k in kinds] == ["follow_request", "mention"]
    dm = await runtime.pool.fetchrow(
        "SELECT s.content, s.visibility, a.username FROM statuses s "
        "JOIN actors a ON a.id = s.actor_id ORDER BY s.id DESC LIMIT 1"
    )
    assert dm["username"] == "fedinet" and dm["visibility"] == "direct"
    assert "pottery class photos" in dm["content"] and "/tags/pottery" in dm["content"]


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        ("", "note_missing"),
        ("hi! let's talk", "note_too_short"),
        ("I'd like to add you to my professional network.", "note_generic"),
        (
            "I really enjoyed reading about your long journey across the mountains.",
            "note_impersonal",
        ),
    ],
)
async def test_a_refused_note_says_why(runtime: Runtime, note: str, reason: str) -> None:
    ana = await member(runtime, "ana", interests=["pottery"], bio="I teach pottery.")
    ben = await member(runtime, "ben")
    async with runtime.pool.acquire() as conn:
        with pytest.raises(NoteRefused) as refused:
            await follows.follow(conn, runtime.settings, ben, ana, FollowIntent(note=note))
    assert refused.value.reason == reason
    assert refused.value.hint
    assert await follows_db.get_follow(runtime.pool, ben.id, ana.id) is None
    assert await outcomes(runtime) == [("refused", reason)]


async def test_policies(runtime: Runtime) -> None:
    ben = await member(runtime, "ben")
    open_ = await member(runtime, "olga", follow_note_policy="open")
    standard = await member(runtime, "stan", follow_note_policy="standard")
    async with runtime.pool.acquire() as conn:
        assert (await follows.follow(conn, runtime.settings, ben, open_)).state == "pending"
        impersonal = "I really enjoyed reading about your long journey across the mountains."
        made = await follows.follow(
            conn, runtime.settings, ben, standard, FollowIntent(note=impersonal)
        )
        assert made.state == "pending"  # standard: rules 1-4 only


async def test_sending_limit_counts_refused_notes_too(runtime: Runtime) -> None:
    await set_instance_setting(
        runtime.pool, "sending_limits", {"new_account_days": 7, "new_per_day": 2, "per_day": 100}
    )
    ben = await member(runtime, "ben")
    targets = [await member(runtime, f"t{i}", interests=["pottery"]) for i in range(3)]
    async with runtime.pool.acquire() as conn:
        with pytest.raises(NoteRefused):
            await follows.follow(conn, runtime.settings, ben, targets[0], FollowIntent())
        note = "Your pottery class photos made me pick up clay again, thank you so much!"
        await follows.follow(conn, runtime.settings, ben, targets[1], FollowIntent(note=note))
        with pytest.raises(RateLimited) as limited:
            await follows.follow(conn, runtime.settings, ben, targets[2], FollowIntent(note=note))
    assert 60 <= limited.value.retry_after <= 86400
    assert "2 a day" in str(limited.value)


async def test_connect_link_skips_the_note_until_revoked(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    ben, cleo = await member(runtime, "ben"), await member(runtime, "cleo")
    async with runtime.pool.acquire() as conn:
        link, url = await follows.create_connect_link(conn, runtime.settings, ana)
        assert link.code in url
        made = await follows.follow(
            conn, runtime.settings, ben, ana, FollowIntent(connect_code=link.code)
        )
        assert made.state == "accepted"
        from fedinet.db.connect_links import revoke_connect_link

        assert await revoke_connect_link(conn, link.code, ana.id)
        with pytest.raises(ValidationError) as invalid:
            await follows.follow(
                conn, runtime.settings, cleo, ana, FollowIntent(connect_code=link.code)
            )
    assert invalid.value.reason == "connect_code_invalid"


async def test_remote_follow_without_note_awaits_a_reply(runtime: Runtime) -> None:
    ana = await member(runtime, "ana", interests=["pottery"])
    kim = await remote(runtime, "kim")
    uri = f"{kim.uri}/follows/1"
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as conn:
        made = await follows.receive_follow(conn, runtime.settings, kim, ana, uri, now=now)
        assert made is not None and made.state == "awaiting_note"
        # a reply that fails the rules: one explanation, the request keeps waiting
        assert await follows.receive_note_reply(conn, runtime.settings, kim, "ok", now=now) == 0
        waiting = await follows_db.get_follow(conn, kim.id, ana.id)
        assert waiting is not None and waiting.state == "awaiting_note" and waiting.reminded
        # a good reply completes the request
        done = await follows.receive_note_reply(conn, runtime.settings, kim, GOOD_NOTE, now=now)
        assert done == 1
        pending = await follows_db.get_follow(conn, kim.id, ana.id)
        assert pending is not None and pending.state == "pending" and pending.note == GOOD_NOTE


async def test_a_second_bad_reply_rejects_the_request(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    kim = await remote(runtime, "kim")
    async with runtime.pool.acquire() as conn:
        await follows.receive_follow(conn, runtime.settings, kim, ana, f"{kim.uri}/f/1")
        await follows.receive_note_reply(conn, runtime.settings, kim, "hey")
        await follows.receive_note_reply(conn, runtime.settings, kim, "hey again")
        assert await follows_db.get_follow(conn, kim.id, ana.id) is None
    types = await runtime.pool.fetch(
        "SELECT a.body->>'type' AS t, a.body->'object'->>'type' AS o FROM deliveries d "
        "JOIN activities a ON a.id = d.activity_id ORDER BY d.id"
    )
    # ask for a note, explain once, then Reject: never a loop
    assert [(r["t"], r["o"]) for r in types] == [
        ("Create", "Note"),
        ("Create", "Note"),
        ("Reject", "Follow"),
    ]


async def test_requests_awaiting_a_note_expire(runtime: Runtime) -> None:
    ana = await member(runtime, "ana")
    kim = await remote(runtime, "kim")
    async with runtime.pool.acquire() as conn:
        await follows.receive_follow(conn, runtime.settings, kim, ana, f"{kim.uri}/f/2")
        assert await follows.expire_awaiting(conn, runtime.settings, datetime.now(UTC)) == 0
        later = datetime.now(UTC) + timedelta(days=15)
        assert await follows.expire_awaiting(conn, runtime.settings, later) == 1
        assert await follows_db.get_follow(conn, kim.id, ana.id) is None
    assert await outcomes(runtime) == [("expired", None)]


async def test_a_remote_note_is_checked_by_the_members_rules(runtime: Runtime) -> None:
    ana = await member(runtime, "ana", interests=["pottery"])
    kim = await remote(runtime, "kim")
    async with runtime.pool.acquire() as conn:
        refused = await follows.receive_follow(
            conn,
            runtime.settings,
            kim,
            ana,
            f"{kim.uri}/f/3",
            FollowIntent(note="I'd like to add you to my professional network."),
        )
    assert refused is None
    reject = await runtime.pool.fetchrow(
        "SELECT a.body FROM deliveries d JOIN activities a ON a.id = d.activity_id"
    )
    assert reject["body"]["type"] == "Reject"
    assert reject["body"]["refusalReason"] == "note_generic"
    assert reject["body"]["content"]


async def test_profile_motives_privacy(runtime: Runtime) -> None:
    async with runtime.pool.acquire() as conn:
        created = await create_member(
            conn, runtime.settings, username="ana", email="ana@example.org"
        )
        actor, user = await update_profile(
            conn,
            runtime.settings,
            created.actor,
            created.user,
            ProfileChange(motives=["friendship", "life-partner", "local"], region="Lyon, FR"),
        )
        assert actor.motives == ["friendship", "local"]
        assert user.private_motives == ["life-partner"]
        actor, user = await update_profile(
            conn,
            runtime.settings,
            actor,
            user,
            ProfileChange(motives=["friendship", "life-partner"], private_motives=[]),
        )
        assert actor.motives == ["friendship", "life-partner"] and user.private_motives == []
        for bad in (
            ProfileChange(motives=["career"]),
            ProfileChange(interests=[f"tag{i}" for i in range(31)]),
            ProfileChange(region="x" * 101),
            ProfileChange(follow_note_policy="lax"),
            ProfileChange(motives=["friendship"], private_motives=["support"]),
        ):
            with pytest.raises(ValidationError):
                await update_profile(conn, runtime.settings, actor, user, bad)
        stored = await users_db.get_user_by_actor_id(conn, actor.id)
        assert stored is not None and stored.follow_note_policy == "strict"
