from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from fedinet.db import actors as actors_db
from fedinet.db import notes as notes_db
from fedinet.db.pool import Pool, create_pool
from fedinet.errors import Conflict, ValidationError
from fedinet.services import note_rules

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)

NOTE = "Hi Anna, I loved your post about sourdough; let's connect and swap starter tips!"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    opened = await create_pool(database_url, min_size=1, max_size=2)
    yield opened
    await opened.close()


@pytest.fixture
async def ids(pool: Pool) -> list[int]:
    """Five actors: 0 sends, 1 to 4 receive."""
    made = []
    for name in ("sender", "anna", "ben", "carla", "dev"):
        actor = await actors_db.insert_actor(
            pool,
            uri=f"https://remote.example/users/{name}",
            is_local=False,
            username=name,
            domain="remote.example",
        )
        made.append(actor.id)
    return made


async def _note(pool: Pool, sender: int, recipient: int, note: str, *, days_ago: float) -> int:
    return await notes_db.insert_request_note(
        pool,
        follower_id=sender,
        followee_id=recipient,
        note=note,
        motive=None,
        created_at=NOW - timedelta(days=days_ago),
    )


# --- canned invitations -----------------------------------------------------------------


async def test_builtin_canned_list_is_there(pool: Pool) -> None:
    canned = await notes_db.list_canned_invitations(pool)
    texts = {c.text for c in canned}
    assert "I'd like to add you to my professional network." in texts
    assert any(t.startswith("I found you while I was searching my network.") for t in texts)
    assert all(c.builtin for c in canned)


@pytest.mark.parametrize(
    ("note", "canned_start"),
    [
        # the stock text itself, whatever the case and punctuation
        ("I'D LIKE TO ADD YOU TO MY PROFESSIONAL NETWORK", "I'd like to add you to my prof"),
        # one word changed
        ("I'd like to add you to my personal network.", "I'd like to add you to my "),
        # a fragment of the long LinkedIn default
        ("I found you while I was searching my network.", "I found you while I was search"),
    ],
)
async def test_canned_similarity_of_stock_texts(pool: Pool, note: str, canned_start: str) -> None:
    score, canned = await notes_db.max_canned_similarity(pool, note)
    assert canned is not None and canned.startswith(canned_start)
    assert score >= note_rules.GENERIC_THRESHOLD


async def test_canned_similarity_of_a_genuine_note_is_low(pool: Pool) -> None:
    score, _ = await notes_db.max_canned_similarity(
        pool,
        "Dave Taylor? You spoke at the Blog Business Summit last month, right? Yeah, your "
        "talk was excellent. Really glad to make your acquaintance!",
    )
    assert score < 0.2


async def test_canned_list_is_editable(pool: Pool) -> None:
    german = "Ich möchte dich gerne zu meinem beruflichen Netzwerk hinzufügen."
    before, _ = await notes_db.max_canned_similarity(pool, german)
    assert before < note_rules.GENERIC_THRESHOLD

    added = await notes_db.add_canned_invitation(pool, "  " + german.replace(" ", "  ") + " ")
    assert added.text == german and not added.builtin  # whitespace collapsed
    score, canned = await notes_db.max_canned_similarity(pool, german)
    assert canned == german and score == pytest.approx(1.0)
    with pytest.raises(Conflict):
        await notes_db.add_canned_invitation(pool, german)
    with pytest.raises(ValidationError):
        await notes_db.add_canned_invitation(pool, "   ")

    assert await notes_db.remove_canned_invitation(pool, added.id)
    assert not await notes_db.remove_canned_invitation(pool, added.id)


async def test_builtin_canned_invitations_may_be_removed(pool: Pool) -> None:
    for canned in await notes_db.list_canned_invitations(pool):
        assert await notes_db.remove_canned_invitation(pool, canned.id)
    assert await notes_db.list_canned_invitations(pool) == []
    assert await notes_db.max_canned_similarity(pool, "Happy to connect!") == (0.0, None)


# --- repeated notes ---------------------------------------------------------------------


async def test_repeat_similarity_counts_other_recipients(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, carla, dev = ids
    await _note(pool, sender, anna, NOTE, days_ago=3)
    await _note(pool, sender, ben, NOTE.replace("Anna", "Ben"), days_ago=2)
    await _note(pool, sender, carla, "Completely different: your photos of the Dales!", days_ago=1)
    best, others = await notes_db.max_repeat_similarity(
        pool, sender, dev, NOTE.replace("Anna", "Dev"), since=SINCE
    )
    assert best >= note_rules.REPEAT_THRESHOLD
    assert others == 2  # anna and ben, not carla


async def test_same_recipient_again_is_not_a_repeat(pool: Pool, ids: list[int]) -> None:
    sender, anna, *_ = ids
    await _note(pool, sender, anna, NOTE, days_ago=3)
    assert await notes_db.max_repeat_similarity(pool, sender, anna, NOTE, since=SINCE) == (
        0.0,
        0,
    )


async def test_notes_older_than_the_window_do_not_count(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, *_ = ids
    await _note(pool, sender, anna, NOTE, days_ago=31)
    assert await notes_db.max_repeat_similarity(pool, sender, ben, NOTE, since=SINCE) == (0.0, 0)
    await _note(pool, sender, anna, NOTE, days_ago=29)
    best, others = await notes_db.max_repeat_similarity(pool, sender, ben, NOTE, since=SINCE)
    assert best == pytest.approx(1.0) and others == 1


async def test_other_senders_notes_do_not_count(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, carla, _ = ids
    await _note(pool, anna, ben, NOTE, days_ago=1)  # anna, not the sender, said it
    assert await notes_db.max_repeat_similarity(pool, sender, carla, NOTE, since=SINCE) == (
        0.0,
        0,
    )


async def test_repeat_check_reads_a_bounded_number_of_notes(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, carla, _ = ids
    await _note(pool, sender, anna, NOTE, days_ago=5)  # the old repeat …
    await pool.executemany(  # … hidden behind REPEAT_SCAN_LIMIT newer, different notes
        "INSERT INTO request_notes (follower_id, followee_id, note, created_at) "
        "VALUES ($1, $2, $3, $4)",
        [
            (
                sender,
                ben,
                f"note number {i} about topic {i * 7919 % 1000}",
                NOW - timedelta(minutes=i),
            )
            for i in range(notes_db.REPEAT_SCAN_LIMIT)
        ],
    )
    best, _ = await notes_db.max_repeat_similarity(pool, sender, carla, NOTE, since=SINCE)
    assert best < note_rules.REPEAT_THRESHOLD


# --- requests and outcomes --------------------------------------------------------------


async def test_insert_and_decide(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, *_ = ids
    first = await notes_db.insert_request_note(
        pool, follower_id=sender, followee_id=anna, note=NOTE, motive="friendship"
    )
    second = await notes_db.insert_request_note(
        pool, follower_id=sender, followee_id=anna, note=NOTE + " Again.", motive=None
    )
    row = await pool.fetchrow("SELECT * FROM request_notes WHERE id = $1", first)
    assert row is not None
    assert row["outcome"] == "pending" and row["decided_at"] is None
    assert row["motive"] == "friendship"

    # by pair: the latest pending one
    assert await notes_db.set_request_outcome(pool, (sender, anna), "accepted") == second
    assert await notes_db.set_request_outcome(pool, (sender, anna), "rejected") == first
    assert await notes_db.set_request_outcome(pool, (sender, anna), "rejected") is None
    assert await notes_db.set_request_outcome(pool, (sender, ben), "accepted") is None
    decided = await pool.fetchrow("SELECT * FROM request_notes WHERE id = $1", first)
    assert decided is not None
    assert decided["outcome"] == "rejected" and decided["decided_at"] is not None

    # by id
    assert await notes_db.set_request_outcome(pool, first, "withdrawn") == first
    assert await notes_db.set_request_outcome(pool, 10**12, "withdrawn") is None


async def test_refused_requests_are_recorded_with_their_reason(pool: Pool, ids: list[int]) -> None:
    sender, anna, *_ = ids
    refused = await notes_db.insert_request_note(
        pool,
        follower_id=sender,
        followee_id=anna,
        note="Hi",
        motive=None,
        outcome="refused",
        refusal_reason="note_too_short",
    )
    row = await pool.fetchrow("SELECT * FROM request_notes WHERE id = $1", refused)
    assert row is not None
    assert row["outcome"] == "refused" and row["refusal_reason"] == "note_too_short"
    assert row["decided_at"] is not None


async def test_unknown_outcome_is_refused(pool: Pool, ids: list[int]) -> None:
    sender, anna, *_ = ids
    with pytest.raises(ValueError, match="unknown request outcome"):
        await notes_db.insert_request_note(
            pool, follower_id=sender, followee_id=anna, note="", motive=None, outcome="maybe"
        )
    with pytest.raises(ValueError, match="unknown request outcome"):
        await notes_db.set_request_outcome(pool, 1, "maybe")
    with pytest.raises(asyncpg.CheckViolationError):  # and the schema agrees
        await pool.execute(
            "INSERT INTO request_notes (follower_id, followee_id, outcome) "
            "VALUES ($1, $2, 'maybe')",
            sender,
            anna,
        )


async def test_count_requests_since_counts_refused_ones(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, carla, _ = ids
    await _note(pool, sender, anna, NOTE, days_ago=2)
    await notes_db.insert_request_note(
        pool,
        follower_id=sender,
        followee_id=ben,
        note="",
        motive=None,
        outcome="refused",
        refusal_reason="note_missing",
        created_at=NOW - timedelta(hours=1),
    )
    await _note(pool, sender, carla, NOTE, days_ago=3)  # before the window
    await _note(pool, anna, carla, NOTE, days_ago=1)  # someone else's
    assert await notes_db.count_requests_since(pool, sender, NOW - timedelta(days=2.5)) == 2
    assert await notes_db.count_requests_since(pool, sender, NOW - timedelta(days=30)) == 3


async def test_requester_record(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, carla, dev = ids
    now = datetime.now(UTC)
    for recipient, outcome in ((anna, "accepted"), (ben, "rejected"), (carla, "refused")):
        await notes_db.insert_request_note(
            pool,
            follower_id=sender,
            followee_id=recipient,
            note=NOTE.replace("Anna", f"friend {recipient}"),
            motive=None,
            outcome=outcome,
            created_at=now - timedelta(days=1),
        )
    await notes_db.insert_request_note(
        pool,
        follower_id=sender,
        followee_id=dev,
        note="Dev, your chess puzzles from Tuesday had me stuck for an hour. Brilliant.",
        motive=None,
        outcome="expired",
        created_at=now - timedelta(days=2),
    )
    await notes_db.insert_request_note(  # the same line long ago: outside the 30 days
        pool,
        follower_id=sender,
        followee_id=dev,
        note=NOTE,
        motive=None,
        outcome="withdrawn",
        created_at=now - timedelta(days=40),
    )
    record = await notes_db.requester_record(pool, sender)
    assert record == notes_db.RequesterRecord(
        requests_accepted=1, requests_refused=3, repeated_notes=3
    )
    empty = await notes_db.requester_record(pool, anna)
    assert empty == notes_db.RequesterRecord(0, 0, 0)


async def test_same_note_to_the_same_person_is_not_counted_as_repeated(
    pool: Pool, ids: list[int]
) -> None:
    sender, anna, *_ = ids
    now = datetime.now(UTC)
    for days in (1, 2):
        await notes_db.insert_request_note(
            pool,
            follower_id=sender,
            followee_id=anna,
            note=NOTE,
            motive=None,
            created_at=now - timedelta(days=days),
        )
    assert (await notes_db.requester_record(pool, sender)).repeated_notes == 0


def test_db_defaults_match_the_rules() -> None:
    assert notes_db._DEFAULT_REPEAT_THRESHOLD == note_rules.REPEAT_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (NOTE, NOTE.replace("Anna", "Bartholomew")),
        (NOTE, "Completely different: your photos of the Dales!"),
        (
            "アンナさん、園芸の投稿をいつも楽しく読んでいます。",
            "ケンさん、園芸の投稿をいつも楽しく読んでいます。",
        ),
        ("Grüße aus Köln, Straße 5", "GRÜSSE AUS KÖLN, STRASSE 5"),
        ("", "anything"),
    ],
)
async def test_record_similarity_is_pg_trgm_similarity(pool: Pool, a: str, b: str) -> None:
    row = await pool.fetchrow("SELECT similarity($1, $2), show_trgm($1), show_trgm($2)", a, b)
    assert row is not None
    ours = notes_db._jaccard(frozenset(row[1]), frozenset(row[2]))
    assert ours == pytest.approx(row[0], abs=1e-6)


async def test_long_notes_are_compared_on_their_opening(pool: Pool, ids: list[int]) -> None:
    sender, anna, ben, *_ = ids
    opening = (NOTE + " ") * 8  # about 660 characters
    await _note(pool, sender, anna, opening + "Ending one. " * 200, days_ago=1)
    best, others = await notes_db.max_repeat_similarity(
        pool, sender, ben, opening + "A different ending entirely. " * 100, since=SINCE
    )
    assert best == pytest.approx(1.0) and others == 1
