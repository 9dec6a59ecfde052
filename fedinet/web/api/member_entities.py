"""Mastodon entities for what members keep: notifications, markers, lists, filters (v2
and the v1 view), conversations, status edits and sources, preferences.

Pure converters, like ``entities.py``; ids are strings, times ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fedinet.ap.sanitize import html_to_text
from fedinet.db.filters import Filter, FilterKeyword, FilterStatus
from fedinet.db.lists import AccountList
from fedinet.db.markers import Marker
from fedinet.db.threads import StatusEdit
from fedinet.models import Notification, Status, User
from fedinet.services.filters import FilterMatch
from fedinet.web.api.entities import iso_time, media_attachment_to_mastodon

__all__ = [
    "filter_keyword_to_mastodon",
    "filter_result_to_mastodon",
    "filter_status_to_mastodon",
    "filter_to_mastodon",
    "list_to_mastodon",
    "marker_to_mastodon",
    "notification_to_mastodon",
    "preferences_to_mastodon",
    "searchable_text",
    "status_edit_to_mastodon",
    "status_history_to_mastodon",
    "status_source_to_mastodon",
    "v1_filter_to_mastodon",
]


def searchable_text(status: Status) -> str:
    """What filters match against: the content warning, the text and media descriptions."""
    parts = [status.summary, html_to_text(status.content)]
    parts += [
        str(item.get("description"))
        for item in status.attachments
        if isinstance(item, Mapping) and item.get("description")
    ]
    return "\n".join(part for part in parts if part)


def notification_to_mastodon(
    notification: Notification, account: dict[str, Any], status: dict[str, Any] | None
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": str(notification.id),
        "type": notification.notification_type,
        "created_at": iso_time(notification.created_at),
        "group_key": f"ungrouped-{notification.id}",
        "account": account,
    }
    if status is not None:
        entity["status"] = status
    return entity


def marker_to_mastodon(marker: Marker) -> dict[str, Any]:
    return {
        "last_read_id": str(marker.last_read_id),
        "version": marker.version,
        "updated_at": iso_time(marker.updated_at),
    }


def list_to_mastodon(item: AccountList) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "title": item.title,
        "replies_policy": item.replies_policy,
        "exclusive": item.exclusive,
    }


def filter_keyword_to_mastodon(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_status_to_mastodon(entry: FilterStatus) -> dict[str, Any]:
    return {"id": str(entry.id), "status_id": str(entry.status_id)}


def filter_to_mastodon(item: Filter, *, with_entries: bool = True) -> dict[str, Any]:
    """The (v2) Filter; inside a FilterResult it has no keywords nor statuses."""
    entity: dict[str, Any] = {
        "id": str(item.id),
        "title": item.title,
        "context": list(item.contexts),
        "expires_at": iso_time(item.expires_at),
        "filter_action": item.filter_action,
    }
    if with_entries:
        entity["keywords"] = [filter_keyword_to_mastodon(k) for k in item.keywords]
        entity["statuses"] = [filter_status_to_mastodon(s) for s in item.statuses]
    return entity


def filter_result_to_mastodon(match: FilterMatch) -> dict[str, Any]:
    return {
        "filter": filter_to_mastodon(match.filter, with_entries=False),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }


def v1_filter_to_mastodon(item: Filter, keyword: FilterKeyword) -> dict[str, Any]:
    """One keyword of a filter, as the v1 API shows it (its id is the keyword's)."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": list(item.contexts),
        "whole_word": keyword.whole_word,
        "expires_at": iso_time(item.expires_at),
        "irreversible": item.filter_action == "hide",
    }


def status_source_to_mastodon(status: Status) -> dict[str, Any]:
    text = status.source_text if status.source_text is not None else html_to_text(status.content)
    return {"id": str(status.id), "text": text, "spoiler_text": status.summary}


def status_edit_to_mastodon(
    account: dict[str, Any],
    *,
    content: str,
    spoiler_text: str,
    sensitive: bool,
    attachments: Sequence[Mapping[str, Any]],
    created_at: datetime | None,
    status_id: int,
) -> dict[str, Any]:
    return {
        "content": content,
        "spoiler_text": spoiler_text,
        "sensitive": sensitive,
        "created_at": iso_time(created_at),
        "account": account,
        "poll": None,
        "media_attachments": [
            media_attachment_to_mastodon(item, f"{status_id}{index:02d}")
            for index, item in enumerate(attachments)
            if isinstance(item, Mapping)
        ],
        "emojis": [],
    }


def status_history_to_mastodon(
    status: Status, edits: Sequence[StatusEdit], account: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every version, the first first and the current one last; a version's time is when
    it was written (the post's, then each edit's)."""
    times = [status.published or status.created_at, *(edit.created_at for edit in edits)]
    versions = [
        status_edit_to_mastodon(
            account,
            content=edit.content,
            spoiler_text=edit.summary,
            sensitive=edit.sensitive,
            attachments=edit.attachments,
            created_at=when,
            status_id=status.id,
        )
        for edit, when in zip(edits, times, strict=False)
    ]
    versions.append(
        status_edit_to_mastodon(
            account,
            content=status.content,
            spoiler_text=status.summary,
            sensitive=status.sensitive,
            attachments=status.attachments,
            created_at=status.edited_at or status.published or status.created_at,
            status_id=status.id,
        )
    )
    return versions


def preferences_to_mastodon(user: User) -> dict[str, Any]:
    """fedinet keeps no posting or reading defaults yet: Mastodon's own defaults."""
    return {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": user.locale or None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
