"""Posting, editing and deleting statuses, favourites and boosts, by local members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fedinet.ap.activities import (
    announce_activity,
    create_activity,
    delete_activity,
    like_activity,
    undo_activity,
    update_activity,
)
from fedinet.ap.ids import status_uri, status_url
from fedinet.ap.notes import addressing_for, note_to_ap
from fedinet.ap.sanitize import extract_hashtags, extract_mentions, text_to_html
from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import media as media_db
from fedinet.db import notifications as notifications_db
from fedinet.db import statuses as statuses_db
from fedinet.db.ids import next_id
from fedinet.db.types import Connection
from fedinet.errors import NotFound, PermissionDenied, ValidationError
from fedinet.models import Actor, Status
from fedinet.services.media import attachment_json, media_for_status
from fedinet.services.outbox import audience_inboxes, publish

__all__ = [
    "MAX_CHARACTERS",
    "MentionResolver",
    "delete_status",
    "edit_status",
    "favourite",
    "note_for",
    "post_status",
    "reblog",
    "unfavourite",
    "unreblog",
    "visible_to",
]

MAX_CHARACTERS = 500
VISIBILITIES = ("public", "unlisted", "private", "direct")

# acct ("user" or "user@domain") -> the actor, or None when it cannot be found
MentionResolver = Callable[[str], Awaitable[Actor | None]]


def _check_text(text: str, spoiler_text: str, *, has_media: bool = False) -> None:
    if not text.strip() and not has_media:
        raise ValidationError("the status is empty", field="status")
    if len(text) + len(spoiler_text) > MAX_CHARACTERS:
        raise ValidationError(
            f"the status is longer than {MAX_CHARACTERS} characters", field="status"
        )


def _followers(actor: Actor) -> str:
    assert actor.followers_uri is not None, "local actors always have a followers collection"
    return actor.followers_uri


def _mention_links(mentions: list[Actor]) -> dict[str, str]:
    """acct -> profile URL for linking mentions; local members also by bare username."""
    links = {m.acct: m.url or m.uri for m in mentions}
    links.update({m.username: m.url or m.uri for m in mentions if m.is_local})
    return links


async def _mentioned(text: str, resolve: MentionResolver) -> list[Actor]:
    found: dict[int, Actor] = {}
    for acct in extract_mentions(text):
        actor = await resolve(acct)
        if actor is not None and not actor.is_gone:
            found[actor.id] = actor
    return list(found.values())


async def note_for(
    conn: Connection, settings: Settings, status: Status, author: Actor
) -> dict[str, Any]:
    """The ActivityPub Note of a local status, with its mentions and tags."""
    mention_ids = await statuses_db.list_mentioned_actor_ids(conn, status.id)
    mentions = [a for i in mention_ids if (a := await actors_db.get_actor_by_id(conn, i))]
    tags = await statuses_db.list_status_tags(conn, status.id)
    return note_to_ap(
        status,
        author,
        mentions=mentions,
        tags=tags,
        in_reply_to_uri=status.in_reply_to_uri,
        base_url=settings.url,
    )


async def _local_audience(
    conn: Connection, status: Status, author: Actor, mentions: list[Actor]
) -> list[int]:
    """Local members whose home feed gets ``status``: the author, local followers
    (unless direct) and mentioned local members."""
    owners = [author.id] if author.is_local else []
    if status.visibility != "direct":
        owners += await follows_db.list_local_follower_ids(conn, author.id)
    owners += [m.id for m in mentions if m.is_local]
    return list(dict.fromkeys(owners))


async def post_status(
    conn: Connection,
    settings: Settings,
    author: Actor,
    *,
    text: str,
    resolve: MentionResolver,
    visibility: str = "public",
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
    in_reply_to_id: int | None = None,
    addressed: Sequence[Actor] = (),
    media_ids: Sequence[str] = (),
) -> Status:
    """Post a status. ``addressed`` are recipients named by the caller rather than by an
    @mention the text parser must find (the system account's direct messages);
    ``media_ids`` the author's unattached uploads to attach, in order."""
    if visibility not in VISIBILITIES:
        raise ValidationError(
            f"visibility must be one of {', '.join(VISIBILITIES)}", field="visibility"
        )
    _check_text(text, spoiler_text, has_media=bool(media_ids))
    parent: Status | None = None
    if in_reply_to_id is not None:
        parent = await statuses_db.get_status_by_id(conn, in_reply_to_id)
        if parent is None or parent.deleted_at is not None:
            raise NotFound("the status you reply to does not exist", reason="in_reply_to")
    mentions = await _mentioned(text, resolve)
    mentions += [a for a in addressed if all(m.id != a.id for m in mentions)]
    if parent is not None and parent.actor_id != author.id:
        parent_author = await actors_db.get_actor_by_id(conn, parent.actor_id)
        if parent_author is not None and all(m.id != parent_author.id for m in mentions):
            mentions.append(parent_author)
    tags = extract_hashtags(text)
    content = text_to_html(
        text,
        mentions=_mention_links(mentions),
        base_url=settings.url,
    )
    async with conn.transaction():
        media = await media_for_status(conn, author.id, media_ids)
        status_id = await next_id(conn)
        status = await statuses_db.insert_status(
            conn,
            id=status_id,
            uri=status_uri(settings.url, author.username, status_id),
            url=status_url(settings.url, author.username, status_id),
            actor_id=author.id,
            is_local=True,
            visibility=visibility,
            in_reply_to_uri=parent.uri if parent else None,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_actor_id=parent.actor_id if parent else None,
            content=content,
            source_text=text,
            summary=spoiler_text,
            sensitive=sensitive or bool(spoiler_text),
            language=language,
            attachments=[attachment_json(settings, m) for m in media],
        )
        if media:
            await media_db.attach_media(conn, status.id, [m.id for m in media])
        await statuses_db.set_mentions(conn, status.id, [m.id for m in mentions])
        await statuses_db.set_tags(conn, status.id, tags)
        await interactions_db.add_to_home_feeds(
            conn, status.id, await _local_audience(conn, status, author, mentions)
        )
        for mentioned in mentions:
            if mentioned.is_local and mentioned.id != author.id:
                await interactions_db.insert_notification(
                    conn,
                    recipient_id=mentioned.id,
                    notification_type="mention",
                    from_actor_id=author.id,
                    status_id=status.id,
                )
        if visibility != "direct" and (parent is None or parent.actor_id == author.id):
            await notifications_db.notify_subscribers(conn, status.id, author.id)
        note = await note_for(conn, settings, status, author)
        await publish(
            conn,
            settings,
            author,
            lambda activity_id: create_activity(activity_id, author.uri, note),
            object_uri=status.uri,
            visibility=visibility,
            inboxes=await audience_inboxes(conn, author, visibility, mentions),
            uri=f"{status.uri}/activity",
        )
    return status


async def _reach(
    conn: Connection, author: Actor, status: Status, mentions: list[Actor]
) -> list[str]:
    """Everyone an edit or deletion of ``status`` must reach: its audience, and for
    public statuses also the servers that fetched it or boosted it."""
    inboxes = await audience_inboxes(conn, author, status.visibility, mentions)
    if status.visibility in ("public", "unlisted"):
        inboxes += await statuses_db.list_status_audience(conn, status.id)
    return list(dict.fromkeys(inboxes))


async def _own_status(conn: Connection, author: Actor, status_id: int) -> Status:
    status = await statuses_db.get_status_by_id(conn, status_id)
    if status is None or status.deleted_at is not None:
        raise NotFound("this status does not exist")
    if status.actor_id != author.id:
        # as Mastodon: someone else's status is not found among yours (404, not 403)
        raise NotFound("this status does not exist")
    return status


async def _mentioned_actors(conn: Connection, status: Status) -> list[Actor]:
    ids = await statuses_db.list_mentioned_actor_ids(conn, status.id)
    return [a for i in ids if (a := await actors_db.get_actor_by_id(conn, i))]


async def edit_status(
    conn: Connection,
    settings: Settings,
    author: Actor,
    status_id: int,
    *,
    text: str,
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = None,
    media_ids: Sequence[str] | None = None,
) -> Status:
    """Edit a status; ``media_ids`` (when given) become its attachments, in order."""
    async with conn.transaction():
        status = await _own_status(conn, author, status_id)
        attachments = status.attachments
        if media_ids is not None:
            media = await media_for_status(conn, author.id, media_ids, status_id=status.id)
            await media_db.set_status_media(conn, status.id, [m.id for m in media])
            attachments = [attachment_json(settings, m) for m in media]
        _check_text(text, spoiler_text, has_media=bool(attachments))
        mentions = await _mentioned_actors(conn, status)
        tags = extract_hashtags(text)
        content = text_to_html(
            text,
            mentions=_mention_links(mentions),
            base_url=settings.url,
        )
        edited = await statuses_db.update_status_content(
            conn,
            status.id,
            content=content,
            source_text=text,
            summary=spoiler_text,
            sensitive=sensitive or bool(spoiler_text),
            language=language or status.language,
            attachments=attachments,
            raw=None,
            edited_at=datetime.now(UTC),
        )
        assert edited is not None
        await statuses_db.set_tags(conn, status.id, tags)
        await notifications_db.notify_update(conn, status.id, author.id)
        note = await note_for(conn, settings, edited, author)
        await publish(
            conn,
            settings,
            author,
            lambda activity_id: update_activity(activity_id, author.uri, note),
            object_uri=edited.uri,
            visibility=edited.visibility,
            inboxes=await _reach(conn, author, edited, mentions),
        )
    return edited


async def delete_status(
    conn: Connection, settings: Settings, author: Actor, status_id: int
) -> Status:
    async with conn.transaction():
        status = await _own_status(conn, author, status_id)
        mentions = await _mentioned_actors(conn, status)
        if status.reblog_of_id is not None:
            await unreblog(conn, settings, author, status.reblog_of_id)
            return status
        to, cc = addressing_for(status.visibility, _followers(author), [m.uri for m in mentions])
        inboxes = await _reach(conn, author, status, mentions)
        await statuses_db.mark_status_deleted(conn, status.id)
        # Its uploads become free again, so that "delete and redraft" can reuse them.
        await media_db.set_status_media(conn, status.id, [])
        await publish(
            conn,
            settings,
            author,
            lambda activity_id: delete_activity(activity_id, author.uri, status.uri, to, cc),
            object_uri=status.uri,
            visibility=status.visibility,
            inboxes=inboxes,
        )
    return status


async def visible_to(conn: Connection, status: Status, viewer: Actor | None) -> bool:
    """Whether ``viewer`` (None: anonymous) may see ``status``. Nobody sees the posts of
    a suspended account (or of a suspended domain's accounts) but the account itself."""
    if status.deleted_at is not None:
        return False
    if (viewer is None or viewer.id != status.actor_id) and await actors_db.is_actor_suspended(
        conn, status.actor_id
    ):
        return False
    if status.visibility in ("public", "unlisted"):
        if viewer is None:
            return True
        return not await interactions_db.is_blocked_either_way(conn, viewer.id, status.actor_id)
    if viewer is None:
        return False
    if viewer.id == status.actor_id:
        return True
    if viewer.id in await statuses_db.list_mentioned_actor_ids(conn, status.id):
        return True
    if status.visibility == "private":
        followed = await follows_db.get_follow(conn, viewer.id, status.actor_id)
        return followed is not None and followed.state == "accepted"
    return False


async def _visible_status(conn: Connection, actor: Actor, status_id: int) -> tuple[Status, Actor]:
    status = await statuses_db.get_status_by_id(conn, status_id)
    if status is None or not await visible_to(conn, status, actor):
        raise NotFound("this status does not exist")
    author = await actors_db.get_actor_by_id(conn, status.actor_id)
    assert author is not None
    return status, author


async def favourite(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status, author = await _visible_status(conn, actor, status_id)
        if await interactions_db.get_favourite(conn, actor.id, status.id) is not None:
            return status
        uri = f"{actor.uri}#likes/{await next_id(conn)}"
        await interactions_db.insert_favourite(
            conn, uri=uri, actor_id=actor.id, status_id=status.id
        )
        if author.is_local:
            if author.id != actor.id:
                await interactions_db.insert_notification(
                    conn,
                    recipient_id=author.id,
                    notification_type="favourite",
                    from_actor_id=actor.id,
                    status_id=status.id,
                )
        else:
            await publish(
                conn,
                settings,
                actor,
                lambda activity_id: like_activity(activity_id, actor.uri, status.uri),
                object_uri=status.uri,
                inboxes=await audience_inboxes(conn, actor, "direct", [author]),
                uri=uri,
            )
    return status


async def unfavourite(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status, author = await _visible_status(conn, actor, status_id)
        uri = await interactions_db.delete_favourite(conn, actor.id, status.id)
        if uri is not None and not author.is_local:
            inner = {"id": uri, "type": "Like", "actor": actor.uri, "object": status.uri}
            await publish(
                conn,
                settings,
                actor,
                lambda activity_id: undo_activity(activity_id, actor.uri, inner),
                object_uri=uri,
                inboxes=await audience_inboxes(conn, actor, "direct", [author]),
            )
    return status


async def reblog(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status, author = await _visible_status(conn, actor, status_id)
        if status.reblog_of_id is not None:
            original = await statuses_db.get_status_by_id(conn, status.reblog_of_id)
            if original is None:
                raise NotFound("this status does not exist")
            status = original
            found = await actors_db.get_actor_by_id(conn, status.actor_id)
            assert found is not None
            author = found
        if status.visibility not in ("public", "unlisted"):
            raise PermissionDenied("only public and unlisted statuses can be boosted")
        existing = await statuses_db.get_reblog(conn, actor.id, status.id)
        if existing is not None:
            return existing
        boost_id = await next_id(conn)
        boost_uri = f"{status_uri(settings.url, actor.username, boost_id)}/activity"
        boost = await statuses_db.insert_status(
            conn,
            id=boost_id,
            uri=boost_uri,
            url=None,
            actor_id=actor.id,
            is_local=True,
            visibility="public",
            reblog_of_id=status.id,
        )
        await interactions_db.add_to_home_feeds(
            conn, boost.id, [actor.id, *await follows_db.list_local_follower_ids(conn, actor.id)]
        )
        if author.is_local and author.id != actor.id:
            await interactions_db.insert_notification(
                conn,
                recipient_id=author.id,
                notification_type="reblog",
                from_actor_id=actor.id,
                status_id=status.id,
            )
        to, cc = addressing_for("public", _followers(actor), [author.uri])
        published = boost.published or datetime.now(UTC)
        await publish(
            conn,
            settings,
            actor,
            lambda activity_id: announce_activity(
                activity_id, actor.uri, status.uri, published=published, to=to, cc=cc
            ),
            object_uri=status.uri,
            inboxes=await audience_inboxes(conn, actor, "public", [author]),
            uri=boost_uri,
        )
    return boost


async def unreblog(conn: Connection, settings: Settings, actor: Actor, status_id: int) -> Status:
    async with conn.transaction():
        status = await statuses_db.get_status_by_id(conn, status_id)
        if status is None:
            raise NotFound("this status does not exist")
        boost = await statuses_db.get_reblog(conn, actor.id, status.id)
        if boost is None:
            return status
        await statuses_db.mark_status_deleted(conn, boost.id)
        author = await actors_db.get_actor_by_id(conn, status.actor_id)
        assert author is not None
        inner = {"id": boost.uri, "type": "Announce", "actor": actor.uri, "object": status.uri}
        await publish(
            conn,
            settings,
            actor,
            lambda activity_id: undo_activity(activity_id, actor.uri, inner),
            object_uri=boost.uri,
            inboxes=await audience_inboxes(conn, actor, "public", [author]),
        )
    return status
