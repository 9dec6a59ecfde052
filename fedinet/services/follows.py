"""Following, fedinet's way: every request carries a personal note the recipient reads.

A request to a member passes the rules of that member's policy (``services.note_rules``)
or is refused with the rule and a hint. Connect links skip the note for people the
member already knows. Servers that send no notes get a direct message asking for one;
servers that show none get the note as a direct message too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fedinet.ap.activities import (
    accept_activity,
    follow_activity,
    reject_activity,
    undo_activity,
)
from fedinet.ap.context import context
from fedinet.ap.sanitize import html_to_text, text_to_html
from fedinet.config import Settings
from fedinet.db import connect_links as links_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import notes as notes_db
from fedinet.db import statuses as statuses_db
from fedinet.db import users as users_db
from fedinet.db.actors import get_actor_by_id
from fedinet.db.instance import get_instance_setting
from fedinet.db.types import Connection
from fedinet.errors import NoteRefused, NotFound, PermissionDenied, RateLimited, ValidationError
from fedinet.metrics import NOTE_REFUSALS
from fedinet.models import Actor, Follow
from fedinet.services import bridge
from fedinet.services.note_rules import RecipientProfile, Refusal, check_note
from fedinet.services.outbox import mint_activity_uri, publish
from fedinet.vocabulary import MOTIVE_KEYS

__all__ = [
    "DEFAULT_SENDING_LIMITS",
    "FollowIntent",
    "SharedGround",
    "accept_follow_request",
    "create_connect_link",
    "expire_awaiting",
    "follow",
    "follow_object",
    "receive_follow",
    "receive_note_reply",
    "recipient_profile",
    "record_refusal",
    "reject_follow_request",
    "remove_from_followers",
    "shared_ground",
    "unfollow",
]

DEFAULT_SENDING_LIMITS = {"new_account_days": 7, "new_per_day": 20, "per_day": 100}
CONNECT_LINK_DAYS = 14
RECENT_POSTS = 20


@dataclass(frozen=True, slots=True)
class FollowIntent:
    """What comes with a follow request: the note, the motive, a connect code."""

    note: str = ""
    motive: str | None = None
    connect_code: str | None = None


@dataclass(frozen=True, slots=True)
class SharedGround:
    motives: list[str]
    interests: list[str]
    region: str | None
    mutual_follows: list[str]
    """Handles of accounts both follow (a few)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "motives": self.motives,
            "interests": self.interests,
            "region": self.region,
            "mutual_follows": self.mutual_follows,
        }


def follow_object(follow: Follow, follower: Actor, followee: Actor) -> dict[str, Any]:
    """The Follow activity as embedded in Accept, Reject and Undo."""
    return {"id": follow.uri, "type": "Follow", "actor": follower.uri, "object": followee.uri}


async def shared_ground(conn: Connection, a: Actor, b: Actor) -> SharedGround:
    """What two accounts have in common, from what each shows publicly."""
    same_region = a.region if a.region and b.region and a.region == b.region else None
    return SharedGround(
        motives=[m for m in MOTIVE_KEYS if m in a.motives and m in b.motives],
        interests=[tag for tag in a.interests if tag in b.interests],
        region=same_region,
        mutual_follows=await follows_db.list_followed_by_both(conn, a.id, b.id, limit=5),
    )


async def recipient_profile(conn: Connection, actor: Actor) -> RecipientProfile:
    recent = await statuses_db.list_statuses_by_actor(conn, actor.id, limit=RECENT_POSTS)
    return RecipientProfile(
        username=actor.username,
        acct=actor.acct,
        display_name=actor.display_name,
        interests=tuple(actor.interests),
        motives=tuple(actor.motives),
        region=actor.region,
        bio_text=html_to_text(actor.summary),
        recent_posts=tuple(
            html_to_text(s.content)
            for s in recent
            if s.visibility in ("public", "unlisted") and s.reblog_of_id is None
        ),
    )


def _refused(refusal: Refusal) -> NoteRefused:
    return NoteRefused(refusal.message, reason=refusal.reason, hint=refusal.hint)


async def _check(
    conn: Connection, follower: Actor, target: Actor, note: str, policy: str, now: datetime
) -> Refusal | None:
    return await check_note(
        conn,
        sender_id=follower.id,
        recipient_id=target.id,
        recipient=await recipient_profile(conn, target),
        note=note,
        policy=policy,
        now=now,
    )


async def _check_sending_limit(conn: Connection, follower: Actor, now: datetime) -> None:
    user = await users_db.get_user_by_actor_id(conn, follower.id)
    if user is None:
        return
    limits = {
        **DEFAULT_SENDING_LIMITS,
        **(await get_instance_setting(conn, "sending_limits") or {}),
    }
    young = now - user.created_at < timedelta(days=int(limits["new_account_days"]))
    allowed = int(limits["new_per_day"] if young else limits["per_day"])
    since = now - timedelta(days=1)
    sent = await notes_db.count_requests_since(conn, follower.id, since)
    if sent < allowed:
        return
    oldest = await follows_db.oldest_request_since(conn, follower.id, since) or now
    retry_after = max(60, int((oldest + timedelta(days=1) - now).total_seconds()))
    raise RateLimited(
        f"you have sent {sent} follow requests in the last 24 hours; "
        f"{'new accounts may send' if young else 'the limit is'} {allowed} a day",
        retry_after=retry_after,
        reason="sending_limit",
    )


def _validate_intent(intent: FollowIntent) -> FollowIntent:
    if intent.motive is not None and intent.motive not in MOTIVE_KEYS:
        raise ValidationError(
            f"unknown motive {intent.motive!r}; choose from {', '.join(MOTIVE_KEYS)}",
            field="motive",
        )
    note = " ".join(intent.note.split()) if intent.note else ""
    if len(note) > 1000:
        raise ValidationError("the note is longer than 1000 characters", field="note")
    return FollowIntent(note=note, motive=intent.motive, connect_code=intent.connect_code)


def _follow_document(
    activity_id: str, follower: Actor, target: Actor, intent: FollowIntent
) -> dict[str, Any]:
    """The Follow, carrying the note in ``content`` and fedinet's extension terms."""
    document = follow_activity(activity_id, follower.uri, target.uri)
    if intent.note or intent.motive or intent.connect_code:
        document["@context"] = context()
    if intent.note:
        document["content"] = text_to_html(intent.note, base_url=follower.uri)
    if intent.motive:
        document["motive"] = intent.motive
    if intent.connect_code:
        document["connectCode"] = intent.connect_code
    return document


async def _notify_follow(conn: Connection, follow: Follow, follower: Actor) -> None:
    await interactions_db.insert_notification(
        conn,
        recipient_id=follow.followee_id,
        notification_type="follow" if follow.state == "accepted" else "follow_request",
        from_actor_id=follower.id,
    )


async def follow(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    intent: FollowIntent | None = None,
    *,
    now: datetime | None = None,
) -> Follow:
    """``follower`` (a local member) asks to follow ``target`` with a note.

    Raises :class:`NoteRefused` (422) when the note fails the target's rules, and
    :class:`RateLimited` (429) past the sending limit; refused notes count toward it.
    """
    now = now or datetime.now(UTC)
    intent = _validate_intent(intent or FollowIntent())
    if follower.id == target.id:
        raise ValidationError("you cannot follow yourself")
    if target.is_gone:
        raise NotFound(f"{target.acct} is no longer here")
    if await interactions_db.is_blocked_either_way(conn, follower.id, target.id):
        raise PermissionDenied(f"you cannot follow {target.acct}")
    existing = await follows_db.get_follow(conn, follower.id, target.id)
    if existing is not None and existing.state == "accepted":
        return existing
    await _check_sending_limit(conn, follower, now)
    if target.is_local:
        return await _follow_local(conn, settings, follower, target, intent, existing, now)
    return await _follow_remote(conn, settings, follower, target, intent, existing, now)


async def _log_refusal(
    conn: Connection,
    follower: Actor,
    target: Actor,
    note: str,
    motive: str | None,
    refusal: Refusal,
) -> None:
    """Keep a refused request in the history: it counts toward the sending limits and
    the requester's track record."""
    NOTE_REFUSALS.inc(refusal.reason)
    await notes_db.insert_request_note(
        conn,
        follower_id=follower.id,
        followee_id=target.id,
        note=note,
        motive=motive,
        outcome="refused",
        refusal_reason=refusal.reason,
    )


async def _store_request(
    conn: Connection,
    follower: Actor,
    target: Actor,
    uri: str,
    intent: FollowIntent,
    *,
    accepted: bool,
    link_id: int | None = None,
) -> Follow:
    """The follow row with its note and motive, and its entry in the request history."""
    made = await follows_db.insert_follow(
        conn, uri=uri, follower_id=follower.id, followee_id=target.id, accepted=accepted
    )
    made = (
        await follows_db.set_follow_note(
            conn,
            made.id,
            note=intent.note or None,
            motive=intent.motive,
            state="accepted" if accepted else "pending",
            connect_link_id=link_id,
        )
        or made
    )
    await notes_db.insert_request_note(
        conn,
        follower_id=follower.id,
        followee_id=target.id,
        note=intent.note,
        motive=intent.motive,
        outcome="accepted" if accepted else "pending",
    )
    return made


async def _announce_request(
    conn: Connection,
    settings: Settings,
    made: Follow,
    follower: Actor,
    target: Actor,
    note: str,
) -> None:
    """Tell a local member about a new request: a notification, and (when it waits for
    approval) the note by direct message, for clients that have no place for notes."""
    await _notify_follow(conn, made, follower)
    if note and made.state != "accepted":
        ground = await shared_ground(conn, follower, target)
        await bridge.tell_member(
            conn,
            settings,
            target,
            follower,
            note,
            bridge.shared_ground_text(ground.motives, ground.interests, ground.region),
        )


async def _follow_local(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    intent: FollowIntent,
    existing: Follow | None,
    now: datetime,
) -> Follow:
    target_user = await users_db.get_user_by_actor_id(conn, target.id)
    policy = target_user.follow_note_policy if target_user else "strict"
    link = None
    if intent.connect_code:
        link = await links_db.use_connect_link(conn, intent.connect_code, target.id)
        if link is None:
            raise ValidationError(
                "this connect link is not valid: it may have expired or been revoked",
                field="connect_code",
                reason="connect_code_invalid",
            )
    if link is None:
        refusal = await _check(conn, follower, target, intent.note, policy, now)
        if refusal is not None:
            await _log_refusal(conn, follower, target, intent.note, intent.motive, refusal)
            raise _refused(refusal)
    async with conn.transaction():
        uri = existing.uri if existing is not None else await mint_activity_uri(conn, settings)
        made = await _store_request(
            conn,
            follower,
            target,
            uri,
            intent,
            accepted=link is not None or not target.manually_approves_followers,
            link_id=link.id if link else None,
        )
        if existing is None:
            await _announce_request(conn, settings, made, follower, target, intent.note)
        return made


async def _follow_remote(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    intent: FollowIntent,
    existing: Follow | None,
    now: datetime,
) -> Follow:
    # A fedinet server publishes its member's policy: check here first, so the sender
    # hears at once; that server checks again and has the last word.
    if target.follow_note_policy is not None and not intent.connect_code:
        refusal = await _check(conn, follower, target, intent.note, target.follow_note_policy, now)
        if refusal is not None:
            await _log_refusal(conn, follower, target, intent.note, intent.motive, refusal)
            raise _refused(refusal)
    async with conn.transaction():
        uri = existing.uri if existing is not None else await mint_activity_uri(conn, settings)
        made = await _store_request(conn, follower, target, uri, intent, accepted=False)
        await publish(
            conn,
            settings,
            follower,
            lambda activity_id: _follow_document(activity_id, follower, target, intent),
            object_uri=target.uri,
            visibility="direct",  # the note is for the two of them
            inboxes=[target.inbox_uri] if target.inbox_uri else [],
            uri=uri,
        )
        if intent.note and target.follow_note_policy is None:
            # Not a fedinet server: it will not show the note, so send it as a message.
            await bridge.deliver_note_as_message(conn, settings, follower, target, intent.note)
        return made


async def _send_reject(
    conn: Connection,
    settings: Settings,
    followee: Actor,
    follower: Actor,
    follow_uri: str,
    *,
    content: str | None = None,
    reason: str | None = None,
) -> None:
    if follower.is_local:
        return
    embedded = {"id": follow_uri, "type": "Follow", "actor": follower.uri, "object": followee.uri}

    def build(activity_id: str) -> dict[str, Any]:
        document = reject_activity(activity_id, followee.uri, embedded, content=content)
        if reason is not None:
            document["@context"] = context()
            document["refusalReason"] = reason
        return document

    await publish(
        conn,
        settings,
        followee,
        build,
        object_uri=follow_uri,
        visibility="direct",
        inboxes=[follower.inbox_uri] if follower.inbox_uri else [],
    )


async def _send_accept(
    conn: Connection, settings: Settings, made: Follow, follower: Actor, followee: Actor
) -> None:
    if follower.is_local:
        return
    embedded = follow_object(made, follower, followee)
    await publish(
        conn,
        settings,
        followee,
        lambda activity_id: accept_activity(activity_id, followee.uri, embedded),
        object_uri=made.uri,
        visibility="direct",
        inboxes=[follower.inbox_uri] if follower.inbox_uri else [],
    )


async def receive_follow(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    follow_uri: str,
    intent: FollowIntent | None = None,
    *,
    now: datetime | None = None,
) -> Follow | None:
    """A remote ``follower`` asks to follow the local ``target`` with the activity
    ``follow_uri``. Returns the follow (pending, accepted or awaiting a note), or None
    when it was refused (a block, or a note that fails the member's rules)."""
    now = now or datetime.now(UTC)
    intent = intent or FollowIntent()
    if intent.motive not in (None, *MOTIVE_KEYS):
        intent = FollowIntent(note=intent.note, connect_code=intent.connect_code)
    if await interactions_db.is_blocked_either_way(conn, follower.id, target.id):
        await _send_reject(conn, settings, target, follower, follow_uri)
        return None
    existing = await follows_db.get_follow(conn, follower.id, target.id)
    if existing is not None and existing.state == "accepted":
        await _send_accept(conn, settings, existing, follower, target)
        return existing
    target_user = await users_db.get_user_by_actor_id(conn, target.id)
    policy = target_user.follow_note_policy if target_user else "strict"
    link = (
        await links_db.use_connect_link(conn, intent.connect_code, target.id)
        if intent.connect_code
        else None
    )
    async with conn.transaction():
        if link is None and policy != "open":
            if not intent.note.strip():
                return await _await_note(conn, settings, follower, target, follow_uri, existing)
            refusal = await _check(conn, follower, target, intent.note, policy, now)
            if refusal is not None:
                await _refuse_remote(
                    conn,
                    settings,
                    follower,
                    target,
                    follow_uri,
                    intent.note,
                    refusal,
                    intent.motive,
                )
                return None
        made = await _store_request(
            conn,
            follower,
            target,
            follow_uri,
            intent,
            accepted=link is not None or not target.manually_approves_followers,
            link_id=link.id if link else None,
        )
        if made.state == "accepted":
            await _send_accept(conn, settings, made, follower, target)
        if existing is None or existing.state == "awaiting_note":
            await _announce_request(conn, settings, made, follower, target, intent.note)
        return made


async def _refuse_remote(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    follow_uri: str,
    note: str,
    refusal: Refusal,
    motive: str | None = None,
) -> None:
    """Refuse a remote request for its note: kept in the history, and answered with a
    Reject that says which rule failed and how to write a better note."""
    await _log_refusal(conn, follower, target, note, motive, refusal)
    await _send_reject(
        conn,
        settings,
        target,
        follower,
        follow_uri,
        content=f"{refusal.message} {refusal.hint}",
        reason=refusal.reason,
    )


async def _await_note(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    target: Actor,
    follow_uri: str,
    existing: Follow | None,
) -> Follow:
    """A request without a note, from a server that sends none: keep it waiting and ask
    the requester (once) for a note by direct message."""
    made = await follows_db.insert_follow(
        conn, uri=follow_uri, follower_id=follower.id, followee_id=target.id, accepted=False
    )
    made = (
        await follows_db.set_follow_note(
            conn, made.id, note=None, motive=None, state="awaiting_note"
        )
        or made
    )
    if existing is None:
        await bridge.ask_for_note(conn, settings, target, follower)
    return made


async def receive_note_reply(
    conn: Connection,
    settings: Settings,
    requester: Actor,
    text: str,
    *,
    now: datetime | None = None,
) -> int:
    """A direct message from someone whose requests await a note: it becomes the note of
    each such request (checked by the same rules). Returns how many requests it completed.

    A reply that fails the rules gets one explanatory message; after that the request is
    refused, so the exchange never loops."""
    now = now or datetime.now(UTC)
    completed = 0
    for waiting in await follows_db.list_awaiting_from(conn, requester.id):
        target = await _local_target(conn, waiting.followee_id)
        if target is None:
            continue
        note = " ".join(text.split())
        intent = FollowIntent(note=note)
        target_user = await users_db.get_user_by_actor_id(conn, target.id)
        policy = target_user.follow_note_policy if target_user else "strict"
        refusal = await _check(conn, requester, target, note, policy, now)
        if refusal is not None:
            if not waiting.reminded:
                await follows_db.mark_reminded(conn, waiting.id)
                await bridge.explain_refused_reply(
                    conn, settings, requester, refusal.message, refusal.hint
                )
                continue
            async with conn.transaction():
                await follows_db.delete_follow(conn, requester.id, target.id)
                await _refuse_remote(conn, settings, requester, target, waiting.uri, note, refusal)
            continue
        await receive_follow(conn, settings, requester, target, waiting.uri, intent, now=now)
        completed += 1
    return completed


async def _local_target(conn: Connection, actor_id: int) -> Actor | None:
    actor = await get_actor_by_id(conn, actor_id)
    return actor if actor is not None and actor.is_local else None


async def expire_awaiting(conn: Connection, settings: Settings, now: datetime) -> int:
    """Refuse requests that waited for a note longer than the bridge allows."""
    expired = await follows_db.list_expired_awaiting(
        conn, now - timedelta(days=bridge.AWAITING_DAYS), limit=100
    )
    for waiting in expired:
        follower = await get_actor_by_id(conn, waiting.follower_id)
        target = await _local_target(conn, waiting.followee_id)
        async with conn.transaction():
            await follows_db.delete_follow(conn, waiting.follower_id, waiting.followee_id)
            if follower is None or target is None:
                continue
            await notes_db.insert_request_note(
                conn,
                follower_id=follower.id,
                followee_id=target.id,
                note="",
                motive=None,
                outcome="expired",
            )
            await _send_reject(
                conn,
                settings,
                target,
                follower,
                waiting.uri,
                content=f"No note arrived within {bridge.AWAITING_DAYS} days.",
                reason="note_missing",
            )
    return len(expired)


async def record_refusal(
    conn: Connection,
    settings: Settings,
    follower: Actor,
    followee: Actor,
    *,
    reason: str | None,
    message: str,
) -> None:
    """Our member's request was turned down by the other server (Reject): keep the
    outcome, and tell the member why by direct message from the system account."""
    await notes_db.set_request_outcome(
        conn,
        (follower.id, followee.id),
        "refused" if reason else "rejected",
        refusal_reason=reason,
    )
    if message:
        await bridge.tell_refused(conn, settings, follower, followee, message)


async def accept_follow_request(
    conn: Connection, settings: Settings, followee: Actor, follower: Actor
) -> Follow:
    async with conn.transaction():
        pending = await follows_db.get_follow(conn, follower.id, followee.id)
        if pending is None or pending.state == "awaiting_note":
            raise NotFound(f"there is no follow request from {follower.acct}")
        if pending.state == "accepted":
            return pending
        accepted = await follows_db.accept_follow(conn, pending.id)
        assert accepted is not None
        await notes_db.set_request_outcome(conn, (follower.id, followee.id), "accepted")
        await _send_accept(conn, settings, accepted, follower, followee)
        return accepted


async def reject_follow_request(
    conn: Connection,
    settings: Settings,
    followee: Actor,
    follower: Actor,
    *,
    reason: str | None = None,
) -> None:
    """Refuse a request, optionally saying why (the reason federates in Reject.content)."""
    if reason is not None and len(reason) > 500:
        raise ValidationError("the reason is longer than 500 characters", field="reason")
    async with conn.transaction():
        pending = await follows_db.delete_follow(conn, follower.id, followee.id)
        if pending is None:
            raise NotFound(f"there is no follow request from {follower.acct}")
        await notes_db.set_request_outcome(conn, (follower.id, followee.id), "rejected")
        await _send_reject(conn, settings, followee, follower, pending.uri, content=reason or None)


async def unfollow(conn: Connection, settings: Settings, follower: Actor, target: Actor) -> None:
    """Stop following (or withdraw a pending request); idempotent."""
    async with conn.transaction():
        removed = await follows_db.delete_follow(conn, follower.id, target.id)
        await interactions_db.remove_from_home_feeds_of(conn, follower.id, target.id)
        if removed is not None and removed.state != "accepted":
            await notes_db.set_request_outcome(conn, (follower.id, target.id), "withdrawn")
        if removed is None or target.is_local:
            return
        inner = follow_object(removed, follower, target)
        await publish(
            conn,
            settings,
            follower,
            lambda activity_id: undo_activity(activity_id, follower.uri, inner),
            object_uri=removed.uri,
            inboxes=[target.inbox_uri] if target.inbox_uri else [],
        )


async def create_connect_link(
    conn: Connection, settings: Settings, owner: Actor, *, now: datetime | None = None
) -> tuple[links_db.ConnectLink, str]:
    """A new connect link for ``owner``: (link, the URL to hand out)."""
    now = now or datetime.now(UTC)
    link = await links_db.insert_connect_link(
        conn,
        code=secrets.token_urlsafe(12),
        owner_id=owner.id,
        expires_at=now + timedelta(days=CONNECT_LINK_DAYS),
    )
    return link, f"{owner.url or owner.uri}?connect={link.code}"


async def remove_from_followers(
    conn: Connection, settings: Settings, account: Actor, follower: Actor
) -> None:
    """Make ``follower`` stop following ``account`` (Mastodon's ``remove_from_followers``):
    the follow goes, ``account``'s posts leave a local follower's home feed, and a remote
    follower's server is sent a Reject of the Follow, as Mastodon sends. Idempotent."""
    async with conn.transaction():
        current = await follows_db.get_follow(conn, follower.id, account.id)
        if current is None or current.state != "accepted":
            return
        await follows_db.delete_follow(conn, follower.id, account.id)
        await interactions_db.remove_from_home_feeds_of(conn, follower.id, account.id)
        await _send_reject(conn, settings, account, follower, current.uri)
