"""Filters: the v2 API (filters with keywords and statuses) and the v1 API, which shows
each keyword as a filter of its own, as Mastodon's compatibility view does."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import filters as filters_db
from fedinet.db import statuses as statuses_db
from fedinet.db.filters import Filter, FilterKeyword
from fedinet.errors import NotFound, ValidationError
from fedinet.services import filters
from fedinet.services.filters import KeywordChange
from fedinet.services.statuses import visible_to
from fedinet.web.api.args import as_bool, nested_items, path_id, read_document, runtime_of
from fedinet.web.api.auth import require_scope
from fedinet.web.api.member_entities import (
    filter_keyword_to_mastodon,
    filter_status_to_mastodon,
    filter_to_mastodon,
    v1_filter_to_mastodon,
)

__all__ = ["routes"]


def _text(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise ValidationError(f"{key} must be a string", field=key)
    return str(value)


def _contexts(document: dict[str, Any]) -> list[str] | None:
    value = document.get("context")
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def _expiry(document: dict[str, Any]) -> Any:
    """False when ``expires_in`` was not sent; None (never) when it was sent empty."""
    if "expires_in" not in document:
        return False
    return filters.expiry(_text(document, "expires_in"))


def _keyword_changes(document: dict[str, Any]) -> list[KeywordChange]:
    changes = []
    for item in nested_items(document, "keywords_attributes"):
        raw_id = item.get("id")
        if raw_id is not None and not str(raw_id).isdigit():
            raise ValidationError("keywords_attributes id must be an id", field="id")
        changes.append(
            KeywordChange(
                keyword=None if item.get("keyword") is None else str(item["keyword"]),
                whole_word=(
                    None
                    if item.get("whole_word") is None
                    else as_bool(item["whole_word"], "whole_word")
                ),
                id=None if raw_id is None else int(raw_id),
                destroy=as_bool(item.get("_destroy", False), "_destroy"),
            )
        )
    return changes


# --------------------------------------------------------------------------- v2


async def index(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    found = await filters_db.list_filters(runtime_of(request).pool, me.actor.id)
    return JSONResponse([filter_to_mastodon(item) for item in found])


async def create(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    expires = _expiry(document)
    async with runtime_of(request).pool.acquire() as conn:
        made = await filters.create_filter(
            conn,
            me.actor.id,
            title=_text(document, "title") or "",
            contexts=_contexts(document) or [],
            filter_action=_text(document, "filter_action") or "warn",
            expires_at=None if expires is False else expires,
            keywords=_keyword_changes(document),
        )
    return JSONResponse(filter_to_mastodon(made))


async def show(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    async with runtime_of(request).pool.acquire() as conn:
        found = await filters.own_filter(conn, me.actor.id, path_id(request))
    return JSONResponse(filter_to_mastodon(found))


async def update(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    async with runtime_of(request).pool.acquire() as conn:
        changed = await filters.update_filter(
            conn,
            me.actor.id,
            path_id(request),
            title=_text(document, "title"),
            contexts=_contexts(document),
            filter_action=_text(document, "filter_action"),
            expires_at=_expiry(document),
            keywords=_keyword_changes(document),
        )
    return JSONResponse(filter_to_mastodon(changed))


async def delete(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    async with runtime_of(request).pool.acquire() as conn:
        found = await filters.own_filter(conn, me.actor.id, path_id(request))
        await filters_db.delete_filter(conn, found.id)
    return JSONResponse({})


async def keywords(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    async with runtime_of(request).pool.acquire() as conn:
        found = await filters.own_filter(conn, me.actor.id, path_id(request))
    return JSONResponse([filter_keyword_to_mastodon(k) for k in found.keywords])


async def add_keyword(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    whole_word = document.get("whole_word")
    async with runtime_of(request).pool.acquire() as conn:
        made = await filters.add_keyword(
            conn,
            me.actor.id,
            path_id(request),
            _text(document, "keyword"),
            True if whole_word is None else as_bool(whole_word, "whole_word"),
        )
    return JSONResponse(filter_keyword_to_mastodon(made))


async def _own_keyword(request: Request, owner_id: int) -> FilterKeyword:
    found = await filters_db.get_filter_keyword(
        runtime_of(request).pool, owner_id, path_id(request)
    )
    if found is None:
        raise NotFound("Record not found")
    return found


async def show_keyword(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    return JSONResponse(filter_keyword_to_mastodon(await _own_keyword(request, me.actor.id)))


async def update_keyword(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    whole_word = document.get("whole_word")
    async with runtime_of(request).pool.acquire() as conn:
        changed = await filters.update_keyword(
            conn,
            me.actor.id,
            path_id(request),
            _text(document, "keyword"),
            None if whole_word is None else as_bool(whole_word, "whole_word"),
        )
    return JSONResponse(filter_keyword_to_mastodon(changed))


async def delete_keyword(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    found = await _own_keyword(request, me.actor.id)
    await filters_db.delete_filter_keyword(runtime_of(request).pool, found.id)
    return JSONResponse({})


async def statuses(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    async with runtime_of(request).pool.acquire() as conn:
        found = await filters.own_filter(conn, me.actor.id, path_id(request))
    return JSONResponse([filter_status_to_mastodon(s) for s in found.statuses])


async def add_status(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    raw = _text(document, "status_id") or ""
    if not raw.isdigit() or len(raw) > 19:
        raise ValidationError("status_id must be an id", field="status_id")
    async with runtime_of(request).pool.acquire() as conn:
        status = await statuses_db.get_status_by_id(conn, int(raw))
        if status is None or not await visible_to(conn, status, me.actor):
            raise NotFound("Record not found")
        made = await filters.add_status(conn, me.actor.id, path_id(request), status.id)
    return JSONResponse(filter_status_to_mastodon(made))


async def show_status(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    found = await filters_db.get_filter_status(
        runtime_of(request).pool, me.actor.id, path_id(request)
    )
    if found is None:
        raise NotFound("Record not found")
    return JSONResponse(filter_status_to_mastodon(found))


async def delete_status(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    pool = runtime_of(request).pool
    found = await filters_db.get_filter_status(pool, me.actor.id, path_id(request))
    if found is None:
        raise NotFound("Record not found")
    await filters_db.delete_filter_status(pool, found.id)
    return JSONResponse({})


# --------------------------------------------------------------------------- v1


async def _v1_entry(request: Request, owner_id: int) -> tuple[Filter, FilterKeyword]:
    keyword = await _own_keyword(request, owner_id)
    found = await filters_db.get_filter(runtime_of(request).pool, owner_id, keyword.filter_id)
    assert found is not None
    return found, keyword


async def v1_index(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    found = await filters_db.list_filters(runtime_of(request).pool, me.actor.id)
    return JSONResponse([v1_filter_to_mastodon(f, k) for f in found for k in f.keywords])


async def v1_create(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    phrase = _text(document, "phrase") or ""
    expires = _expiry(document)
    async with runtime_of(request).pool.acquire() as conn:
        made = await filters.create_filter(
            conn,
            me.actor.id,
            title=phrase,
            contexts=_contexts(document) or [],
            filter_action=(
                "hide" if as_bool(document.get("irreversible", False), "irreversible") else "warn"
            ),
            expires_at=None if expires is False else expires,
            keywords=[
                KeywordChange(
                    keyword=phrase,
                    whole_word=as_bool(document.get("whole_word", True), "whole_word"),
                )
            ],
        )
    return JSONResponse(v1_filter_to_mastodon(made, made.keywords[0]))


async def v1_show(request: Request) -> Response:
    me = await require_scope(request, "read:filters")
    found, keyword = await _v1_entry(request, me.actor.id)
    return JSONResponse(v1_filter_to_mastodon(found, keyword))


async def v1_update(request: Request) -> Response:
    me = await require_scope(request, "write:filters")
    document = await read_document(request)
    found, keyword = await _v1_entry(request, me.actor.id)
    irreversible = document.get("irreversible")
    whole_word = document.get("whole_word")
    async with runtime_of(request).pool.acquire() as conn:
        changed = await filters.update_filter(
            conn,
            me.actor.id,
            found.id,
            contexts=_contexts(document),
            filter_action=(
                None
                if irreversible is None
                else ("hide" if as_bool(irreversible, "irreversible") else "warn")
            ),
            expires_at=_expiry(document),
            keywords=[
                KeywordChange(
                    keyword=_text(document, "phrase"),
                    whole_word=None if whole_word is None else as_bool(whole_word, "whole_word"),
                    id=keyword.id,
                )
            ],
        )
    entry = next(k for k in changed.keywords if k.id == keyword.id)
    return JSONResponse(v1_filter_to_mastodon(changed, entry))


async def v1_delete(request: Request) -> Response:
    """Removes the keyword, and its filter when nothing else is left in it."""
    me = await require_scope(request, "write:filters")
    found, keyword = await _v1_entry(request, me.actor.id)
    pool = runtime_of(request).pool
    if len(found.keywords) == 1 and not found.statuses:
        await filters_db.delete_filter(pool, found.id)
    else:
        await filters_db.delete_filter_keyword(pool, keyword.id)
    return JSONResponse({})


routes: list[BaseRoute] = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    Route("/api/v2/filters/keywords/{id}", show_keyword, methods=["GET"]),
    Route("/api/v2/filters/keywords/{id}", update_keyword, methods=["PUT"]),
    Route("/api/v2/filters/keywords/{id}", delete_keyword, methods=["DELETE"]),
    Route("/api/v2/filters/statuses/{id}", show_status, methods=["GET"]),
    Route("/api/v2/filters/statuses/{id}", delete_status, methods=["DELETE"]),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", delete, methods=["DELETE"]),
    Route("/api/v2/filters/{id}/keywords", keywords, methods=["GET"]),
    Route("/api/v2/filters/{id}/keywords", add_keyword, methods=["POST"]),
    Route("/api/v2/filters/{id}/statuses", statuses, methods=["GET"]),
    Route("/api/v2/filters/{id}/statuses", add_status, methods=["POST"]),
    Route("/api/v1/filters", v1_index, methods=["GET"]),
    Route("/api/v1/filters", v1_create, methods=["POST"]),
    Route("/api/v1/filters/{id}", v1_show, methods=["GET"]),
    Route("/api/v1/filters/{id}", v1_update, methods=["PUT"]),
    Route("/api/v1/filters/{id}", v1_delete, methods=["DELETE"]),
]
