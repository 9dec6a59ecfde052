"""Status entities rendered once and served many times, checked against the database.

A page of statuses costs little to find (one query) and much more to show: each status's
entity with its author's account, built from rows in Python and encoded as JSON, 20 to
40 of them a page. Most of that is the same from one request to the next and from one
viewer to another, so this keeps each status's rendered JSON, less what depends on the
viewer, under the key :func:`fedinet.db.timelines.home_page` reads with the page: the
id and row versions of the status, its author's actor and counters, and its counters
(``status_stats``).

A row's version is its ``xmin``, the transaction that last wrote it: PostgreSQL writes a
new row version on every UPDATE, so an edit, a deletion, a new avatar or display name,
a new follower or post of the author, a reply, boost or favourite each change the key. A
key that no longer matches is never looked up again; stale entries age out. Nothing has
to be told about writes, whichever process makes them: every request asks the database
what the current key is. The viewer's flags (favourited, reblogged, bookmarked, pinned)
come with the page's query and are added at each request.

What an entry shows that its key does not cover is kept at most :data:`MAX_AGE` seconds:
the mentioned accounts' names and profile URLs (which only a remote server renaming its
URLs changes), and a mention whose account was deleted outright (its mention rows go by
cascade, the status row stays as it was).

When the viewer has active filters the page is rendered the ordinary way
(:func:`fedinet.web.api.render.statuses_json`): which statuses a filter catches depends on
the viewer.
"""

from __future__ import annotations

import json
import time
from typing import Any, Final

from starlette.requests import Request

from fedinet.config import Settings
from fedinet.db import timelines as timelines_db
from fedinet.db.timelines import (
    BOOKMARKED,
    FAVOURITED,
    PINNED,
    REBLOGGED,
    HomePage,
    ShownStatus,
)
from fedinet.db.types import Executor
from fedinet.models import Actor
from fedinet.web.api.render import statuses_json

__all__ = ["MAX_AGE", "StatusCache", "render_page", "status_cache"]

MAX_AGE: Final = 600.0
MAX_ENTRIES: Final = 10_000

_VIEWER_KEYS: Final = ("favourited", "reblogged", "muted", "bookmarked", "pinned", "filtered")
_TRUE_FALSE: Final = (b"false", b"true")
_NO_REBLOG: Final = b',"reblog":null}'

Key = str


def _encode(value: Any) -> bytes:
    # as starlette's JSONResponse renders
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


class StatusCache:
    """Rendered status entities by key, at most ``max_entries`` of them (the oldest go
    first), each for at most ``max_age`` seconds. One per app: ids are per database."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_age: float = MAX_AGE) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: dict[Key, tuple[float, bytes]] = {}

    def get(self, key: Key, now: float) -> bytes | None:
        found = self._entries.get(key)
        if found is None or now - found[0] > self.max_age:
            return None
        return found[1]

    def put(self, key: Key, body: bytes, now: float) -> None:
        entries = self._entries
        entries.pop(key, None)
        entries[key] = (now, body)
        while len(entries) > self.max_entries:
            del entries[next(iter(entries))]

    def clear(self) -> None:
        self._entries.clear()


def status_cache(request: Request) -> StatusCache:
    """The app's cache (made on first use)."""
    state = request.app.state
    cache = getattr(state, "status_cache", None)
    if not isinstance(cache, StatusCache):
        cache = state.status_cache = StatusCache()
    return cache


def _flag_bytes(flags: int, own: bool) -> bytes:
    """The viewer's part of a status entity, as ``status_to_mastodon`` adds it."""
    return b"".join(
        (
            b',"favourited":',
            _TRUE_FALSE[bool(flags & FAVOURITED)],
            b',"reblogged":',
            _TRUE_FALSE[bool(flags & REBLOGGED)],
            b',"muted":false,"bookmarked":',
            _TRUE_FALSE[bool(flags & BOOKMARKED)],
            b',"pinned":' + _TRUE_FALSE[bool(flags & PINNED)] if own else b"",
            b',"filtered":[]',
        )
    )


# by flags + 16 when the status is the viewer's own
_FLAGS: Final = tuple(_flag_bytes(n % 16, n >= 16) for n in range(32))


def _core(entity: dict[str, Any]) -> bytes:
    """The entity without the viewer's part and ``reblog``, encoded and open (no closing
    brace). It was rendered from rows read after the key: when they changed in between,
    it shows newer rows under an older key, which no later read can ask for again (a row
    version never comes back)."""
    core = {k: v for k, v in entity.items() if k not in _VIEWER_KEYS and k != "reblog"}
    return _encode(core)[:-1]


async def render_page(
    db: Executor,
    settings: Settings,
    cache: StatusCache,
    page: HomePage,
    viewer: Actor,
    *,
    context: str,
) -> bytes:
    """The JSON array of the page's status entities, as
    ``statuses_json(db, settings, statuses, viewer, context=context)`` would encode it."""
    entries = page.entries

    async def plainly() -> bytes:
        statuses = await timelines_db.statuses_in_order(db, [e.status.id for e in entries])
        return _encode(await statuses_json(db, settings, statuses, viewer, context=context))

    gone = any(e.status.reblog_of_id is not None and e.original is None for e in entries)
    if page.viewer_has_filters or gone:
        return await plainly()

    now = time.monotonic()
    cores: dict[int, bytes] = {}
    missing: dict[int, ShownStatus] = {}
    for entry in entries:
        for shown in (entry.status, entry.original):
            if shown is None or shown.id in cores:
                continue
            body = cache.get(shown.key, now)
            if body is None:
                missing[shown.id] = shown
            else:
                cores[shown.id] = body
    if missing:
        found = await timelines_db.statuses_to_show(db, list(missing))
        page_ids = {e.status.id for e in entries}
        if len(found) < len(missing) or any(
            s.deleted_at is not None and s.id in page_ids for s in found.values()
        ):  # deleted since the page was read
            return await plainly()
        rendered = await statuses_json(db, settings, [found[i] for i in missing], None)
        for entity in rendered:
            shown = missing[int(entity["id"])]
            cores[shown.id] = core = _core(entity)
            cache.put(shown.key, core, now)

    viewer_id = viewer.id
    parts: list[bytes] = []
    for entry in entries:
        status, original = entry.status, entry.original
        parts.append(cores[status.id])
        parts.append(_FLAGS[status.flags + 16 * (status.actor_id == viewer_id)])
        if original is None:
            parts.append(_NO_REBLOG)
        else:
            parts.append(b',"reblog":')
            parts.append(cores[original.id])
            parts.append(_FLAGS[original.flags + 16 * (original.actor_id == viewer_id)])
            parts.append(_NO_REBLOG)
            parts.append(b"}")
        parts.append(b",")
    if parts:
        parts[-1] = b"]"
        return b"[" + b"".join(parts)
    return b"[]"
