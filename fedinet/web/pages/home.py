"""Home: the timeline of the accounts a member follows, with a composer; and the forms
behind every post's reply, like and boost buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.config import Settings
from fedinet.db import timelines as timelines_db
from fedinet.db.types import Connection
from fedinet.errors import NotFound, ValidationError
from fedinet.federation.lookup import resolve_acct
from fedinet.models import Actor, Status
from fedinet.services import people, statuses
from fedinet.services.media import media_url
from fedinet.services.statuses import MAX_CHARACTERS
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    Form,
    read_form,
    redirect,
    render_page,
    require_member,
    runtime,
    safe_next,
)

__all__ = ["routes"]

PAGE_SIZE = 20
VISIBILITY_OPTIONS = [
    ("public", "Public"),
    ("unlisted", "Quiet public (not in public timelines)"),
    ("private", "Followers only"),
    ("direct", "Only people mentioned"),
]


def _id(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and int(raw) < 2**63 else None


async def _home(request: Request, form: Form, *, status_code: int = 200) -> Response:
    me = await require_member(request)
    max_id = _id(request.query_params.get("max_id"))
    pool = runtime(request).pool
    rows = await timelines_db.home_timeline(pool, me.actor.id, limit=PAGE_SIZE + 1, max_id=max_id)
    local_media = media_url(runtime(request).settings, "")
    items = await people.timeline_items(pool, rows[:PAGE_SIZE], me.actor, local_media=local_media)
    older = f"/home?max_id={rows[PAGE_SIZE - 1].id}" if len(rows) > PAGE_SIZE else ""
    return await render_page(
        request,
        "home.html",
        status_code=status_code,
        form=form,
        me=me,
        items=items,
        older=older,
        paged=max_id is not None,
        visibility_options=VISIBILITY_OPTIONS,
        max_chars=MAX_CHARACTERS,
    )


async def home(request: Request) -> Response:
    return await _home(request, Form.initial(visibility="public"))


async def post(request: Request) -> Response:
    form = await read_form(request)
    me = await require_member(request)
    rt = runtime(request)

    async def resolve(acct: str) -> Actor | None:
        return await resolve_acct(rt, acct, resolve=True)

    reply_to = form.get("in_reply_to_id")
    try:
        async with rt.pool.acquire() as conn:
            await statuses.post_status(
                conn,
                rt.settings,
                me.actor,
                text=form.get("text"),
                resolve=resolve,
                visibility=form.get("visibility") or "public",
                spoiler_text=form.get("spoiler_text").strip(),
                in_reply_to_id=_id(reply_to),
            )
    except ValidationError as exc:
        field = exc.field if exc.field in ("spoiler_text", "visibility") else "text"
        form.error(field, exc.message[:1].upper() + exc.message[1:] + ".")
        return await _home(request, form, status_code=422)
    target = safe_next(form.get("return_to"), "/home")
    return redirect(request, target, message="Posted." if not reply_to else "Reply posted.")


Action = Callable[[Connection, Settings, Actor, int], Awaitable[Status]]


def _status_action(action: Action, done: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        form = await read_form(request)
        me = await require_member(request)
        status_id = _id(request.path_params["id"])
        if status_id is None:
            raise NotFound("There is no such post.")
        rt = runtime(request)
        async with rt.pool.acquire() as conn:
            await action(conn, rt.settings, me.actor, status_id)
        return redirect(request, safe_next(form.get("return_to"), "/home"), message=done)

    return endpoint


routes: list[BaseRoute] = [
    Route("/home", home, methods=["GET", "HEAD"]),
    Route("/statuses", post, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route(
        "/statuses/{id}/favourite",
        _status_action(statuses.favourite, "Liked."),
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
    Route(
        "/statuses/{id}/unfavourite",
        _status_action(statuses.unfavourite, "Like removed."),
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
    Route(
        "/statuses/{id}/reblog",
        _status_action(statuses.reblog, "Boosted."),
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
    Route(
        "/statuses/{id}/unreblog",
        _status_action(statuses.unreblog, "Boost removed."),
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
]
