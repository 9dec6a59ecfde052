"""What fedinet's web pages show about people: profile views, directory cards that say
why someone is shown, the follow composer's context and live note check, follow
requests with the requester's track record, and timeline items.

These are read models: they gather what a page needs in a fixed number of queries and
leave the deciding to :mod:`fedinet.services.follows` and :mod:`note_rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fedinet.ap.notes import attachment_kind
from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import directory as directory_db
from fedinet.db import follows as follows_db
from fedinet.db import notes as notes_db
from fedinet.db import statuses as statuses_db
from fedinet.db import users as users_db
from fedinet.db.counts import AccountCounts, StatusCounts, ViewerFlags
from fedinet.db.notes import RequesterRecord
from fedinet.db.types import Connection, Executor
from fedinet.errors import Gone, NotFound
from fedinet.models import Actor, Follow, Status
from fedinet.services import discovery, follows
from fedinet.services.follows import SharedGround
from fedinet.services.note_rules import MIN_CHARS, MIN_WORDS, POLICIES, check_note
from fedinet.vocabulary import MOTIVE_KEYS, motive_labels

__all__ = [
    "DIRECTORY_WINDOW",
    "POLICY_TEXT",
    "REQUESTS_PAGE",
    "Composer",
    "NoteCheck",
    "PersonCard",
    "ProfileView",
    "Relationship",
    "RequestView",
    "ShownMedia",
    "TimelineItem",
    "check_follow_note",
    "composer",
    "directory_cards",
    "find_person",
    "follow_requests",
    "profile_view",
    "timeline_items",
    "why_shown",
]

POLICY_TEXT = {
    "strict": (
        f"reads follow requests with a personal note: at least {MIN_CHARS} characters and "
        f"{MIN_WORDS} words, not a stock invitation, not one sent to others too, and "
        "mentioning something of theirs"
    ),
    "standard": (
        f"reads follow requests with a note: at least {MIN_CHARS} characters and "
        f"{MIN_WORDS} words, not a stock invitation and not one sent to others too"
    ),
    "open": "accepts follow requests with or without a note",
}


def _ground_of(viewer: Actor, other: Actor) -> SharedGround:
    """Shared public motives, interests and region, without mutual follows (no query)."""
    return SharedGround(
        motives=[m for m in MOTIVE_KEYS if m in viewer.motives and m in other.motives],
        interests=[t for t in viewer.interests if t in other.interests],
        region=other.region if other.region and other.region == viewer.region else None,
        mutual_follows=[],
    )


def why_shown(
    ground: SharedGround | None,
    other: Actor,
    *,
    motives: Sequence[str] = (),
    interests: Sequence[str] = (),
) -> str:
    """One line saying why ``other`` is shown: what they share with the viewer, else
    what matched the filters, e.g. "2 shared interests: #gardening #birding · both here
    for friendship"."""
    parts: list[str] = []
    if ground is not None:
        if ground.interests:
            n = len(ground.interests)
            tags = " ".join(f"#{t}" for t in ground.interests[:4])
            parts.append(f"{n} shared interest{'s' if n != 1 else ''}: {tags}")
        if ground.motives:
            parts.append("both here for " + ", ".join(motive_labels(ground.motives)))
        if ground.region:
            parts.append(f"both in {ground.region}")
        if ground.mutual_follows:
            n = len(ground.mutual_follows)
            parts.append(f"{n} account{'s' if n != 1 else ''} you both follow")
    if not parts:
        matched_tags = [t for t in other.interests if t in interests]
        matched_motives = [m for m in other.motives if m in motives]
        if matched_tags:
            parts.append("interested in " + " ".join(f"#{t}" for t in matched_tags))
        if matched_motives:
            parts.append("here for " + ", ".join(motive_labels(matched_motives)))
    if not parts:
        if other.motives:
            parts.append("here for " + ", ".join(motive_labels(other.motives)))
        elif other.interests:
            parts.append("interested in " + " ".join(f"#{t}" for t in other.interests[:3]))
        else:
            parts.append("new here" if other.is_local else f"on {other.domain}")
    return " · ".join(parts)


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True, slots=True)
class PersonCard:
    actor: Actor
    score: int
    why: str
    ground: SharedGround | None


DIRECTORY_WINDOW = 500
"""Discover ranks the most recently active matching people, this many at most: the cost
of a page then follows this number, not the number of accounts the server knows."""


def _scores(viewer: Actor, candidates: Sequence[directory_db.DirectoryCandidate]) -> dict[int, int]:
    """Shared ground as the API's directory scores it: 3 per shared interest, 2 per
    shared motive, 2 for the same region."""
    interests, motives, region = (
        frozenset(viewer.interests),
        frozenset(viewer.motives),
        viewer.region,
    )
    return {
        c.id: 3 * len(interests.intersection(c.interests))
        + 2 * len(motives.intersection(c.motives))
        + (2 if region is not None and c.region == region else 0)
        for c in candidates
    }


async def directory_cards(
    db: Executor,
    viewer: Actor | None,
    *,
    motives: list[str],
    interests: list[str],
    near_me: bool,
    local_only: bool,
    limit: int,
    offset: int,
) -> list[PersonCard]:
    """People to meet: for a viewer, the :data:`DIRECTORY_WINDOW` most recently active
    matching people ranked by shared ground (then recency); for anonymous visitors, the
    most recently active. Two queries."""
    region = viewer.region if near_me and viewer is not None else None
    if near_me and region is None:
        return []
    candidates = await directory_db.list_directory_candidates(
        db,
        exclude_id=viewer.id if viewer else None,
        motives=motives,
        interests=interests,
        region=region,
        local_only=local_only,
        limit=DIRECTORY_WINDOW if viewer is not None else min(offset + limit, DIRECTORY_WINDOW),
    )
    scores = _scores(viewer, candidates) if viewer is not None else {}
    ranked = sorted(candidates, key=lambda c: -scores.get(c.id, 0))  # stable: recency next
    shown = ranked[offset : offset + limit]
    actors = await actors_db.get_actors_by_ids(db, [c.id for c in shown])
    cards = []
    for candidate in shown:
        actor = actors.get(candidate.id)
        if actor is None:
            continue
        ground = _ground_of(viewer, actor) if viewer is not None else None
        why = why_shown(ground, actor, motives=motives, interests=interests)
        cards.append(PersonCard(actor=actor, score=scores.get(actor.id, 0), why=why, ground=ground))
    return cards


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class Relationship:
    following: bool = False
    requested: bool = False
    awaiting_note: bool = False
    followed_by: bool = False
    requested_by: bool = False
    blocking: bool = False
    blocked_by: bool = False


@dataclass(frozen=True, slots=True)
class ProfileView:
    actor: Actor
    counts: AccountCounts
    motives: list[str]
    """Public motives, plus private ones for the member and accepted followers."""
    private_motives: list[str]
    """Those of ``motives`` that are private."""
    posts: list[Status]
    policy: str | None
    is_self: bool
    ground: SharedGround | None
    why: str
    relationship: Relationship


async def _relationship(db: Executor, viewer: Actor, other: Actor) -> Relationship:
    rows = await follows_db.get_relationships(db, viewer.id, [other.id])
    if not rows:
        return Relationship()
    row = rows[0]
    outgoing = await follows_db.get_follow(db, viewer.id, other.id)
    return Relationship(
        following=bool(row["following"]),
        requested=bool(row["requested"]),
        awaiting_note=outgoing is not None and outgoing.state == "awaiting_note",
        followed_by=bool(row["followed_by"]),
        requested_by=bool(row["requested_by"]),
        blocking=bool(row["blocking"]),
        blocked_by=bool(row["blocked_by"]),
    )


async def _policy(db: Executor, actor: Actor) -> str | None:
    if not actor.is_local:
        return actor.follow_note_policy
    user = await users_db.get_user_by_actor_id(db, actor.id)
    return user.follow_note_policy if user is not None else "strict"


async def profile_view(
    conn: Connection, actor: Actor, viewer: Actor | None, *, posts: int = 20
) -> ProfileView:
    counts = (await counts_db.count_account_stats(conn, [actor.id])).get(actor.id, AccountCounts())
    recent = await statuses_db.list_statuses_by_actor(conn, actor.id, limit=posts * 2)
    public = [
        s for s in recent if s.visibility in ("public", "unlisted") and s.reblog_of_id is None
    ][:posts]
    is_self = viewer is not None and viewer.id == actor.id
    relationship = (
        await _relationship(conn, viewer, actor)
        if viewer is not None and not is_self
        else Relationship()
    )
    motives, private = list(actor.motives), []
    if actor.is_local and (is_self or relationship.following):
        user = await users_db.get_user_by_actor_id(conn, actor.id)
        if user is not None:
            private = list(user.private_motives)
            motives = [m for m in MOTIVE_KEYS if m in actor.motives or m in private]
    ground = None
    if viewer is not None and not is_self:
        ground = await follows.shared_ground(conn, viewer, actor)
    return ProfileView(
        actor=actor,
        counts=counts,
        motives=motives,
        private_motives=private,
        posts=public,
        policy=await _policy(conn, actor),
        is_self=is_self,
        ground=ground,
        why=why_shown(ground, actor) if ground is not None else "",
        relationship=relationship,
    )


# --------------------------------------------------------------------------- composer


@dataclass(frozen=True, slots=True)
class Composer:
    target: Actor
    ground: SharedGround
    prompts: list[str]
    policy: str | None
    policy_text: str
    bridged: bool
    """The target's server is not fedinet: the note also goes as a direct message."""
    relationship: Relationship


def _prompts(target: Actor, ground: SharedGround) -> list[str]:
    """Starting points for a note, from what the two share (or what the target shows)."""
    name = target.display_name or target.username
    prompts = []
    for tag in ground.interests[:2]:
        prompts.append(f"What got you into #{tag}? I have been …")
    for label in motive_labels(ground.motives)[:1]:
        prompts.append(f"We are both here for {label}: I am hoping to …")
    if ground.region:
        prompts.append(f"I am in {ground.region} too — do you know …")
    if ground.mutual_follows:
        prompts.append(f"We both follow @{ground.mutual_follows[0]}; I know them from …")
    if not prompts:
        for tag in target.interests[:2]:
            prompts.append(f"I saw you are into #{tag}; I …")
        if not prompts:
            prompts.append(f"Something in {name}'s posts or bio that made you want to connect …")
    return prompts[:4]


async def composer(conn: Connection, sender: Actor, target: Actor) -> Composer:
    ground = await follows.shared_ground(conn, sender, target)
    policy = await _policy(conn, target)
    name = target.display_name or target.username
    if policy is None:
        text = (
            f"{name}'s server does not say how they read follow requests. Your note travels "
            "with the request, and also as a direct message so they can read it."
        )
    else:
        text = f"{name} {POLICY_TEXT.get(policy, POLICY_TEXT['strict'])}."
    return Composer(
        target=target,
        ground=ground,
        prompts=_prompts(target, ground),
        policy=policy,
        policy_text=text,
        bridged=not target.is_local and policy is None,
        relationship=await _relationship(conn, sender, target),
    )


@dataclass(frozen=True, slots=True)
class NoteCheck:
    ok: bool
    reason: str | None
    message: str
    hint: str


async def check_follow_note(
    conn: Connection, sender: Actor, target: Actor, note: str, *, now: datetime | None = None
) -> NoteCheck:
    """The same rules :func:`follows.follow` applies, run without sending anything (for
    the composer's live check; the real request is checked again)."""
    policy = await _policy(conn, target)
    if policy is None or policy not in POLICIES:
        return NoteCheck(True, None, "Their server does not check notes; yours will be sent.", "")
    refusal = await check_note(
        conn,
        sender_id=sender.id,
        recipient_id=target.id,
        recipient=await follows.recipient_profile(conn, target),
        note=" ".join(note.split()),
        policy=policy,
        now=now or datetime.now(UTC),
    )
    if refusal is None:
        return NoteCheck(True, None, "This note meets their rules.", "")
    return NoteCheck(False, refusal.reason, refusal.message, refusal.hint)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class RequestView:
    follow: Follow
    requester: Actor
    ground: SharedGround
    why: str
    record: RequesterRecord
    counts: AccountCounts
    account_days: int | None
    """Days since the requester's account was created (None when unknown)."""

    @property
    def acceptance_rate(self) -> int | None:
        decided = self.record.requests_accepted + self.record.requests_refused
        return None if decided == 0 else round(100 * self.record.requests_accepted / decided)


REQUESTS_PAGE = 20


async def follow_requests(
    conn: Connection, me: Actor, *, page: int = 1, now: datetime | None = None
) -> tuple[list[RequestView], int]:
    """One page of pending requests (newest first) with what the recipient needs to
    decide, and how many are pending in all."""
    now = now or datetime.now(UTC)
    every = await follows_db.list_pending_requests(conn, me.id)
    start = (max(1, page) - 1) * REQUESTS_PAGE
    pending = every[start : start + REQUESTS_PAGE]
    ids = [a.id for _, a in pending]
    stats = await counts_db.count_account_stats(conn, ids)
    mutuals = await follows_db.list_followed_by_both_many(conn, me.id, ids, limit=5)
    views = []
    for made, requester in pending:
        ground = replace(_ground_of(me, requester), mutual_follows=mutuals.get(requester.id, []))
        born = requester.published or requester.created_at
        views.append(
            RequestView(
                follow=made,
                requester=requester,
                ground=ground,
                why=why_shown(ground, requester),
                record=await notes_db.requester_record(conn, requester.id),
                counts=stats.get(requester.id, AccountCounts()),
                account_days=None if born is None else max(0, (now - born).days),
            )
        )
    return views, len(every)


# --------------------------------------------------------------------------- timelines


@dataclass(frozen=True, slots=True)
class ShownMedia:
    """An attachment as a page shows it."""

    kind: str
    """``image``, ``video``, ``audio`` or ``file`` (anything else)."""
    url: str
    description: str | None
    width: int | None
    height: int | None
    local: bool
    """Stored on this server: shown in the page. Other servers' files are only linked,
    so that reading a timeline does not tell them the reader's address."""

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


@dataclass(frozen=True, slots=True)
class TimelineItem:
    status: Status
    """The status shown (for a boost: the boosted one)."""
    author: Actor
    boosted_by: Actor | None
    entry_id: int
    """The id of the timeline entry (the boost's own id for a boost), for paging."""
    counts: StatusCounts
    flags: ViewerFlags
    reply_to: Actor | None
    media: tuple[ShownMedia, ...] = ()


def shown_media(status: Status, local_prefix: str) -> tuple[ShownMedia, ...]:
    """``status``'s attachments with an http(s) URL; ``local`` for those under
    ``local_prefix`` (this server's media URL, ending in ``/``)."""
    shown = []
    for item in status.attachments:
        url = item.get("url")
        if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
            continue
        width, height = item.get("width"), item.get("height")
        description = item.get("description")
        shown.append(
            ShownMedia(
                kind=attachment_kind(item) or "file",
                url=url,
                description=description if isinstance(description, str) else None,
                width=width if isinstance(width, int) and width > 0 else None,
                height=height if isinstance(height, int) and height > 0 else None,
                local=bool(local_prefix) and url.startswith(local_prefix),
            )
        )
    return tuple(shown)


async def timeline_items(
    db: Executor, statuses: Sequence[Status], viewer: Actor | None, *, local_media: str = ""
) -> list[TimelineItem]:
    """Statuses with their authors, boosted originals, counts, the viewer's flags and
    attachments (those under ``local_media`` shown in the page), in a fixed number of
    queries."""
    boosted_ids = [s.reblog_of_id for s in statuses if s.reblog_of_id is not None]
    boosted = await statuses_db.get_statuses_by_ids(db, boosted_ids) if boosted_ids else {}
    shown = [boosted.get(s.reblog_of_id, s) if s.reblog_of_id else s for s in statuses]
    actor_ids = {s.actor_id for s in statuses} | {s.actor_id for s in shown}
    actor_ids |= {s.in_reply_to_actor_id for s in shown if s.in_reply_to_actor_id}
    actors = await actors_db.get_actors_by_ids(db, list(actor_ids))
    ids = [s.id for s in shown]
    counts = await counts_db.count_status_stats(db, ids)
    flags = await counts_db.viewer_status_flags(db, viewer.id, ids) if viewer else {}
    items = []
    for entry, status in zip(statuses, shown, strict=True):
        author = actors.get(status.actor_id)
        if author is None or (entry.reblog_of_id and status is entry):
            continue
        items.append(
            TimelineItem(
                status=status,
                author=author,
                boosted_by=actors.get(entry.actor_id) if entry.reblog_of_id else None,
                entry_id=entry.id,
                counts=counts.get(status.id, StatusCounts()),
                flags=flags.get(status.id, ViewerFlags()),
                reply_to=(
                    actors.get(status.in_reply_to_actor_id) if status.in_reply_to_actor_id else None
                ),
                media=shown_media(status, local_media),
            )
        )
    return items


async def find_person(db: Executor, settings: Settings, acct: str) -> Actor:
    """A person by ``user`` (local) or ``user@domain`` (local, or a remote account this
    server already knows). ``NotFound`` otherwise; ``Gone`` for suspended or deleted."""
    username, _, domain = acct.strip().removeprefix("@").partition("@")
    if not username:
        raise NotFound("no such account")
    if not domain or domain.lower() == settings.domain:
        actor = await discovery.get_local_member(db, username)
    else:
        found = await counts_db.get_remote_actor_by_acct(db, username, domain.lower())
        if found is None or found.actor_type == "Application":
            raise NotFound(f"{username}@{domain} is not known here yet")
        actor = found
    if actor.is_gone:
        raise Gone(f"the account {actor.acct} is no longer available")
    return actor
