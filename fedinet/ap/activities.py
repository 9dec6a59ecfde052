"""The activities fedinet's members send, built as Mastodon builds them, and two small
helpers for reading anybody's.

Every builder is a pure function of explicit values: the caller mints the activity id
(``activity_id``) and decides the audience. Activities that wrap a whole document
(Create, Update, Accept, Reject, Undo) embed it without its ``@context`` and take that
context for themselves, so the terms the object uses stay defined; the others carry the
plain ActivityStreams context, as Mastodon's do.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fedinet.ap.actors import format_datetime
from fedinet.ap.context import ACTIVITYSTREAMS, PUBLIC

__all__ = [
    "accept_activity",
    "announce_activity",
    "as_list",
    "block_activity",
    "create_activity",
    "delete_activity",
    "delete_actor_activity",
    "featured_activity",
    "follow_activity",
    "like_activity",
    "object_id",
    "reject_activity",
    "undo_activity",
    "update_activity",
    "update_actor_activity",
]


# --------------------------------------------------------------------------- reading


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: ``None`` is empty, a list is itself, anything else is one item."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def object_id(value: Any) -> str | None:
    """The id of a property that is an id string or an object with an ``id``; ``None``
    for anything else (an empty string, a list, an object without a string id)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


# --------------------------------------------------------------------------- helpers


def _embedded(doc: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(context, document without ``@context``) of a document to embed."""
    body = copy.deepcopy(doc)
    context = body.pop("@context", ACTIVITYSTREAMS)
    return context, body


def _require_id(doc: dict[str, Any], what: str) -> str:
    found = object_id(doc)
    if found is None:
        raise ValueError(f"the {what} to embed has no id")
    return found


def _copy_audience(activity: dict[str, Any], source: dict[str, Any]) -> None:
    for key in ("to", "cc"):
        if key in source:
            activity[key] = list(as_list(source[key]))


# --------------------------------------------------------------------------- posts


def create_activity(activity_id: str, actor_uri: str, note: dict[str, Any]) -> dict[str, Any]:
    """``Create`` of ``note`` (as built by :func:`~fedinet.ap.notes.note_to_ap`): its
    ``published``, ``to`` and ``cc`` are copied onto the activity."""
    _require_id(note, "object")
    context, body = _embedded(note)
    activity: dict[str, Any] = {
        "@context": context,
        "id": activity_id,
        "type": "Create",
        "actor": actor_uri,
    }
    if "published" in body:
        activity["published"] = body["published"]
    _copy_audience(activity, body)
    activity["object"] = body
    return activity


def update_activity(activity_id: str, actor_uri: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``Update`` of an edited object (a Note): the whole new version is embedded, its
    ``updated`` becomes the activity's ``published`` and its ``to``/``cc`` are copied."""
    _require_id(obj, "object")
    context, body = _embedded(obj)
    activity: dict[str, Any] = {
        "@context": context,
        "id": activity_id,
        "type": "Update",
        "actor": actor_uri,
    }
    if "updated" in body:
        activity["published"] = body["updated"]
    _copy_audience(activity, body)
    activity["object"] = body
    return activity


def delete_activity(
    activity_id: str,
    actor_uri: str,
    object_uri: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
) -> dict[str, Any]:
    """``Delete`` of a post, the object given as a ``Tombstone``; addressed to the same
    audience as the post was."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Delete",
        "actor": actor_uri,
        "to": list(to),
        "cc": list(cc),
        "object": {"id": object_uri, "type": "Tombstone"},
    }


def like_activity(activity_id: str, actor_uri: str, object_uri: str) -> dict[str, Any]:
    """``Like`` (a favourite) of the post ``object_uri``."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Like",
        "actor": actor_uri,
        "object": object_uri,
    }


def announce_activity(
    activity_id: str,
    actor_uri: str,
    object_uri: str,
    *,
    published: datetime,
    to: Sequence[str],
    cc: Sequence[str],
) -> dict[str, Any]:
    """``Announce`` (a boost) of the post ``object_uri``, referenced by id."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Announce",
        "actor": actor_uri,
        "published": format_datetime(published),
        "to": list(to),
        "cc": list(cc),
        "object": object_uri,
    }


# --------------------------------------------------------------------------- relationships


def follow_activity(activity_id: str, actor_uri: str, object_uri: str) -> dict[str, Any]:
    """``Follow`` of the actor ``object_uri``."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Follow",
        "actor": actor_uri,
        "object": object_uri,
    }


def _answer_follow(
    kind: str, activity_id: str, actor_uri: str, follow: dict[str, Any]
) -> dict[str, Any]:
    _require_id(follow, "Follow")
    if follow.get("type") != "Follow":
        raise ValueError(f"{kind} must embed a Follow, not {follow.get('type')!r}")
    if object_id(follow.get("object")) != actor_uri:
        raise ValueError(f"{actor_uri} can only {kind.lower()} a Follow of itself")
    context, body = _embedded(follow)
    return {
        "@context": context,
        "id": activity_id,
        "type": kind,
        "actor": actor_uri,
        "object": body,
    }


def accept_activity(activity_id: str, actor_uri: str, follow: dict[str, Any]) -> dict[str, Any]:
    """``Accept`` of ``follow`` (the Follow activity, embedded whole). Raises
    :class:`ValueError` unless it is a Follow of ``actor_uri``."""
    return _answer_follow("Accept", activity_id, actor_uri, follow)


def reject_activity(
    activity_id: str, actor_uri: str, follow: dict[str, Any], *, content: str | None = None
) -> dict[str, Any]:
    """``Reject`` of ``follow`` (embedded whole), with an optional plain-text reason in
    ``content``. Raises :class:`ValueError` unless it is a Follow of ``actor_uri``."""
    activity = _answer_follow("Reject", activity_id, actor_uri, follow)
    if content:
        activity["content"] = content
    return activity


def block_activity(activity_id: str, actor_uri: str, object_uri: str) -> dict[str, Any]:
    """``Block`` of the actor ``object_uri`` (sent to that actor only, as Mastodon does)."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Block",
        "actor": actor_uri,
        "object": object_uri,
    }


def featured_activity(
    kind: str, activity_id: str, actor_uri: str, object_uri: str, featured_uri: str
) -> dict[str, Any]:
    """``Add`` (pin) or ``Remove`` (unpin) of the post ``object_uri`` to or from the
    actor's ``featured`` collection, addressed to the public as Mastodon addresses it."""
    if kind not in ("Add", "Remove"):
        raise ValueError(f"not a collection activity: {kind}")
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": kind,
        "actor": actor_uri,
        "object": object_uri,
        "target": featured_uri,
        "to": [PUBLIC],
    }


def undo_activity(activity_id: str, actor_uri: str, inner: dict[str, Any]) -> dict[str, Any]:
    """``Undo`` of ``inner`` (a Follow, Like, Announce or Block by ``actor_uri``,
    embedded whole); ``inner``'s ``to``/``cc`` are copied so it reaches the same
    audience. Raises :class:`ValueError` when ``inner`` is someone else's."""
    _require_id(inner, "activity")
    if object_id(inner.get("actor")) != actor_uri:
        raise ValueError(f"{actor_uri} can only undo its own activities")
    context, body = _embedded(inner)
    activity: dict[str, Any] = {
        "@context": context,
        "id": activity_id,
        "type": "Undo",
        "actor": actor_uri,
    }
    _copy_audience(activity, body)
    activity["object"] = body
    return activity


# --------------------------------------------------------------------------- actors


def update_actor_activity(
    activity_id: str, actor_uri: str, actor_doc: dict[str, Any]
) -> dict[str, Any]:
    """``Update`` of the actor's own document (a profile change), addressed to Public.
    Raises :class:`ValueError` when ``actor_doc`` is not ``actor_uri``'s."""
    if object_id(actor_doc) != actor_uri:
        raise ValueError(f"{actor_uri} can only update its own actor document")
    context, body = _embedded(actor_doc)
    return {
        "@context": context,
        "id": activity_id,
        "type": "Update",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": body,
    }


def delete_actor_activity(activity_id: str, actor_uri: str) -> dict[str, Any]:
    """``Delete`` of the actor itself (the account is gone), addressed to Public."""
    return {
        "@context": ACTIVITYSTREAMS,
        "id": activity_id,
        "type": "Delete",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": actor_uri,
    }
