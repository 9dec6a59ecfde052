"""Posts as ActivityStreams objects: reading other servers' Notes (and the Questions,
Articles and Pages kept as one), and building fedinet's own.

Decisions, for the record:

- **Titles.** An Article or Page ``name`` is kept in ``title`` *and* put in front of the
  content as ``<p><strong>name</strong></p>`` (Mastodon turns headings into the same),
  because a status has one HTML body and no title column. Renderers show ``content``
  only. When such an object's ``url`` points to another server (a link post, as Lemmy
  and Friendica send), a link to it is added after the content.
- **Polls.** A Question's options are added after the content as lines of a paragraph
  (``○ option`` for one choice, ``☐ option`` for several) and kept in ``poll_options``.
- **Sensitive** is the object's ``sensitive`` flag or a non-empty ``summary``, as
  Mastodon's ``Status#set_sensitivity`` has it; the summary (content warning) is kept
  apart as plain text.
- **Published.** A missing or unreadable ``published`` becomes ``received_at`` (now by
  default), as Mastodon does; a date in the future is clamped to ``received_at``, so
  that a post cannot sort itself on top of every timeline.
- **Visibility** follows Mastodon: ``public`` when ``as:Public`` (or ``Public`` or
  ``as:Public``) is in ``to``, ``unlisted`` when it is in ``cc``, ``private`` when the
  author's followers collection is in ``to`` or ``cc``, else ``direct``.
- **url** is the object's HTML link only when it is on the object's server (a link
  elsewhere is not trusted as "the original"); otherwise ``None``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final
from urllib.parse import quote

from fedinet.ap.activities import as_list, object_id
from fedinet.ap.actors import format_datetime, url_domain
from fedinet.ap.context import ACTIVITYSTREAMS, PUBLIC, TOOT_NS
from fedinet.ap.ids import local_actor_ids
from fedinet.ap.sanitize import html_to_text, normalize_hashtag, sanitize_html
from fedinet.errors import BadActivity
from fedinet.models import Actor, Status

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_CONTENT_CHARS",
    "MAX_TAGS",
    "NOTE_CONTEXT",
    "NOTE_TYPES",
    "PUBLIC_ALIASES",
    "VISIBILITIES",
    "ParsedNote",
    "addressing_for",
    "ap_to_note",
    "attachment_kind",
    "is_public",
    "note_to_ap",
]

NOTE_TYPES: Final = ("Note", "Question", "Article", "Page")
VISIBILITIES: Final = ("public", "unlisted", "private", "direct")
PUBLIC_ALIASES: Final = frozenset({PUBLIC, "Public", "as:Public"})
"""The spellings of the public collection seen in the wild (compacted JSON-LD)."""

MAX_CONTENT_CHARS: Final = 500_000
"""A post whose ``content`` is longer is refused rather than stored."""
MAX_ATTACHMENTS: Final = 16
MAX_TAGS: Final = 200
"""Entries of ``tag`` (mentions and hashtags together) read; the rest are ignored."""

NOTE_CONTEXT: Final[list[Any]] = [
    ACTIVITYSTREAMS,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": TOOT_NS,
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]
"""The ``@context`` of the Notes fedinet emits: the ActivityStreams terms plus the
extension terms a Note uses, as Mastodon scopes its context to the document."""

_LANGUAGE: Final = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_MAX_BLURHASH: Final = 100


# --------------------------------------------------------------------------- helpers


def is_public(uri: str) -> bool:
    """Whether ``uri`` names the public collection, in any of its spellings."""
    return uri in PUBLIC_ALIASES


def _http_url(value: Any) -> str | None:
    return value if isinstance(value, str) and url_domain(value) is not None else None


def _audience(value: Any) -> tuple[str, ...]:
    """Ids of an audience property, the public collection normalized to :data:`PUBLIC`."""
    found: dict[str, None] = {}
    for item in as_list(value):
        uri = object_id(item)
        if uri is not None:
            found.setdefault(PUBLIC if is_public(uri) else uri, None)
    return tuple(found)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _first_of_map(value: Any) -> tuple[str | None, str | None]:
    """(language, text) of the first entry of a ``…Map`` property with a string value."""
    if isinstance(value, dict):
        for key, text in value.items():
            if isinstance(text, str):
                return (key if isinstance(key, str) else None), text
    return None, None


def _text_or_map(obj: dict[str, Any], name: str) -> str:
    text = obj.get(name)
    if isinstance(text, str) and text:
        return text
    _, mapped = _first_of_map(obj.get(f"{name}Map"))
    return mapped or ""


def _language(obj: dict[str, Any]) -> str | None:
    for name in ("contentMap", "nameMap", "summaryMap"):
        language, _ = _first_of_map(obj.get(name))
        if language is not None:
            if language.lower() != "und" and _LANGUAGE.match(language):
                return language
            return None
    return None


def _types(value: Any) -> list[str]:
    return [t for t in as_list(value) if isinstance(t, str)]


def _html_href(value: Any) -> list[str]:
    """http(s) hrefs of a ``url`` property (strings or Link objects), ``text/html``
    links first."""
    html_links: list[str] = []
    other: list[str] = []
    for item in as_list(value):
        media_type: Any = None
        if isinstance(item, dict):
            media_type = item.get("mediaType")
            item = item.get("href", item.get("url"))
        href = _http_url(item)
        if href is None:
            continue
        is_html = isinstance(media_type, str) and media_type.split(";")[0].strip() == "text/html"
        (html_links if is_html else other).append(href)
    return html_links + other


def _dimension(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = int(value)
    return number if 0 < number < 1_000_000 else None


def _attachment(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    kind = next(iter(_types(item.get("type"))), "Document")
    media_type = item.get("mediaType")
    url = next(iter(_html_href(item.get("url")) or _html_href(item.get("href"))), None)
    if url is None:
        return None
    description = item.get("name")
    if not isinstance(description, str) or not description:
        description = item.get("summary")
    blurhash = item.get("blurhash")
    return {
        "type": kind,
        "media_type": media_type if isinstance(media_type, str) else None,
        "url": url,
        "description": description if isinstance(description, str) and description else None,
        "width": _dimension(item.get("width")),
        "height": _dimension(item.get("height")),
        "blurhash": (
            blurhash if isinstance(blurhash, str) and len(blurhash) <= _MAX_BLURHASH else None
        ),
    }


_KINDS: Final = ("image", "video", "audio")


def attachment_kind(item: Mapping[str, Any]) -> str | None:
    """``image``, ``video`` or ``audio`` for an attachment as stored (see
    :func:`_attachment`): the first part of its media type, else its ActivityStreams
    type (``Image``, ``Video``, ``Audio``); None for anything else."""
    kind = str(item.get("media_type") or "").split("/")[0]
    if kind in _KINDS:
        return kind
    declared = str(item.get("type") or "").lower()
    return declared if declared in _KINDS else None


def _poll_options(obj: dict[str, Any]) -> tuple[list[str], bool]:
    multiple = obj.get("anyOf") is not None and obj.get("oneOf") is None
    options = []
    for item in as_list(obj.get("anyOf") if multiple else obj.get("oneOf")):
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, str) and name.strip():
                options.append(name.strip())
    return options, multiple


def _attributed_to(value: Any) -> list[str]:
    return [uri for item in as_list(value) if (uri := object_id(item)) is not None]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ParsedNote:
    """A post read from another server; fields are named like :class:`Status`'s columns
    where there is one."""

    uri: str
    url: str | None
    attributed_to: str
    object_type: str
    """``Note``, ``Question``, ``Article`` or ``Page``."""
    content: str
    """Sanitized HTML, title and poll options included (see the module docstring)."""
    summary: str
    """The content warning as plain text; empty for none."""
    sensitive: bool
    language: str | None
    in_reply_to: str | None
    published: datetime
    updated: datetime | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    visibility: str
    mentions: tuple[str, ...]
    """Actor URIs of the ``Mention`` tags."""
    hashtags: tuple[str, ...]
    """Normalized names (see :func:`~fedinet.ap.sanitize.normalize_hashtag`)."""
    attachments: tuple[dict[str, Any], ...]
    """Each ``{type, media_type, url, description, width, height, blurhash}``."""
    raw: dict[str, Any]
    title: str | None = None
    """An Article's or Page's ``name`` (also in front of ``content``)."""
    poll_options: tuple[str, ...] = ()


def _visibility(to: tuple[str, ...], cc: tuple[str, ...], followers_uri: str | None) -> str:
    if PUBLIC in to:
        return "public"
    if PUBLIC in cc:
        return "unlisted"
    if followers_uri is not None and (followers_uri in to or followers_uri in cc):
        return "private"
    return "direct"


def _tags(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    mentions: dict[str, None] = {}
    hashtags: dict[str, None] = {}
    for item in as_list(value)[:MAX_TAGS]:
        if not isinstance(item, dict):
            continue
        types = _types(item.get("type"))
        if "Mention" in types:
            href = _http_url(item.get("href"))
            if href is not None:
                mentions.setdefault(href, None)
        elif "Hashtag" in types:
            name = item.get("name")
            normalized = normalize_hashtag(name) if isinstance(name, str) else ""
            if normalized:
                hashtags.setdefault(normalized, None)
    return tuple(mentions), tuple(hashtags)


def ap_to_note(
    obj: Any,
    *,
    actor_uri: str,
    followers_uri: str | None,
    received_at: datetime | None = None,
    activity: dict[str, Any] | None = None,
) -> ParsedNote:
    """Read a post authored by ``actor_uri`` (whose followers collection is
    ``followers_uri``, for telling followers-only posts apart).

    ``activity`` is the enclosing Create or Update, whose ``to``/``cc`` are used when the
    object has none. ``received_at`` (default: now) stands in for a missing ``published``.

    Raises :class:`BadActivity` when ``obj`` is not an object, has no http(s) ``id``, an
    ``id`` on another server than ``actor_uri``, a type other than Note, Question,
    Article or Page, an ``attributedTo`` that does not name ``actor_uri``, or content
    longer than :data:`MAX_CONTENT_CHARS`.
    """
    if not isinstance(obj, dict):
        raise BadActivity("a post must be a JSON object")
    uri = obj.get("id")
    if not isinstance(uri, str) or not uri:
        raise BadActivity("the post has no id")
    domain = url_domain(uri)
    if domain is None:
        raise BadActivity(f"the post id {uri!r} is not an absolute http(s) URL")
    actor_domain = url_domain(actor_uri)
    if domain != actor_domain:
        raise BadActivity(
            f"the post {uri} is not on {actor_domain}, the server of its actor {actor_uri}",
            reason="id_host_mismatch",
        )
    types = _types(obj.get("type"))
    object_type = next((t for t in NOTE_TYPES if t in types), None)
    if object_type is None:
        shown = ", ".join(types) if types else "none"
        raise BadActivity(
            f"the object {uri} is not a post: type is {shown}, "
            f"expected one of {', '.join(NOTE_TYPES)}",
            reason="unsupported_object",
        )
    authors = _attributed_to(obj.get("attributedTo"))
    if actor_uri not in authors:
        shown = ", ".join(authors) if authors else "nobody"
        raise BadActivity(
            f"the post {uri} is attributed to {shown}, not to {actor_uri}",
            reason="attribution_mismatch",
        )

    raw_content = _text_or_map(obj, "content")
    if len(raw_content) > MAX_CONTENT_CHARS:
        raise BadActivity(
            f"the post {uri} has {len(raw_content)} characters of content, "
            f"more than the {MAX_CONTENT_CHARS} accepted",
            reason="too_large",
        )
    parts: list[str] = []
    title: str | None = None
    if object_type in ("Article", "Page"):
        title = html_to_text(_text_or_map(obj, "name")) or None
        if title is not None:
            parts.append(f"<p><strong>{html.escape(title)}</strong></p>")
    parts.append(raw_content)
    options: list[str] = []
    if object_type == "Question":
        options, multiple = _poll_options(obj)
        if options:
            mark = "☐" if multiple else "○"
            lines = "<br>".join(f"{mark} {html.escape(option)}" for option in options)
            parts.append(f"<p>{lines}</p>")

    hrefs = _html_href(obj.get("url"))
    url = next((h for h in hrefs if url_domain(h) == domain), None)
    if object_type in ("Article", "Page"):
        external = next((h for h in hrefs if url_domain(h) != domain), None)
        if external is not None and external not in raw_content:
            escaped = html.escape(external)
            parts.append(f'<p><a href="{escaped}">{escaped}</a></p>')
    content = sanitize_html("".join(parts))

    summary = html_to_text(_text_or_map(obj, "summary"))
    now = received_at or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    published = _datetime(obj.get("published")) or now
    if published > now:
        published = now

    to = _audience(obj["to"] if "to" in obj else (activity or {}).get("to"))
    cc = _audience(obj["cc"] if "cc" in obj else (activity or {}).get("cc"))
    mentions, hashtags = _tags(obj.get("tag"))
    attachments = tuple(
        islice(
            (a for item in as_list(obj.get("attachment")) if (a := _attachment(item))),
            MAX_ATTACHMENTS,
        )
    )
    in_reply_to = next(
        (r for item in as_list(obj.get("inReplyTo")) if (r := _http_url(object_id(item)))), None
    )

    return ParsedNote(
        uri=uri,
        url=url,
        attributed_to=actor_uri,
        object_type=object_type,
        content=content,
        summary=summary,
        sensitive=obj.get("sensitive") is True or bool(summary),
        language=_language(obj),
        in_reply_to=in_reply_to,
        published=published,
        updated=_datetime(obj.get("updated")),
        to=to,
        cc=cc,
        visibility=_visibility(to, cc, followers_uri),
        mentions=mentions,
        hashtags=hashtags,
        attachments=attachments,
        raw=obj,
        title=title,
        poll_options=tuple(options),
    )


# --------------------------------------------------------------------------- emitting


def addressing_for(
    visibility: str, followers_uri: str, mention_uris: list[str]
) -> tuple[list[str], list[str]]:
    """``(to, cc)`` of a post (or of an activity about one) of the given visibility, as
    Mastodon addresses them:

    ========  ===========================  ============================
    public    Public                       followers, mentioned actors
    unlisted  followers                    Public, mentioned actors
    private   followers                    mentioned actors
    direct    mentioned actors             (nobody)
    ========  ===========================  ============================

    Mentioned actors are listed once each, in order. Raises :class:`ValueError` for an
    unknown visibility.
    """
    mentioned = [
        uri for uri in dict.fromkeys(mention_uris) if uri != followers_uri and not is_public(uri)
    ]
    if visibility == "public":
        return [PUBLIC], [followers_uri, *mentioned]
    if visibility == "unlisted":
        return [followers_uri], [PUBLIC, *mentioned]
    if visibility == "private":
        return [followers_uri], mentioned
    if visibility == "direct":
        return mentioned, []
    raise ValueError(f"unknown visibility {visibility!r}; expected one of {VISIBILITIES}")


def _attachment_to_ap(attachment: dict[str, Any]) -> dict[str, Any] | None:
    url = attachment.get("url")
    if not isinstance(url, str) or not url:
        return None
    doc: dict[str, Any] = {"type": "Document"}
    if attachment.get("media_type"):
        doc["mediaType"] = attachment["media_type"]
    doc["url"] = url
    doc["name"] = attachment.get("description") or None
    if attachment.get("blurhash"):
        doc["blurhash"] = attachment["blurhash"]
    for key in ("width", "height"):
        if isinstance(attachment.get(key), int):
            doc[key] = attachment[key]
    focus = attachment.get("focus")
    if (
        isinstance(focus, list)
        and len(focus) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in focus)
    ):
        doc["focalPoint"] = [float(focus[0]), float(focus[1])]
    return doc


def note_to_ap(
    status: Status,
    author: Actor,
    *,
    mentions: list[Actor],
    tags: list[str],
    in_reply_to_uri: str | None,
    base_url: str,
) -> dict[str, Any]:
    """The Note of a local status, shaped as Mastodon's ``NoteSerializer`` shapes it
    (without ``replies``), with its own ``@context`` (:data:`NOTE_CONTEXT`).

    ``mentions`` are the mentioned actors (addressed, and tagged as ``Mention``),
    ``tags`` the normalized hashtag names (tagged as ``Hashtag`` linking to
    ``{base_url}/tags/{name}``). Raises :class:`ValueError` for a boost, an unknown
    visibility or a status without a publication date.
    """
    if status.reblog_of_id is not None:
        raise ValueError(f"status {status.id} is a boost: it is an Announce, not a Note")
    published = status.published or status.created_at
    if published is None:
        raise ValueError(f"status {status.id} has no publication date")
    ids = local_actor_ids(base_url, author.username)
    followers = author.followers_uri or ids.followers
    to, cc = addressing_for(status.visibility, followers, [m.uri for m in mentions])
    unique = {m.uri: m for m in mentions}
    tag_list: list[dict[str, Any]] = [
        {"type": "Mention", "href": m.uri, "name": f"@{m.acct}"} for m in unique.values()
    ]
    tag_list += [
        {"type": "Hashtag", "href": f"{base_url}/tags/{quote(name, safe='')}", "name": f"#{name}"}
        for name in dict.fromkeys(tags)
    ]
    attachments = [a for item in status.attachments if (a := _attachment_to_ap(item))]
    note: dict[str, Any] = {
        "@context": [NOTE_CONTEXT[0], dict(NOTE_CONTEXT[1])],
        "id": status.uri,
        "type": status.object_type if status.object_type in ("Note", "Article", "Page") else "Note",
        "summary": status.summary or None,
        "inReplyTo": in_reply_to_uri,
        "published": format_datetime(published),
        "url": status.url or f"{ids.url}/{status.id}",
        "attributedTo": author.uri,
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "content": status.content,
    }
    if status.language:
        note["contentMap"] = {status.language: status.content}
    if status.edited_at is not None:
        note["updated"] = format_datetime(status.edited_at)
    note["attachment"] = attachments
    note["tag"] = tag_list
    return note
