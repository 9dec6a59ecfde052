"""Follow, unfollow, block and unblock accounts; relationships; follow requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import counts as counts_db
from fedinet.db import follows as follows_db
from fedinet.db import notes as notes_db
from fedinet.db import notifications as notifications_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services import blocks, follows
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import load_accounts
from fedinet.web.api.params import first, read_params
from fedinet.web.api.render import relationships_json

__all__ = ["account_by_id", "routes"]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def account_by_id(runtime: Runtime, raw_id: str) -> Actor:
    actor = await actors_db.get_actor_by_id(runtime.pool, int(raw_id)) if raw_id.isdigit() else None
    if actor is None or actor.deleted_at is not None or actor.actor_type == "Application":
        raise NotFound("Record not found")
    return actor


async def _relationship(runtime: Runtime, viewer: Actor, target: Actor) -> Response:
    return JSONResponse((await relationships_json(runtime.pool, viewer, [target.id]))[0])


async def follow(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime = _runtime(request)
    target = await account_by_id(runtime, request.path_params["id"])
    params = await read_params(request)  # reblogs, languages: accepted, not used yet
    notify = first(params, "notify")
    intent = follows.FollowIntent(
        note=first(params, "note") or "",
        motive=first(params, "motive") or None,
        connect_code=first(params, "connect_code") or None,
    )
    async with runtime.pool.acquire() as conn:
        await follows.follow(conn, runtime.settings, me.actor, target, intent)
        if notify is not None:
            await notifications_db.set_subscription(
                conn, me.actor.id, target.id, notify.lower() in ("1", "true", "t", "on", "yes")
            )
    return await _relationship(runtime, me.actor, target)


Action = Callable[[Connection, Settings, Actor, Actor], Awaitable[None]]


def _relationship_action(action: Action, scope: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that applies ``action`` (me, the account in the path) and answers with
    the Relationship afterwards."""

    async def endpoint(request: Request) -> Response:
        me = await require_scope(request, scope, "follow")
        runtime = _runtime(request)
        target = await account_by_id(runtime, request.path_params["id"])
        async with runtime.pool.acquire() as conn:
            await action(conn, runtime.settings, me.actor, target)
        return await _relationship(runtime, me.actor, target)

    return endpoint


async def relationships(request: Request) -> Response:
    me = await require_scope(request, "read:follows", "follow")
    runtime = _runtime(request)
    params = await read_params(request)
    raw = params.get("id", [])
    ids = [int(i) for i in ([raw] if isinstance(raw, str) else raw) if i.isdigit()]
    return JSONResponse(await relationships_json(runtime.pool, me.actor, ids))


async def follow_requests(request: Request) -> Response:
    """Pending requests; each Account also carries ``follow_request``: the note, the
    motive, the shared ground and the requester's track record."""
    me = await require_scope(request, "read:follows", "follow")
    runtime = _runtime(request)
    async with runtime.pool.acquire() as conn:
        pending = await follows_db.list_pending_requests(conn, me.actor.id)
        actors = [actor for _, actor in pending]
        accounts = await load_accounts(conn, runtime.settings, actors)
        result = []
        for follow, actor in pending:
            account = dict(accounts[actor.id])
            ground = await follows.shared_ground(conn, me.actor, actor)
            record = await notes_db.requester_record(conn, actor.id)
            counts = await counts_db.count_account_stats(conn, [actor.id])
            stats = counts.get(actor.id)
            account["follow_request"] = {
                "note": follow.note or "",
                "motive": follow.motive,
                "shared": ground.as_dict(),
                "requester": {
                    "following_count": stats.following if stats else 0,
                    "followers_count": stats.followers if stats else 0,
                    "requests_accepted": record.requests_accepted,
                    "requests_refused": record.requests_refused,
                    "created_at": account["created_at"],
                    "repeated_notes": record.repeated_notes,
                },
                "requested_at": follow.created_at.isoformat(),
            }
            result.append(account)
    return JSONResponse(result)


async def authorize_request(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime = _runtime(request)
    requester = await account_by_id(runtime, request.path_params["id"])
    async with runtime.pool.acquire() as conn:
        await follows.accept_follow_request(conn, runtime.settings, me.actor, requester)
    return await _relationship(runtime, me.actor, requester)


async def reject_request(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime = _runtime(request)
    requester = await account_by_id(runtime, request.path_params["id"])
    params = await read_params(request)
    async with runtime.pool.acquire() as conn:
        await follows.reject_follow_request(
            conn, runtime.settings, me.actor, requester, reason=first(params, "reason") or None
        )
    return await _relationship(runtime, me.actor, requester)


routes: list[BaseRoute] = [
    Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
    Route("/api/v1/accounts/{id}/follow", follow, methods=["POST"]),
    Route(
        "/api/v1/accounts/{id}/unfollow",
        _relationship_action(follows.unfollow, "write:follows"),
        methods=["POST"],
    ),
    Route(
        "/api/v1/accounts/{id}/block",
        _relationship_action(blocks.block, "write:blocks"),
        methods=["POST"],
    ),
    Route(
        "/api/v1/accounts/{id}/unblock",
        _relationship_action(blocks.unblock, "write:blocks"),
        methods=["POST"],
    ),
    Route("/api/v1/follow_requests", follow_requests, methods=["GET"]),
    Route("/api/v1/follow_requests/{id}/authorize", authorize_request, methods=["POST"]),
    Route("/api/v1/follow_requests/{id}/reject", reject_request, methods=["POST"]),
]
