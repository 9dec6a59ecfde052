"""Mastodon entities (the shapes of the Mastodon OpenAPI description) from fedinet's rows.

Pure converters: ``account_to_mastodon``, ``credential_account_to_mastodon``,
``status_to_mastodon``, ``application_to_mastodon``. The ``load_*`` helpers fetch what the
converters need for a whole page in a fixed number of queries.

Ids are strings of the table ids; times are ISO 8601 in UTC with milliseconds
(``2019-12-08T03:48:33.901Z``) as Mastodon renders them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from fedinet.ap.notes import attachment_kind
from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db.counts import AccountCounts, PageFacts, StatusCounts, ViewerFlags
from fedinet.db.oauth import OAuthApp
from fedinet.db.types import Executor
from fedinet.models import Actor, Status, User
from fedinet.vocabulary import MOTIVE_KEYS

__all__ = [
    "DEFAULT_AVATAR_PATH",
    "DEFAULT_HEADER_PATH",
    "account_to_mastodon",
    "application_to_mastodon",
    "credential_account_to_mastodon",
    "iso_time",
    "load_account",
    "load_accounts",
    "load_statuses",
    "media_attachment_to_mastodon",
    "status_to_mastodon",
]

DEFAULT_AVATAR_PATH: Final = "/avatars/original/missing.png"
DEFAULT_HEADER_PATH: Final = "/headers/original/missing.png"
_BOT_TYPES: Final = ("Application", "Service")
_TAG_RE: Final = re.compile(r"<[^>]*>")
_BR_RE: Final = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
# Mastodon's "everyone" role, which every member without another role has.
_EVERYONE_ROLE: Final = {
    "id": "-99",
    "name": "",
    "permissions": "65536",
    "color": "",
    "highlighted": False,
}
_ADMIN_ROLE: Final = {
    "id": "3",
    "name": "Owner",
    "permissions": "1",
    "color": "",
    "highlighted": True,
}


def iso_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat is C, strftime is not: this runs several times per status shown
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def _midnight(moment: datetime | None) -> str:
    """Mastodon shows an account's creation day only (midnight UTC)."""
    day = (moment or datetime.now(UTC)).astimezone(UTC)
    return iso_time(day.replace(hour=0, minute=0, second=0, microsecond=0)) or ""


def _html_to_text(value: str) -> str:
    return html.unescape(_TAG_RE.sub("", _BR_RE.sub("\n", value))).strip()


def _acct(actor: Actor) -> str:
    return actor.username if actor.is_local else f"{actor.username}@{actor.domain}"


def _field(item: Mapping[str, Any]) -> dict[str, Any]:
    verified = item.get("verified_at")
    return {
        "name": str(item.get("name", "")),
        "value": str(item.get("value", "")),
        "verified_at": verified if isinstance(verified, str) else None,
    }


def _image(url: str | None, settings: Settings, default_path: str) -> str:
    return url or f"{settings.url}{default_path}"


def account_to_mastodon(actor: Actor, settings: Settings, counts: AccountCounts) -> dict[str, Any]:
    """The Account entity. Suspended or deleted accounts show no profile, as Mastodon's."""
    gone = actor.is_gone
    avatar = _image(None if gone else actor.avatar_url, settings, DEFAULT_AVATAR_PATH)
    header = _image(None if gone else actor.header_url, settings, DEFAULT_HEADER_PATH)
    account: dict[str, Any] = {
        "id": str(actor.id),
        "username": actor.username,
        "acct": _acct(actor),
        "display_name": "" if gone else actor.display_name,
        "locked": False if gone else actor.manually_approves_followers,
        "bot": False if gone else actor.actor_type in _BOT_TYPES,
        "discoverable": False if gone else actor.discoverable,
        "indexable": False if gone else actor.indexable,
        "group": actor.actor_type == "Group",
        "created_at": _midnight(actor.published or actor.created_at),
        "note": "" if gone else actor.summary,
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.statuses,
        "last_status_at": (
            None if counts.last_status_at is None else counts.last_status_at.isoformat()
        ),
        "hide_collections": actor.hide_collections,
        "noindex": not actor.indexable if actor.is_local else None,
        "emojis": [],
        "roles": [],
        "fields": [] if gone else [_field(f) for f in actor.fields if isinstance(f, Mapping)],
        # fedinet's extension: why the member is here (public motives only), interests and
        # region; never a job or a profession.
        "motives": [] if gone else list(actor.motives),
        "interests": [] if gone else list(actor.interests),
        "region": None if gone else actor.region,
    }
    if gone:
        account["suspended"] = True
    return account


def credential_account_to_mastodon(
    actor: Actor,
    user: User,
    settings: Settings,
    counts: AccountCounts,
    *,
    follow_requests_count: int,
) -> dict[str, Any]:
    """The CredentialAccount entity: the Account plus ``source`` and ``role``."""
    account = account_to_mastodon(actor, settings, counts)
    account["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": user.locale or "",
        "note": _html_to_text(actor.summary),
        "fields": [_field(f) for f in actor.fields if isinstance(f, Mapping)],
        "follow_requests_count": follow_requests_count,
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "hide_collections": actor.hide_collections,
        "attribution_domains": [],
        "private_motives": list(user.private_motives),
        "follow_note_policy": user.follow_note_policy,
    }
    # The member sees all their motives; others see only the public ones.
    account["motives"] = [
        key for key in MOTIVE_KEYS if key in actor.motives or key in user.private_motives
    ]
    account["role"] = dict(_ADMIN_ROLE if user.is_admin else _EVERYONE_ROLE)
    return account


def application_to_mastodon(
    app: OAuthApp, *, client_secret: str | None = None, with_client_id: bool = False
) -> dict[str, Any]:
    """The Application entity; with ``client_secret`` the CredentialApplication one (only
    ``POST /api/v1/apps`` can, since only the digest is stored)."""
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        # Deprecated and required: fedinet has no Web Push yet, so no VAPID key.
        "vapid_key": "",
    }
    if with_client_id or client_secret is not None:
        entity["client_id"] = app.client_id
    if client_secret is not None:
        entity["client_secret"] = client_secret
        entity["client_secret_expires_at"] = 0
    return entity


def media_attachment_to_mastodon(item: Mapping[str, Any], attachment_id: str) -> dict[str, Any]:
    """A MediaAttachment from one of ``statuses.attachments`` (as ``ap.notes`` stores them:
    type, media_type, url, description, width, height, blurhash)."""
    kind = attachment_kind(item) or "unknown"
    url = item.get("url")
    width, height = item.get("width"), item.get("height")
    meta: dict[str, Any] = {}
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        size = {
            "width": width,
            "height": height,
            "size": f"{width}x{height}",
            "aspect": width / height,
        }
        meta = {"original": size, "small": size}
    focus = item.get("focus")
    if isinstance(focus, list) and len(focus) == 2:
        meta["focus"] = {"x": focus[0], "y": focus[1]}
    # Uploads to this server carry their media id; attachments of remote posts do not,
    # and their url is the remote one.
    uploaded = item.get("id") is not None
    return {
        "id": str(item.get("id") or attachment_id),
        "type": kind,
        "url": url,
        "preview_url": url if kind == "image" else None,
        "remote_url": None if uploaded else url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": item.get("description"),
        "blurhash": item.get("blurhash"),
    }


def _mention(actor: Actor) -> dict[str, Any]:
    return {
        "id": str(actor.id),
        "username": actor.username,
        "url": actor.url or actor.uri,
        "acct": _acct(actor),
    }


def status_to_mastodon(
    status: Status,
    account: dict[str, Any],
    settings: Settings,
    *,
    counts: StatusCounts,
    mentions: Sequence[Actor] = (),
    tags: Sequence[str] = (),
    viewer: ViewerFlags | None = None,
    viewer_id: int | None = None,
    reblog: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Status entity. ``account`` is the author's Account entity; ``reblog`` the
    boosted status's entity when ``status`` is a boost; ``viewer`` the viewing member's
    flags (absent for anonymous requests, as Mastodon leaves them out) and ``viewer_id``
    their actor id (``pinned`` is shown on their own statuses only)."""
    entity: dict[str, Any] = {
        "id": str(status.id),
        "uri": status.uri,
        "url": status.url or (None if status.reblog_of_id else status.uri),
        "created_at": iso_time(status.published or status.created_at),
        "account": account,
        "content": "" if status.reblog_of_id else status.content,
        "visibility": status.visibility,
        "sensitive": status.sensitive,
        "spoiler_text": status.summary,
        "media_attachments": [
            media_attachment_to_mastodon(item, f"{status.id}{index:02d}")
            for index, item in enumerate(status.attachments)
            if isinstance(item, Mapping)
        ],
        "application": None,
        "mentions": [_mention(actor) for actor in mentions],
        "tags": [
            {"name": tag, "url": f"{settings.url}/tags/{quote(tag, safe='')}"} for tag in tags
        ],
        "emojis": [],
        "reblogs_count": counts.reblogs,
        "favourites_count": counts.favourites,
        "replies_count": counts.replies,
        "in_reply_to_id": None if status.in_reply_to_id is None else str(status.in_reply_to_id),
        "in_reply_to_account_id": (
            None if status.in_reply_to_actor_id is None else str(status.in_reply_to_actor_id)
        ),
        "reblog": reblog,
        "poll": None,
        "card": None,
        "language": status.language,
        "text": None,
        "edited_at": iso_time(status.edited_at),
    }
    if viewer is not None:
        entity["favourited"] = viewer.favourited
        entity["reblogged"] = viewer.reblogged
        entity["muted"] = False
        entity["bookmarked"] = viewer.bookmarked
        if viewer_id is not None and status.actor_id == viewer_id:
            entity["pinned"] = viewer.pinned
        entity["filtered"] = []
    return entity


# --------------------------------------------------------------------------- loading


async def load_accounts(
    db: Executor, settings: Settings, actors: Sequence[Actor]
) -> dict[int, dict[str, Any]]:
    """Account entities by actor id, with their counts (two queries whatever the number)."""
    ids = list(dict.fromkeys(actor.id for actor in actors))
    stats = await counts_db.count_account_stats(db, ids)
    return {
        actor.id: account_to_mastodon(actor, settings, stats.get(actor.id, AccountCounts()))
        for actor in actors
    }


async def load_account(db: Executor, settings: Settings, actor: Actor) -> dict[str, Any]:
    return (await load_accounts(db, settings, [actor]))[actor.id]


async def load_statuses(
    db: Executor,
    settings: Settings,
    statuses: Sequence[Status],
    *,
    authors: Mapping[int, Actor],
    boosted: Mapping[int, Status] | None = None,
    viewer: Actor | None = None,
    author_counts: Mapping[int, AccountCounts] | None = None,
    facts: PageFacts | None = None,
) -> list[dict[str, Any]]:
    """Status entities for ``statuses`` in order. ``authors`` maps actor ids to the authors
    of every status (the boosted ones included), and may hold the mentioned actors too;
    ``boosted`` maps ``reblog_of_id`` to the boosted status; ``viewer`` adds the viewer's
    favourited/reblogged flags. ``author_counts`` (the authors' counts, from
    ``counts.get_authors_to_show``) and ``facts`` (``counts.status_page_facts`` of the
    statuses and the boosted ones) are what the caller loaded already, saving queries."""
    boosted = boosted or {}
    originals = {
        s.id: boosted[s.reblog_of_id]
        for s in statuses
        if s.reblog_of_id is not None and s.reblog_of_id in boosted
    }
    everything = [*statuses, *originals.values()]
    if facts is None:
        ids = list(dict.fromkeys(s.id for s in everything))
        facts = await counts_db.status_page_facts(db, ids, None if viewer is None else viewer.id)
    stats, flags, tags = facts.counts, facts.flags, facts.tags
    people = dict(authors)
    missing = {i for found in facts.mentioned_ids.values() for i in found if i not in people}
    if missing:
        people.update(await actors_db.get_actors_to_show(db, sorted(missing)))
    mentions = {
        status_id: [people[i] for i in found if i in people]
        for status_id, found in facts.mentioned_ids.items()
    }
    shown = [people[i] for i in dict.fromkeys(s.actor_id for s in everything) if i in people]
    if author_counts is None:
        accounts = await load_accounts(db, settings, shown)
    else:
        accounts = {
            actor.id: account_to_mastodon(
                actor, settings, author_counts.get(actor.id, AccountCounts())
            )
            for actor in shown
        }

    def one(status: Status, reblog: dict[str, Any] | None) -> dict[str, Any]:
        return status_to_mastodon(
            status,
            accounts[status.actor_id],
            settings,
            counts=stats.get(status.id, StatusCounts()),
            mentions=mentions.get(status.id, []),
            tags=tags.get(status.id, []),
            viewer=None if viewer is None else flags.get(status.id, ViewerFlags()),
            viewer_id=None if viewer is None else viewer.id,
            reblog=reblog,
        )

    rendered = []
    for status in statuses:
        original = originals.get(status.id)
        rendered.append(one(status, None if original is None else one(original, None)))
    return rendered
