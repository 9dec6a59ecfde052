"""One account's lists and the viewer's own dealings with it:

- ``GET /api/v1/accounts/:id/statuses`` (``exclude_replies``, ``exclude_reblogs``,
  ``only_media``, ``pinned``, ``tagged``; paged with ``Link``);
- ``GET /api/v1/accounts/:id/followers`` and ``/following`` (paged by follow id, empty
  when the member hides them from the viewer);
- ``GET /api/v1/accounts/familiar_followers?id[]=…``;
- ``GET /api/v1/accounts/search?q=…`` (local and known remote accounts; ``resolve``
  looks a ``user@domain`` up through WebFinger);
- ``POST /api/v1/accounts/:id/note`` and ``/remove_from_followers``.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import actors as actors_db
from fedinet.errors import NotFound, ValidationError
from fedinet.federation.lookup import resolve_acct
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services import account_views, follows
from fedinet.services.account_views import StatusFilter
from fedinet.web.api.auth import optional_user, require_scope
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.pagination import Page, parse_page, set_link_header
from fedinet.web.api.params import first, many, read_params
from fedinet.web.api.render import relationships_json, statuses_json

__all__ = ["routes"]

_TRUE: Final = ("1", "true", "on", "yes")
_MAX_SEARCH: Final = 80


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in _TRUE


async def _account(runtime: Runtime, raw_id: str) -> Actor:
    valid = raw_id.isdigit() and int(raw_id) < 2**63
    actor = await actors_db.get_actor_by_id(runtime.pool, int(raw_id)) if valid else None
    return await account_views.visible_account(runtime.pool, actor)


async def account_statuses(request: Request) -> Response:
    """Public; a token, if given, needs ``read:statuses``."""
    me = await optional_user(request, "read:statuses")
    runtime = _runtime(request)
    account = await _account(runtime, request.path_params["id"])
    page = parse_page(request.query_params)
    viewer = me.actor if me else None
    filters = StatusFilter(
        exclude_replies=_flag(request, "exclude_replies"),
        exclude_reblogs=_flag(request, "exclude_reblogs"),
        only_media=_flag(request, "only_media"),
        pinned=_flag(request, "pinned"),
        tagged=request.query_params.get("tagged") or None,
    )
    async with runtime.pool.acquire() as conn:
        rows = await account_views.account_statuses(
            conn,
            account,
            viewer,
            filters,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        rows = page.newest_first(rows, key=lambda s: s.id)
        response = JSONResponse(await statuses_json(conn, runtime.settings, rows, viewer))
    set_link_header(response, request, page, [s.id for s in rows])
    return response


async def _follow_list(request: Request, *, followers: bool) -> Response:
    me = await optional_user(request, "read:accounts")
    runtime = _runtime(request)
    account = await _account(runtime, request.path_params["id"])
    page: Page = parse_page(request.query_params, default_limit=40)
    lister = account_views.follower_page if followers else account_views.following_page
    viewer = me.actor if me else None
    async with runtime.pool.acquire() as conn:
        pairs = await lister(
            conn,
            account,
            viewer,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        pairs = page.newest_first(pairs, key=lambda pair: pair[0])
        entities = await load_accounts(conn, runtime.settings, [actor for _, actor in pairs])
    response = JSONResponse([entities[actor.id] for _, actor in pairs])
    set_link_header(response, request, page, [follow_id for follow_id, _ in pairs])
    return response


async def account_followers(request: Request) -> Response:
    return await _follow_list(request, followers=True)


async def account_following(request: Request) -> Response:
    return await _follow_list(request, followers=False)


async def familiar_followers(request: Request) -> Response:
    me = await require_scope(request, "read:follows", "follow")
    runtime = _runtime(request)
    params = await read_params(request)
    ids = list(dict.fromkeys(int(i) for i in many(params, "id") if i.isdigit() and len(i) < 19))
    async with runtime.pool.acquire() as conn:
        found = await account_views.familiar_followers(conn, me.actor, ids)
        everyone = [actor for actors in found.values() for actor in actors]
        entities = await load_accounts(conn, runtime.settings, everyone)
    return JSONResponse(
        [
            {"id": str(target), "accounts": [entities[a.id] for a in found.get(target, [])]}
            for target in ids
        ]
    )


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValidationError(f"{name} must be a whole number", field=name)
    return int(raw)


async def search_accounts(request: Request) -> Response:
    me = await require_scope(request, "read:accounts")
    runtime = _runtime(request)
    query = (request.query_params.get("q") or "").strip().removeprefix("@")
    if not query:
        raise ValidationError("q is required", field="q")
    limit = max(1, min(_int(request, "limit", 40), _MAX_SEARCH))
    offset = _int(request, "offset", 0)
    username, _, domain = query.partition("@")
    local_domain = runtime.settings.domain
    found: list[Actor] = []
    if domain and _flag(request, "resolve") and offset == 0:
        # Only a full user@domain is looked up on its server, as Mastodon does.
        resolved = await resolve_acct(runtime, query, resolve=True)
        if resolved is not None and not resolved.is_gone:
            found.append(resolved)
    async with runtime.pool.acquire() as conn:
        matches = await account_views.search(
            conn,
            username,
            domain=None if not domain or domain.lower() == local_domain else domain,
            local_only=bool(domain) and domain.lower() == local_domain,
            viewer=me.actor,
            following_only=_flag(request, "following"),
            limit=limit,
            offset=offset,
        )
        found += [a for a in matches if all(a.id != f.id for f in found)]
        found = found[:limit]
        entities = await load_accounts(conn, runtime.settings, found)
    return JSONResponse([entities[a.id] for a in found])


async def note(request: Request) -> Response:
    me = await require_scope(request, "write:accounts")
    runtime = _runtime(request)
    target = await _account(runtime, request.path_params["id"])
    params = await read_params(request)
    await account_views.set_note(runtime.pool, me.actor, target, first(params, "comment") or "")
    return JSONResponse((await relationships_json(runtime.pool, me.actor, [target.id]))[0])


async def remove_from_followers(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime = _runtime(request)
    raw = request.path_params["id"]
    actor = await actors_db.get_actor_by_id(runtime.pool, int(raw)) if raw.isdigit() else None
    if actor is None or (actor.is_local and actor.actor_type == "Application"):
        raise NotFound("Record not found")
    async with runtime.pool.acquire() as conn:
        await follows.remove_from_followers(conn, runtime.settings, me.actor, actor)
    return JSONResponse((await relationships_json(runtime.pool, me.actor, [actor.id]))[0])


routes: list[BaseRoute] = [
    Route("/api/v1/accounts/familiar_followers", familiar_followers, methods=["GET"]),
    Route("/api/v1/accounts/search", search_accounts, methods=["GET"]),
    Route("/api/v1/accounts/{id}/statuses", account_statuses, methods=["GET"]),
    Route("/api/v1/accounts/{id}/followers", account_followers, methods=["GET"]),
    Route("/api/v1/accounts/{id}/following", account_following, methods=["GET"]),
    Route("/api/v1/accounts/{id}/note", note, methods=["POST"]),
    Route("/api/v1/accounts/{id}/remove_from_followers", remove_from_followers, methods=["POST"]),
]
