"""Direct-message conversations: list (paged by their last status), mark read, remove."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import conversations as conversations_db
from fedinet.db import statuses as statuses_db
from fedinet.db.conversations import Conversation
from fedinet.db.types import Executor
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.web.api.args import path_id, runtime_of
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.pagination import Page, parse_page, set_link_header
from fedinet.web.api.render import statuses_json

__all__ = ["conversations_json", "routes"]


def _page(items: list[Conversation], page: Page) -> list[Conversation]:
    """Newest last status first; ``min_id``: the oldest above it first, then re-sorted."""
    chosen = [
        c
        for c in items
        if (page.max_id is None or c.last_status_id < page.max_id)
        and (page.since_id is None or c.last_status_id > page.since_id)
        and (page.min_id is None or c.last_status_id > page.min_id)
    ]
    if page.min_id is not None:
        chosen = sorted(chosen, key=lambda c: c.last_status_id)[: page.limit]
    else:
        chosen = chosen[: page.limit]
    return page.newest_first(chosen, key=lambda c: c.last_status_id)


async def conversations_json(
    db: Executor, settings: Settings, items: list[Conversation], viewer: Actor
) -> list[dict[str, object]]:
    people = await actors_db.get_actors_by_ids(
        db, list({i for c in items for i in c.participant_ids})
    )
    accounts = await load_accounts(db, settings, list(people.values()))
    found = await statuses_db.get_statuses_by_ids(db, [c.last_status_id for c in items])
    ordered = [found[c.last_status_id] for c in items if c.last_status_id in found]
    rendered = await statuses_json(db, settings, ordered, viewer)
    by_id = {s.id: entity for s, entity in zip(ordered, rendered, strict=True)}
    return [
        {
            "id": str(c.id),
            "unread": c.unread,
            "accounts": [accounts[i] for i in c.participant_ids if i in accounts],
            "last_status": by_id.get(c.last_status_id),
        }
        for c in items
    ]


async def index(request: Request) -> Response:
    me = await require_scope(request, "read:statuses")
    runtime = runtime_of(request)
    page = parse_page(request.query_params)
    async with runtime.pool.acquire() as conn:
        items = _page(await conversations_db.list_conversations(conn, me.actor.id), page)
        body = await conversations_json(conn, runtime.settings, items, me.actor)
    response = JSONResponse(body)
    set_link_header(response, request, page, [c.last_status_id for c in items])
    return response


async def _own(request: Request, owner: Actor) -> Conversation:
    found = await conversations_db.get_conversation(
        runtime_of(request).pool, owner.id, path_id(request)
    )
    if found is None:
        raise NotFound("Record not found")
    return found


async def read(request: Request) -> Response:
    me = await require_scope(request, "write:conversations")
    runtime = runtime_of(request)
    found = await _own(request, me.actor)
    async with runtime.pool.acquire() as conn:
        await conversations_db.mark_conversation_read(
            conn, me.actor.id, found.id, found.last_status_id
        )
        changed = Conversation(found.id, found.participant_ids, found.last_status_id, False)
        return JSONResponse(
            (await conversations_json(conn, runtime.settings, [changed], me.actor))[0]
        )


async def remove(request: Request) -> Response:
    me = await require_scope(request, "write:conversations")
    found = await _own(request, me.actor)
    await conversations_db.hide_conversation(
        runtime_of(request).pool, me.actor.id, found.id, found.last_status_id
    )
    return JSONResponse({})


routes: list[BaseRoute] = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
