"""Joining: ``/signup`` (honouring the registration mode), plus the start and about pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.errors import Conflict, PermissionDenied, ValidationError
from fedinet.services import registrations, web_sessions
from fedinet.services.registrations import SignUp
from fedinet.vocabulary import MOTIVES
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    Form,
    client_ip,
    read_form,
    redirect,
    render_page,
    runtime,
    set_login,
    settings,
    viewer,
)

__all__ = ["routes"]


async def _render(request: Request, form: Form, *, status_code: int = 200) -> Response:
    pool = runtime(request).pool
    info = await registrations.instance_info(pool, settings(request))
    return await render_page(
        request,
        "signup.html",
        status_code=status_code,
        form=form,
        mode=info.mode,
        rules=info.rules,
        motives=MOTIVES,
        interests_in_use=await registrations.interests_in_use(pool, settings(request)),
    )


async def signup_form(request: Request) -> Response:
    if await viewer(request) is not None:
        return redirect(request, "/home")
    return await _render(request, Form.initial(invite=request.query_params.get("invite", "")))


async def signup_submit(request: Request) -> Response:
    form = await read_form(request)
    pool = runtime(request).pool
    info = await registrations.instance_info(pool, settings(request))
    sign_up = SignUp(
        username=form.get("username").strip().lstrip("@"),
        email=form.get("email").strip(),
        password=form.get("password"),
        motives=form.getlist("motives"),
        interests=registrations.split_interests(form.getlist("interests")),
        region=form.get("region"),
        bio=form.get("bio"),
        invite_code=form.get("invite"),
        agreed_to_rules=bool(form.get("agree")),
        rules_exist=bool(info.rules),
    )
    for name, message in registrations.check_sign_up(sign_up).items():
        form.error(name, message)
    if not form.ok:
        return await _render(request, form, status_code=422)
    try:
        async with pool.acquire() as conn:
            created = await registrations.sign_up(conn, settings(request), sign_up)
    except PermissionDenied as exc:
        form.error("username", exc.message)
        return await _render(request, form, status_code=403)
    except Conflict as exc:
        field = "email" if "email" in exc.message else "username"
        form.error(field, exc.message[:1].upper() + exc.message[1:] + ".")
        return await _render(request, form, status_code=422)
    except ValidationError as exc:
        form.add(exc, "username")
        return await _render(request, form, status_code=422)
    if not created.user.approved:
        return await render_page(request, "signup_pending.html", username=created.actor.username)
    token, _ = await web_sessions.start_session(
        pool, created.user, user_agent=request.headers.get("user-agent", ""), ip=client_ip(request)
    )
    response = redirect(
        request,
        "/discover",
        message=f"Welcome, @{created.actor.username}! Here are people you share ground with.",
    )
    set_login(request, response, token)
    return response


async def landing(request: Request) -> Response:
    if await viewer(request) is not None:
        return redirect(request, "/home")
    info = await registrations.instance_info(runtime(request).pool, settings(request))
    return await render_page(
        request, "landing.html", title=info.title, description=info.description, mode=info.mode
    )


async def about(request: Request) -> Response:
    info = await registrations.instance_info(runtime(request).pool, settings(request))
    return await render_page(request, "about.html", info=info, motives=MOTIVES)


routes: list[BaseRoute] = [
    Route("/", landing, methods=["GET", "HEAD"]),
    Route("/about", about, methods=["GET", "HEAD"]),
    Route("/signup", signup_form, methods=["GET", "HEAD"]),
    Route("/signup", signup_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
]
