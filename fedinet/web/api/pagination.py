"""Mastodon's id-based pagination: ``max_id``, ``since_id``, ``min_id`` and ``limit``, and
the RFC 8288 ``Link`` header that points at the next and previous pages.

How an endpoint uses it::

    page = parse_page(request.query_params)              # ValidationError (422) if bad
    rows = await statuses_db.list_x(db, ..., max_id=page.max_id, since_id=page.since_id,
                                    min_id=page.min_id, limit=page.limit)
    # the query orders by id DESC, or ASC when page.ascending (min_id); then:
    rows = page.newest_first(rows, key=lambda r: r.id)
    response = JSONResponse([...])
    set_link_header(response, request, page, [r.id for r in rows])

As in Mastodon: ``limit`` defaults to 20 and is capped at twice the default; ``min_id``
returns the items just newer than it, ``since_id`` the newest items newer than it;
``next`` (older) is offered only when the page is full, with ``max_id`` = the last id;
``prev`` (newer) whenever the page is not empty, with ``min_id`` = the first id. Other
query parameters (``limit``, filters) are carried over; cursors are not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from fedinet.config import Settings
from fedinet.errors import ValidationError

__all__ = ["CURSORS", "Page", "link_header", "parse_page", "set_link_header"]

CURSORS: Final = ("max_id", "since_id", "min_id")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None

    @property
    def ascending(self) -> bool:
        """Whether the query should order by id ascending (``min_id`` pages do)."""
        return self.min_id is not None

    def newest_first(self, rows: Sequence[_T], key: Callable[[_T], int]) -> list[_T]:
        """Rows in the order the API returns them: newest first."""
        return sorted(rows, key=key, reverse=True)


def _cursor(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an id", field=name) from None
    if value < 0:
        raise ValidationError(f"{name} must be an id", field=name)
    return value


def parse_page(query: Mapping[str, str], *, default_limit: int = 20) -> Page:
    """Read the pagination parameters. ``limit`` is clamped to 1 … twice ``default_limit``; a
    non-numeric limit means the default (as Mastodon's ``to_i``-based parsing)."""
    limit = default_limit
    raw_limit = query.get("limit")
    if raw_limit:
        try:
            limit = abs(int(raw_limit))
        except ValueError:
            limit = default_limit
        limit = max(1, min(limit, default_limit * 2))
    return Page(
        limit=limit,
        max_id=_cursor(query, "max_id"),
        since_id=_cursor(query, "since_id"),
        min_id=_cursor(query, "min_id"),
    )


def link_header(
    base_url: str,
    query: Sequence[tuple[str, str]],
    page: Page,
    ids: Sequence[int | str],
) -> str | None:
    """The ``Link`` header value for a page whose items have ``ids`` (newest first) at
    ``base_url`` (scheme, host and path); ``None`` when there is no link to give."""
    kept = [(k, v) for k, v in query if k not in CURSORS]
    links: list[str] = []
    if ids and len(ids) >= page.limit:
        links.append(f'<{base_url}?{urlencode([*kept, ("max_id", str(ids[-1]))])}>; rel="next"')
    if ids:
        links.append(f'<{base_url}?{urlencode([*kept, ("min_id", str(ids[0]))])}>; rel="prev"')
    return ", ".join(links) or None


def set_link_header(
    response: Response, request: Request, page: Page, ids: Sequence[int | str]
) -> None:
    """Add the ``Link`` header for a page, with URLs on the instance's public origin."""
    settings: Settings = request.app.state.settings
    value = link_header(
        settings.url + request.url.path, request.query_params.multi_items(), page, ids
    )
    if value is not None:
        response.headers["Link"] = value
