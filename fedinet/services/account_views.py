"""What a viewer may see of one account: its statuses, its followers and follows, the
followers they share, and the viewer's private note about it."""

from __future__ import annotations

from dataclasses import dataclass

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.db import account_lists as lists_db
from fedinet.db import account_notes as notes_db
from fedinet.db import bookmarks as bookmarks_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import users as users_db
from fedinet.db.types import Executor
from fedinet.errors import NotFound, ValidationError
from fedinet.models import Actor, Status

__all__ = [
    "MAX_NOTE",
    "StatusFilter",
    "account_statuses",
    "collections_hidden",
    "familiar_followers",
    "follower_page",
    "following_page",
    "search",
    "set_note",
    "visible_account",
]

MAX_NOTE = 2000
"""Mastodon's limit for a private note about an account."""


async def visible_account(db: Executor, actor: Actor | None) -> Actor:
    """``actor`` if the API shows it as an account: remote actors and approved local
    members; ``NotFound`` for the rest (the instance actor, pending members, deleted
    accounts). Suspended accounts are shown (as empty profiles)."""
    if actor is None or actor.deleted_at is not None:
        raise NotFound("Record not found")
    if actor.is_local and actor.actor_type == "Application":  # the instance actor
        raise NotFound("Record not found")
    if actor.is_local and actor.actor_type != "Service":
        user = await users_db.get_user_by_actor_id(db, actor.id)
        if user is None or not user.approved:
            raise NotFound("Record not found")
    return actor


@dataclass(frozen=True, slots=True)
class StatusFilter:
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    pinned: bool = False
    tagged: str | None = None


async def _visibilities(db: Executor, author: Actor, viewer: Actor | None) -> list[str]:
    if viewer is not None and viewer.id == author.id:
        return ["public", "unlisted", "private", "direct"]
    if viewer is not None:
        follow = await follows_db.get_follow(db, viewer.id, author.id)
        if follow is not None and follow.state == "accepted":
            return ["public", "unlisted", "private"]
    return ["public", "unlisted"]


async def account_statuses(
    db: Executor,
    author: Actor,
    viewer: Actor | None,
    filters: StatusFilter,
    *,
    limit: int,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
) -> list[Status]:
    """The statuses of ``author`` that ``viewer`` (None: anonymous) may see. Nothing when
    a block stands between them, or for suspended accounts. With ``pinned``, the pinned
    statuses the viewer may see, latest pin first, on a single page (at most five exist)."""
    if author.is_gone:
        return []
    if viewer is not None and await interactions_db.is_blocked_either_way(db, viewer.id, author.id):
        return []
    if filters.pinned:
        if max_id is not None or since_id is not None or min_id is not None:
            return []
        allowed = await _visibilities(db, author, viewer)
        pinned = await bookmarks_db.list_pinned(db, author.id)
        return [s for s in pinned if s.visibility in allowed][:limit]
    tagged = None
    if filters.tagged is not None:
        tagged = normalize_hashtag(filters.tagged)
        if not tagged:
            return []
    return await lists_db.list_account_statuses(
        db,
        author.id,
        limit=limit,
        visibilities=await _visibilities(db, author, viewer),
        viewer_id=None if viewer is None else viewer.id,
        max_id=max_id,
        since_id=since_id,
        min_id=min_id,
        exclude_replies=filters.exclude_replies,
        exclude_reblogs=filters.exclude_reblogs,
        only_media=filters.only_media,
        tagged=tagged,
    )


def collections_hidden(account: Actor, viewer: Actor | None) -> bool:
    """Whether ``viewer`` must not see who follows ``account`` and whom it follows."""
    return account.hide_collections and (viewer is None or viewer.id != account.id)


async def _page_guard(db: Executor, account: Actor, viewer: Actor | None) -> bool:
    if collections_hidden(account, viewer) or account.is_gone:
        return False
    return viewer is None or not await interactions_db.is_blocked_either_way(
        db, viewer.id, account.id
    )


async def follower_page(
    db: Executor,
    account: Actor,
    viewer: Actor | None,
    *,
    limit: int,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
) -> list[tuple[int, Actor]]:
    """(follow id, follower) pairs; empty when the member hides the list from ``viewer``."""
    if not await _page_guard(db, account, viewer):
        return []
    return await lists_db.list_follower_accounts(
        db, account.id, limit=limit, max_id=max_id, since_id=since_id, min_id=min_id
    )


async def following_page(
    db: Executor,
    account: Actor,
    viewer: Actor | None,
    *,
    limit: int,
    max_id: int | None,
    since_id: int | None,
    min_id: int | None,
) -> list[tuple[int, Actor]]:
    """(follow id, followed account) pairs; empty when hidden from ``viewer``."""
    if not await _page_guard(db, account, viewer):
        return []
    return await lists_db.list_following_accounts(
        db, account.id, limit=limit, max_id=max_id, since_id=since_id, min_id=min_id
    )


async def familiar_followers(
    db: Executor, viewer: Actor, target_ids: list[int]
) -> dict[int, list[Actor]]:
    """Accounts the viewer follows that also follow each target (members who hide their
    follows are left out)."""
    return await lists_db.list_familiar_followers(db, viewer.id, target_ids, limit=40)


async def search(
    db: Executor,
    query: str,
    *,
    domain: str | None,
    local_only: bool,
    viewer: Actor,
    following_only: bool,
    limit: int,
    offset: int,
) -> list[Actor]:
    """Known accounts by username prefix (and domain prefix) or display name."""
    return await lists_db.search_accounts(
        db,
        query,
        domain=domain,
        local_only=local_only,
        viewer_id=viewer.id,
        following_only=following_only,
        limit=limit,
        offset=offset,
    )


async def set_note(db: Executor, viewer: Actor, target: Actor, comment: str) -> None:
    if len(comment) > MAX_NOTE:
        raise ValidationError(f"the note is longer than {MAX_NOTE} characters", field="comment")
    await notes_db.set_account_note(db, viewer.id, target.id, comment.strip())
