"""Connect links: ``POST /api/v1/connect_links`` and ``DELETE /api/v1/connect_links/:code``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import connect_links as links_db
from fedinet.errors import NotFound
from fedinet.runtime import Runtime
from fedinet.services.follows import create_connect_link
from fedinet.web.api.auth import require_scope

__all__ = ["routes"]


async def create(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime: Runtime = request.app.state.runtime
    async with runtime.pool.acquire() as conn:
        link, url = await create_connect_link(conn, runtime.settings, me.actor)
    return JSONResponse({"code": link.code, "url": url, "expires_at": link.expires_at.isoformat()})


async def list_links(request: Request) -> Response:
    me = await require_scope(request, "read:follows", "follow")
    runtime: Runtime = request.app.state.runtime
    links = await links_db.list_connect_links(runtime.pool, me.actor.id)
    return JSONResponse(
        [
            {
                "code": link.code,
                "expires_at": link.expires_at.isoformat(),
                "revoked": link.revoked_at is not None,
                "uses": link.uses,
            }
            for link in links
        ]
    )


async def revoke(request: Request) -> Response:
    me = await require_scope(request, "write:follows", "follow")
    runtime: Runtime = request.app.state.runtime
    if not await links_db.revoke_connect_link(
        runtime.pool, request.path_params["code"], me.actor.id
    ):
        raise NotFound("Record not found")
    return JSONResponse({})


routes: list[BaseRoute] = [
    Route("/api/v1/connect_links", create, methods=["POST"]),
    Route("/api/v1/connect_links", list_links, methods=["GET"]),
    Route("/api/v1/connect_links/{code}", revoke, methods=["DELETE"]),
]
