"""Logging in and out, and resetting a forgotten password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.errors import RateLimited, ValidationError
from fedinet.services import web_sessions
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    Form,
    client_ip,
    end_login,
    read_form,
    redirect,
    render_page,
    runtime,
    safe_next,
    set_login,
    settings,
    viewer,
)

__all__ = ["routes"]


async def login_form(request: Request) -> Response:
    if await viewer(request) is not None:
        return redirect(request, safe_next(request.query_params.get("next")))
    form = Form.initial(next=safe_next(request.query_params.get("next")))
    return await render_page(request, "login.html", form=form)


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    pool = runtime(request).pool
    try:
        user = await web_sessions.log_in(
            pool, form.get("login"), form.get("password"), ip=client_ip(request)
        )
    except RateLimited as exc:
        form.error("password", exc.message)
        return await render_page(
            request,
            "login.html",
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
            form=form,
        )
    except ValidationError as exc:
        form.add(exc, "password")
        return await render_page(request, "login.html", status_code=422, form=form)
    previous = await viewer(request)
    if previous is not None:
        await web_sessions.end_session(pool, previous.session.id)
    token, _ = await web_sessions.start_session(
        pool, user, user_agent=request.headers.get("user-agent", ""), ip=client_ip(request)
    )
    response = redirect(request, safe_next(form.get("next")))
    set_login(request, response, token)
    return response


async def logout(request: Request) -> Response:
    await read_form(request)
    found = await viewer(request)
    if found is not None:
        await web_sessions.end_session(runtime(request).pool, found.session.id)
    response = redirect(request, "/", message="You are logged out.")
    end_login(response)
    return response


async def forgot_form(request: Request) -> Response:
    return await render_page(request, "password_forgot.html", sent=False)


async def forgot_submit(request: Request) -> Response:
    form = await read_form(request)
    email = form.get("email").strip()
    if "@" not in email:
        form.error("email", "Type the email address of your account.")
        return await render_page(
            request, "password_forgot.html", status_code=422, form=form, sent=False
        )
    await web_sessions.request_password_reset(runtime(request).pool, settings(request), email)
    return await render_page(request, "password_forgot.html", sent=True)


async def reset_form(request: Request) -> Response:
    token = request.path_params["token"]
    usable = await web_sessions.usable_reset_token(runtime(request).pool, token)
    return await render_page(
        request,
        "password_reset.html",
        status_code=200 if usable else 404,
        token=token,
        usable=usable,
    )


async def reset_submit(request: Request) -> Response:
    form = await read_form(request)
    token = request.path_params["token"]
    try:
        await web_sessions.reset_password(runtime(request).pool, token, form.get("password"))
    except ValidationError as exc:
        if exc.field == "token":
            return await render_page(
                request, "password_reset.html", status_code=404, token=token, usable=False
            )
        form.add(exc, "password")
        return await render_page(
            request, "password_reset.html", status_code=422, form=form, token=token, usable=True
        )
    response = redirect(
        request, "/login", message="Your password is changed. Log in with the new one."
    )
    end_login(response)
    return response


routes: list[BaseRoute] = [
    Route("/login", login_form, methods=["GET", "HEAD"]),
    Route("/login", login_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/logout", logout, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/password/forgot", forgot_form, methods=["GET", "HEAD"]),
    Route("/password/forgot", forgot_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/password/reset/{token}", reset_form, methods=["GET", "HEAD"]),
    Route("/password/reset/{token}", reset_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
]
