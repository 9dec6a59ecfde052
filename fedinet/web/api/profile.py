"""``PATCH /api/v1/accounts/update_credentials``: profile, motives, interests, region,
the follow-note policy, and (multipart) ``avatar`` and ``header`` images."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import counts as counts_db
from fedinet.db.counts import AccountCounts
from fedinet.errors import ValidationError
from fedinet.runtime import Runtime
from fedinet.services.profile import ProfileChange, update_profile
from fedinet.web.api.auth import require_scope
from fedinet.web.api.entities import credential_account_to_mastodon
from fedinet.web.api.media import limit_uploads, read_upload
from fedinet.web.api.params import Params, first

__all__ = ["routes"]

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


def _flag(params: Params, name: str) -> bool | None:
    value = first(params, name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValidationError(f"{name} must be true or false", field=name)


def _list(params: Params, name: str) -> list[str] | None:
    """A repeatable parameter (``name[]``); an empty value clears the list."""
    if name not in params:
        return None
    value = params[name]
    items = [value] if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()]


async def update_credentials(request: Request) -> Response:
    me = await require_scope(request, "write:accounts")
    runtime: Runtime = request.app.state.runtime
    params, files = await read_upload(request, runtime.settings, ("avatar", "header"))
    change = ProfileChange(
        display_name=first(params, "display_name"),
        bio=first(params, "note"),
        locked=_flag(params, "locked"),
        discoverable=_flag(params, "discoverable"),
        motives=_list(params, "motives"),
        private_motives=_list(params, "private_motives"),
        interests=_list(params, "interests"),
        region=first(params, "region"),
        follow_note_policy=first(params, "follow_note_policy"),
        hide_collections=_flag(params, "hide_collections"),
        avatar=files.get("avatar"),
        header=files.get("header"),
    )
    async with runtime.pool.acquire() as conn:
        actor, user = await update_profile(conn, runtime.settings, me.actor, me.user, change)
        stats = await counts_db.count_account_stats(conn, [actor.id])
        pending = await counts_db.count_pending_follow_requests(conn, actor.id)
    return JSONResponse(
        credential_account_to_mastodon(
            actor,
            user,
            runtime.settings,
            stats.get(actor.id, AccountCounts()),
            follow_requests_count=pending,
        )
    )


routes: list[BaseRoute] = [
    limit_uploads(
        Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
        files=2,
    ),
]
