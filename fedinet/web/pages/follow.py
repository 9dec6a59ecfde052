"""Following with a note: the composer (``/@acct/follow``) with its live check, and the
follow requests page (``/follow_requests``) with accept, reject and block."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fedinet.db import actors as actors_db
from fedinet.errors import NoteRefused, NotFound, RateLimited, ValidationError
from fedinet.models import Actor
from fedinet.services import blocks, follows, people
from fedinet.services.follows import FollowIntent
from fedinet.vocabulary import MOTIVE_KEYS, MOTIVES
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    Form,
    read_form,
    redirect,
    render_page,
    require_member,
    runtime,
    settings,
)

__all__ = ["routes"]

MAX_NOTE = 1000


def _profile_path(actor: Actor) -> str:
    return f"/@{actor.username}" if actor.is_local else f"/@{actor.username}@{actor.domain}"


async def _target(request: Request, me: Actor) -> Actor:
    target = await people.find_person(
        runtime(request).pool, settings(request), request.path_params["acct"]
    )
    if target.id == me.id:
        raise NotFound("You cannot follow yourself.")
    return target


async def _composer(
    request: Request,
    me: Actor,
    target: Actor,
    form: Form,
    *,
    status_code: int = 200,
    fix: str = "",
) -> Response:
    async with runtime(request).pool.acquire() as conn:
        context = await people.composer(conn, me, target)
    return await render_page(
        request,
        "follow.html",
        status_code=status_code,
        form=form,
        c=context,
        target=target,
        profile_path=_profile_path(target),
        motive_options=[(m.key, m.label.capitalize()) for m in MOTIVES],
        max_note=MAX_NOTE,
        fix=fix,
    )


async def compose(request: Request) -> Response:
    me = await require_member(request)
    target = await _target(request, me.actor)
    async with runtime(request).pool.acquire() as conn:
        ground = await follows.shared_ground(conn, me.actor, target)
    motive = ground.motives[0] if ground.motives else ""
    connect = request.query_params.get("connect", "")
    form = Form.initial(motive=motive, connect_code=connect[:64])
    return await _composer(request, me.actor, target, form)


async def send(request: Request) -> Response:
    form = await read_form(request)
    me = await require_member(request)
    target = await _target(request, me.actor)
    note = form.get("note").strip()
    motive = form.get("motive") or None
    if motive is not None and motive not in MOTIVE_KEYS:
        form.error("motive", "Choose one of the motives, or none.")
    if len(note) > MAX_NOTE:
        form.error("note", f"The note is longer than {MAX_NOTE} characters.")
    if not form.ok:
        return await _composer(request, me.actor, target, form, status_code=422)
    intent = FollowIntent(note=note, motive=motive, connect_code=form.get("connect_code") or None)
    try:
        async with runtime(request).pool.acquire() as conn:
            made = await follows.follow(conn, settings(request), me.actor, target, intent)
    except NoteRefused as exc:
        form.error("note", exc.message)
        return await _composer(request, me.actor, target, form, status_code=422, fix=exc.hint)
    except RateLimited as exc:
        form.error("note", exc.message[:1].upper() + exc.message[1:] + ".")
        response = await _composer(request, me.actor, target, form, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationError as exc:
        # every field but the motive is shown at the note (the connect code is hidden)
        field = "motive" if exc.field == "motive" else "note"
        form.error(field, exc.message[:1].upper() + exc.message[1:] + ".")
        return await _composer(request, me.actor, target, form, status_code=422)
    name = target.display_name or target.username
    message = (
        f"You now follow {name}."
        if made.state == "accepted"
        else f"Your request and note are on their way to {name}."
    )
    return redirect(request, _profile_path(target), message=message)


async def check(request: Request) -> Response:
    """The composer's live check: ``{"ok", "reason", "message", "hint"}`` from the same
    rules the request will meet (nothing is stored or sent)."""
    form = await read_form(request)
    me = await require_member(request)
    target = await _target(request, me.actor)
    async with runtime(request).pool.acquire() as conn:
        result = await people.check_follow_note(conn, me.actor, target, form.get("note")[:MAX_NOTE])
    return JSONResponse(
        {"ok": result.ok, "reason": result.reason, "message": result.message, "hint": result.hint},
        headers={"Cache-Control": "no-store"},
    )


async def unfollow(request: Request) -> Response:
    await read_form(request)
    me = await require_member(request)
    target = await _target(request, me.actor)
    async with runtime(request).pool.acquire() as conn:
        await follows.unfollow(conn, settings(request), me.actor, target)
    name = target.display_name or target.username
    return redirect(request, _profile_path(target), message=f"You no longer follow {name}.")


# --------------------------------------------------------------------------- requests


async def requests_page(request: Request) -> Response:
    me = await require_member(request)
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1
    async with runtime(request).pool.acquire() as conn:
        views, total = await people.follow_requests(conn, me.actor, page=page)
    last = max(1, -(-total // people.REQUESTS_PAGE))
    return await render_page(
        request,
        "follow_requests.html",
        requests=views,
        total=total,
        newer=f"/follow_requests?page={page - 1}" if page > 1 else "",
        older=f"/follow_requests?page={page + 1}" if page < last else "",
    )


async def _requester(request: Request) -> Actor:
    raw = request.path_params["id"]
    actor = (
        await actors_db.get_actor_by_id(runtime(request).pool, int(raw)) if raw.isdigit() else None
    )
    if actor is None:
        raise NotFound("There is no such follow request.")
    return actor


async def answer(request: Request) -> Response:
    form = await read_form(request)
    me = await require_member(request)
    requester = await _requester(request)
    action = request.path_params["action"]
    name = requester.display_name or requester.username
    async with runtime(request).pool.acquire() as conn:
        if action == "accept":
            await follows.accept_follow_request(conn, settings(request), me.actor, requester)
            message = f"{name} can now follow you."
        elif action == "reject":
            reason = form.get("reason").strip()[:500] or None
            await follows.reject_follow_request(
                conn, settings(request), me.actor, requester, reason=reason
            )
            message = f"You declined {name}'s request" + (" and told them why." if reason else ".")
        elif action == "block":
            await blocks.block(conn, settings(request), me.actor, requester)
            message = f"You blocked {name}."
        else:
            raise NotFound("No such action.")
    return redirect(request, "/follow_requests", message=message)


routes: list[BaseRoute] = [
    Route("/@{acct}/follow", compose, methods=["GET", "HEAD"]),
    Route("/@{acct}/follow", send, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/@{acct}/follow/check", check, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/@{acct}/unfollow", unfollow, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/follow_requests", requests_page, methods=["GET", "HEAD"]),
    Route(
        "/follow_requests/{id}/{action:str}", answer, methods=["POST"], max_body_size=MAX_FORM_BODY
    ),
]
