"""Named queries for follow-request notes (``request_notes``) and the canned invitations
the "generic note" rule compares against (``canned_invitations``).

Similarity is pg_trgm's: both sides are cut into trigrams of their lower-cased words
(anything that is not a letter or digit separates words), so case and punctuation never
matter. The thresholds themselves belong to :mod:`fedinet.services.note_rules`; the
defaults here equal them (a test checks that they agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from fedinet.db.types import Executor, Record
from fedinet.errors import Conflict, ValidationError

__all__ = [
    "OUTCOMES",
    "RECORD_SCAN_LIMIT",
    "REPEAT_COMPARE_CHARS",
    "REPEAT_SCAN_LIMIT",
    "CannedInvitation",
    "RequesterRecord",
    "add_canned_invitation",
    "count_requests_since",
    "insert_request_note",
    "list_canned_invitations",
    "max_canned_similarity",
    "max_repeat_similarity",
    "remove_canned_invitation",
    "requester_record",
    "set_request_outcome",
]

OUTCOMES = ("pending", "accepted", "rejected", "refused", "expired", "withdrawn")
"""What became of a request: the ``request_notes.outcome`` CHECK constraint, in order."""

REPEAT_SCAN_LIMIT = 100
"""A repeat check compares the new note with at most this many of the sender's most recent
notes in the window: bounded work per check, however many notes a sender has sent. A
sender who says the same line to everyone has said it within their last 100 requests.
Each comparison costs about 45 µs on the project's 2-core machines (pg_trgm cuts both
notes into trigrams every time), so 100 notes cost about 4.5 ms; 200 put the p99 of a
whole check above 20 ms on a shared machine (docs/benchmarks.md, "Follow-note checks")."""

REPEAT_COMPARE_CHARS = 500
"""Notes are compared on their first 500 characters (most are under 300): a repeated line
shows there, and a sender cannot slow the check down with very long notes."""

RECORD_SCAN_LIMIT = 100
""":func:`requester_record` compares each pair among this many of the sender's most recent
notes (at most 4,950 comparisons)."""

_DEFAULT_REPEAT_THRESHOLD = 0.6  # = fedinet.services.note_rules.REPEAT_THRESHOLD


@dataclass(frozen=True, slots=True)
class CannedInvitation:
    id: int
    text: str
    builtin: bool
    """Shipped with fedinet (migration 0005); admins may remove these too."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequesterRecord:
    """What a recipient may want to know about who is asking."""

    requests_accepted: int
    requests_refused: int
    """Rejected by the recipient, refused by the rules, or expired unanswered."""
    repeated_notes: int
    """Notes of the last 30 days (of the most recent 100) near-identical to another note
    of theirs sent to someone else."""


def _canned_from_row(row: Record) -> CannedInvitation:
    return CannedInvitation(**dict(row))


# -- the rules' queries ------------------------------------------------------------------


async def max_canned_similarity(db: Executor, text: str) -> tuple[float, str | None]:
    """The canned invitation ``text`` is most like, and how alike (0 to 1); ``(0.0, None)``
    when the list is empty.

    The score is the greater of two pg_trgm measures:

    * ``similarity(canned, text)``: the trigrams both share over all the trigrams of
      either. High when the note *is* the stock text, give or take a few words; it falls
      as the note adds words of its own, so a canned opener followed by a personal
      paragraph of similar length or longer scores low.
    * ``strict_word_similarity(text, canned)``: how much of the note is, whole words
      aligned, a run of the canned text. High when the note is a *fragment* of a long
      stock text ("I found you while I was searching my network."), which ``similarity``
      rates low because the canned text is so much longer.

    ``word_similarity(canned, text)`` (is the canned text inside the note?) is not used:
    it rates a stock opener plus a real paragraph as 1.0.
    """
    row = await db.fetchrow(
        """
        SELECT text,
               greatest(similarity(text, $1), strict_word_similarity($1, text)) AS score
        FROM canned_invitations
        ORDER BY score DESC, id
        LIMIT 1
        """,
        text,
    )
    if row is None:
        return 0.0, None
    return float(row["score"]), str(row["text"])


async def max_repeat_similarity(
    db: Executor,
    sender_id: int,
    recipient_id: int,
    text: str,
    *,
    since: datetime,
    threshold: float = _DEFAULT_REPEAT_THRESHOLD,
) -> tuple[float, int]:
    """How alike ``text`` is to the notes ``sender_id`` sent to *other* people since
    ``since``: ``(highest similarity, how many other recipients got a note at least
    ``threshold`` alike)``; ``(0.0, 0)`` when there are none.

    Notes to ``recipient_id`` itself do not count (asking the same person again is not
    saying the same line to everyone). Only the sender's ``REPEAT_SCAN_LIMIT`` most
    recent notes in the window are read, through ``request_notes_follower_idx``
    (follower_id, created_at DESC), each compared on its first ``REPEAT_COMPARE_CHARS``
    characters, so the work per check is bounded.
    """
    # The score is computed in the LIMIT subquery, which PostgreSQL never flattens: in a
    # flattened subquery it would be computed twice per row (once per aggregate).
    row = await db.fetchrow(
        """
        SELECT coalesce(max(score), 0) AS best,
               count(DISTINCT followee_id) FILTER (WHERE score >= $5) AS similar
        FROM (
            SELECT followee_id,
                   CASE WHEN followee_id <> $2 AND note <> ''
                        THEN similarity(left(note, $7), $3) END AS score
            FROM request_notes
            WHERE follower_id = $1 AND created_at >= $4
            ORDER BY created_at DESC
            LIMIT $6
        ) recent
        """,
        sender_id,
        recipient_id,
        text[:REPEAT_COMPARE_CHARS],
        since,
        threshold,
        REPEAT_SCAN_LIMIT,
        REPEAT_COMPARE_CHARS,
    )
    assert row is not None
    return float(row["best"]), int(row["similar"])


# -- the requests ------------------------------------------------------------------------


async def insert_request_note(
    db: Executor,
    *,
    follower_id: int,
    followee_id: int,
    note: str,
    motive: str | None,
    outcome: str = "pending",
    refusal_reason: str | None = None,
    created_at: datetime | None = None,
) -> int:
    """Record a follow request and its note; returns its id. Refused requests are recorded
    too (``outcome='refused'`` with the rule's reason): they count for sending limits and
    for the sender's track record. ``created_at`` defaults to now."""
    _check_outcome(outcome)
    value = await db.fetchval(
        """
        INSERT INTO request_notes (
            follower_id, followee_id, note, motive, outcome, refusal_reason, created_at,
            decided_at
        ) VALUES (
            $1, $2, $3, $4, $5, $6, coalesce($7, now()),
            CASE WHEN $5 = 'pending' THEN NULL ELSE coalesce($7, now()) END
        )
        RETURNING id
        """,
        follower_id,
        followee_id,
        note,
        motive,
        outcome,
        refusal_reason,
        created_at,
    )
    return int(value)


async def set_request_outcome(
    db: Executor,
    request: int | tuple[int, int],
    outcome: str,
    *,
    refusal_reason: str | None = None,
) -> int | None:
    """Decide a request: by its id, or by ``(follower_id, followee_id)`` for the latest
    *pending* request between them. Returns the id decided, or None when there is none
    (unknown id; no pending request between the two)."""
    _check_outcome(outcome)
    if isinstance(request, tuple):
        follower_id, followee_id = request
        value = await db.fetchval(
            """
            UPDATE request_notes
            SET outcome = $3, refusal_reason = $4,
                decided_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
            WHERE id = (
                SELECT id FROM request_notes
                WHERE follower_id = $1 AND followee_id = $2 AND outcome = 'pending'
                ORDER BY created_at DESC, id DESC
                LIMIT 1
            )
            RETURNING id
            """,
            follower_id,
            followee_id,
            outcome,
            refusal_reason,
        )
    else:
        value = await db.fetchval(
            """
            UPDATE request_notes
            SET outcome = $2, refusal_reason = $3,
                decided_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
            WHERE id = $1
            RETURNING id
            """,
            request,
            outcome,
            refusal_reason,
        )
    return None if value is None else int(value)


async def requester_record(
    db: Executor,
    follower_id: int,
    *,
    since: datetime | None = None,
    threshold: float = _DEFAULT_REPEAT_THRESHOLD,
) -> RequesterRecord:
    """The sender's track record: requests accepted, requests refused (rejected by the
    recipient, refused by the rules, or expired), and how many of their notes since
    ``since`` (default: 30 days ago) were at least ``threshold`` alike to another of their
    notes sent to someone else (among their ``RECORD_SCAN_LIMIT`` most recent)."""
    row = await db.fetchrow(
        """
        SELECT count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
               count(*) FILTER (WHERE outcome IN ('rejected', 'refused', 'expired'))
                   AS refused
        FROM request_notes
        WHERE follower_id = $1
        """,
        follower_id,
    )
    assert row is not None
    # Each note's trigrams once (pg_trgm's own show_trgm), then every pair compared here:
    # similarity is shared trigrams over all trigrams, exactly pg_trgm's similarity(),
    # without cutting both notes into trigrams again for each of the 4,950 pairs.
    rows = await db.fetch(
        """
        SELECT followee_id, show_trgm(left(note, $4)) AS trigrams
        FROM request_notes
        WHERE follower_id = $1 AND created_at >= coalesce($2, now() - interval '30 days')
              AND note <> ''
        ORDER BY created_at DESC
        LIMIT $3
        """,
        follower_id,
        since,
        RECORD_SCAN_LIMIT,
        REPEAT_COMPARE_CHARS,
    )
    notes = [(r["followee_id"], frozenset(r["trigrams"])) for r in rows]
    repeated: set[int] = set()
    for i, (followee, trigrams) in enumerate(notes):
        for j in range(i + 1, len(notes)):
            other_followee, other = notes[j]
            if other_followee != followee and _similar(trigrams, other, threshold):
                repeated.update((i, j))
    return RequesterRecord(
        requests_accepted=int(row["accepted"]),
        requests_refused=int(row["refused"]),
        repeated_notes=len(repeated),
    )


async def count_requests_since(db: Executor, follower_id: int, since: datetime) -> int:
    """Every request ``follower_id`` sent since ``since``, refused ones included: what
    sending limits count."""
    value = await db.fetchval(
        "SELECT count(*) FROM request_notes WHERE follower_id = $1 AND created_at >= $2",
        follower_id,
        since,
    )
    return int(value or 0)


# -- canned invitations ------------------------------------------------------------------


async def list_canned_invitations(db: Executor) -> list[CannedInvitation]:
    rows = await db.fetch(
        "SELECT id, text, builtin, created_at FROM canned_invitations ORDER BY id"
    )
    return [_canned_from_row(row) for row in rows]


async def add_canned_invitation(db: Executor, text: str) -> CannedInvitation:
    """Add an instance's own canned invitation (whitespace is collapsed). Raises
    :class:`ValidationError` for an empty text, :class:`Conflict` for one already listed."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValidationError("A canned invitation needs some text.", field="text")
    try:
        row = await db.fetchrow(
            """
            INSERT INTO canned_invitations (text, builtin) VALUES ($1, false)
            RETURNING id, text, builtin, created_at
            """,
            cleaned,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"This canned invitation is already listed: {cleaned!r}.") from None
    assert row is not None
    return _canned_from_row(row)


async def remove_canned_invitation(db: Executor, invitation_id: int) -> bool:
    """Remove a canned invitation, built-in ones included (admins decide). False when there
    was no such invitation."""
    value = await db.fetchval(
        "DELETE FROM canned_invitations WHERE id = $1 RETURNING id", invitation_id
    )
    return value is not None


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _similar(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    # Shared over all can never exceed smaller over larger: skip the intersection then.
    small, large = sorted((len(a), len(b)))
    return large > 0 and small >= threshold * large and _jaccard(a, b) >= threshold


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown request outcome {outcome!r}; expected one of {OUTCOMES}")
