"""Filters: creating and changing them (Mastodon's v2 model, with the v1 view as one
keyword per filter), and matching statuses against them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from fedinet.db import filters as filters_db
from fedinet.db.filters import Filter, FilterKeyword, FilterStatus
from fedinet.db.types import Connection
from fedinet.errors import NotFound, ValidationError

__all__ = [
    "CONTEXTS",
    "FILTER_ACTIONS",
    "FilterMatch",
    "KeywordChange",
    "add_keyword",
    "add_status",
    "create_filter",
    "expiry",
    "match_filters",
    "update_filter",
    "update_keyword",
]

CONTEXTS: Final = ("home", "notifications", "public", "thread", "account")
FILTER_ACTIONS: Final = ("warn", "hide", "blur")
MAX_KEYWORD: Final = 256
MAX_TITLE: Final = 256


@dataclass(frozen=True, slots=True)
class KeywordChange:
    """One item of ``keywords_attributes``: a new keyword (``id`` None), a change to one,
    or (``destroy``) its removal."""

    keyword: str | None
    whole_word: bool | None
    id: int | None = None
    destroy: bool = False


@dataclass(frozen=True, slots=True)
class FilterMatch:
    filter: Filter
    keyword_matches: list[str] | None
    status_matches: list[str] | None


def expiry(expires_in: str | None, *, now: datetime | None = None) -> datetime | None:
    """``expires_in`` seconds from now; empty or absent: never."""
    if expires_in is None or expires_in.strip() == "":
        return None
    try:
        seconds = int(expires_in)
    except ValueError:
        raise ValidationError(
            "expires_in must be a number of seconds", field="expires_in"
        ) from None
    if seconds <= 0:
        raise ValidationError("expires_in must be positive", field="expires_in")
    return (now or datetime.now(UTC)) + timedelta(seconds=seconds)


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ValidationError("Validation failed: Title can't be blank", field="title")
    if len(title) > MAX_TITLE:
        raise ValidationError("Validation failed: Title is too long", field="title")
    return title


def _check_contexts(contexts: Sequence[str]) -> list[str]:
    if not contexts:
        raise ValidationError("Validation failed: Context can't be blank", field="context")
    for context in contexts:
        if context not in CONTEXTS:
            raise ValidationError("Validation failed: Context is invalid", field="context")
    return list(dict.fromkeys(contexts))


def _check_action(action: str) -> str:
    if action not in FILTER_ACTIONS:
        raise ValidationError(
            "Validation failed: Filter action is not included in the list", field="filter_action"
        )
    return action


def _check_keyword(keyword: str | None) -> str:
    keyword = (keyword or "").strip()
    if not keyword:
        raise ValidationError("Validation failed: Keyword can't be blank", field="keyword")
    if len(keyword) > MAX_KEYWORD:
        raise ValidationError("Validation failed: Keyword is too long", field="keyword")
    return keyword


async def _apply_keywords(
    conn: Connection, found: Filter, changes: Sequence[KeywordChange]
) -> None:
    mine = {k.id: k for k in found.keywords}
    for change in changes:
        if change.id is None:
            if not change.destroy:
                await filters_db.insert_filter_keyword(
                    conn,
                    found.id,
                    _check_keyword(change.keyword),
                    True if change.whole_word is None else change.whole_word,
                )
            continue
        existing = mine.get(change.id)
        if existing is None:
            raise NotFound("Record not found")
        if change.destroy:
            await filters_db.delete_filter_keyword(conn, existing.id)
        else:
            await filters_db.update_filter_keyword(
                conn,
                existing.id,
                existing.keyword if change.keyword is None else _check_keyword(change.keyword),
                existing.whole_word if change.whole_word is None else change.whole_word,
            )


async def create_filter(
    conn: Connection,
    owner_id: int,
    *,
    title: str,
    contexts: Sequence[str],
    filter_action: str = "warn",
    expires_at: datetime | None = None,
    keywords: Sequence[KeywordChange] = (),
) -> Filter:
    title = _check_title(title)
    checked = _check_contexts(contexts)
    action = _check_action(filter_action)
    async with conn.transaction():
        filter_id = await filters_db.insert_filter(
            conn,
            owner_id,
            title=title,
            contexts=checked,
            filter_action=action,
            expires_at=expires_at,
        )
        made = await filters_db.get_filter(conn, owner_id, filter_id)
        assert made is not None
        await _apply_keywords(conn, made, [k for k in keywords if k.id is None])
        found = await filters_db.get_filter(conn, owner_id, filter_id)
    assert found is not None
    return found


async def own_filter(conn: Connection, owner_id: int, filter_id: int) -> Filter:
    found = await filters_db.get_filter(conn, owner_id, filter_id)
    if found is None:
        raise NotFound("Record not found")
    return found


async def update_filter(
    conn: Connection,
    owner_id: int,
    filter_id: int,
    *,
    title: str | None = None,
    contexts: Sequence[str] | None = None,
    filter_action: str | None = None,
    expires_at: datetime | bool | None = False,
    keywords: Sequence[KeywordChange] = (),
) -> Filter:
    """Change what is given; ``expires_at`` False: leave the expiry as it is."""
    async with conn.transaction():
        found = await own_filter(conn, owner_id, filter_id)
        await filters_db.update_filter(
            conn,
            found.id,
            title=found.title if title is None else _check_title(title),
            contexts=found.contexts if contexts is None else _check_contexts(contexts),
            filter_action=(
                found.filter_action if filter_action is None else _check_action(filter_action)
            ),
            expires_at=found.expires_at if isinstance(expires_at, bool) else expires_at,
        )
        await _apply_keywords(conn, found, keywords)
        changed = await own_filter(conn, owner_id, filter_id)
    return changed


async def add_keyword(
    conn: Connection, owner_id: int, filter_id: int, keyword: str | None, whole_word: bool
) -> FilterKeyword:
    found = await own_filter(conn, owner_id, filter_id)
    return await filters_db.insert_filter_keyword(
        conn, found.id, _check_keyword(keyword), whole_word
    )


async def update_keyword(
    conn: Connection,
    owner_id: int,
    keyword_id: int,
    keyword: str | None,
    whole_word: bool | None,
) -> FilterKeyword:
    existing = await filters_db.get_filter_keyword(conn, owner_id, keyword_id)
    if existing is None:
        raise NotFound("Record not found")
    return await filters_db.update_filter_keyword(
        conn,
        existing.id,
        existing.keyword if keyword is None else _check_keyword(keyword),
        existing.whole_word if whole_word is None else whole_word,
    )


async def add_status(
    conn: Connection, owner_id: int, filter_id: int, status_id: int
) -> FilterStatus:
    found = await own_filter(conn, owner_id, filter_id)
    added = await filters_db.add_filter_status(conn, found.id, status_id)
    if added is None:
        raise ValidationError("Validation failed: Status has already been taken", field="status_id")
    return added


def _keyword_pattern(keyword: FilterKeyword) -> re.Pattern[str]:
    escaped = re.escape(keyword.keyword)
    if keyword.whole_word:
        start = r"\b" if re.match(r"\w", keyword.keyword) else ""
        end = r"\b" if re.search(r"\w$", keyword.keyword) else ""
        escaped = f"{start}{escaped}{end}"
    return re.compile(escaped, re.IGNORECASE)


def match_filters(
    filters: Sequence[Filter], context: str, status_id: int, text: str
) -> list[FilterMatch]:
    """The filters (of ``context``) that ``text`` (the status's plain text, content
    warning and media descriptions) or ``status_id`` trip, with what matched."""
    matches = []
    for item in filters:
        if context not in item.contexts:
            continue
        keywords = [k.keyword for k in item.keywords if _keyword_pattern(k).search(text)]
        statuses = [str(s.status_id) for s in item.statuses if s.status_id == status_id]
        if keywords or statuses:
            matches.append(FilterMatch(item, keywords or None, statuses or None))
    return matches
