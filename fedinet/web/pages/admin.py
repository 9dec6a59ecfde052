"""The admin pages, for members with admin rights: ``/admin`` (registration mode, sending
limits, the instance's texts), ``/admin/members`` (sign-ups waiting for approval,
invitations), ``/admin/rules``, ``/admin/canned`` (the canned-invitation
list of the generic-note rule), ``/admin/domains`` (domain blocks), ``/admin/reports``
and ``/admin/queue``. They call the same services as ``fedinet admin …``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.errors import Conflict, NotFound, ValidationError
from fedinet.services.admin import domains, instance, invites, members, queue, reports
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    NAV,
    Form,
    NavItem,
    Viewer,
    read_form,
    redirect,
    render_page,
    require_admin,
    runtime,
    settings,
)

__all__ = ["routes"]

NAV.append(NavItem("/admin", "Admin", "admin"))

SECTIONS = (
    ("/admin", "Server"),
    ("/admin/members", "Sign-ups and invitations"),
    ("/admin/rules", "Rules"),
    ("/admin/canned", "Canned invitations"),
    ("/admin/domains", "Domain blocks"),
    ("/admin/reports", "Reports"),
    ("/admin/queue", "Delivery queue"),
)
MODE_CHOICES = (
    ("open", "Open: anyone may sign up"),
    ("approved", "Approved: anyone may sign up, an admin approves each account"),
    ("invite", "Invite only: sign-up needs an invitation code"),
    ("closed", "Closed: nobody may sign up"),
)
assert tuple(value for value, _ in MODE_CHOICES) == instance.REGISTRATION_MODES
SEVERITY_CHOICES = (
    ("suspend", "Suspend: no federation at all, follows severed"),
    ("silence", "Silence (limit): hidden from public timelines and strangers"),
)


async def _render(
    request: Request, template: str, me: Viewer, *, status_code: int = 200, **values: Any
) -> Response:
    return await render_page(
        request,
        f"admin/{template}",
        status_code=status_code,
        me=me,
        sections=SECTIONS,
        section_label="Admin",
        **values,
    )


def _number(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("There is nothing here.")
    return int(raw)


# --------------------------------------------------------------------------- server


async def _server_page(
    request: Request,
    me: Viewer,
    *,
    status_code: int = 200,
    mode_form: Form | None = None,
    limits_form: Form | None = None,
    about_form: Form | None = None,
) -> Response:
    pool = runtime(request).pool
    if mode_form is None:
        mode_form = Form.initial(registration_mode=await instance.get_registration_mode(pool))
    if limits_form is None:
        limits = await instance.get_sending_limits(pool)
        limits_form = Form.initial(**{name: str(value) for name, value in limits.items()})
    if about_form is None:
        about_form = Form.initial(**await instance.get_instance_texts(pool))
    return await _render(
        request,
        "server.html",
        me,
        status_code=status_code,
        mode_form=mode_form,
        limits_form=limits_form,
        about_form=about_form,
        modes=MODE_CHOICES,
    )


async def server(request: Request) -> Response:
    me = await require_admin(request)
    return await _server_page(request, me)


async def registration_submit(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        await instance.set_registration_mode(runtime(request).pool, form.get("registration_mode"))
    except ValidationError as exc:
        form.add(exc, "registration_mode")
        return await _server_page(request, me, status_code=422, mode_form=form)
    return redirect(request, "/admin", message="The registration mode is saved.")


async def limits_submit(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    changes = {name: form.get(name) for name in instance.SENDING_LIMIT_NAMES}
    try:
        await instance.set_sending_limits(runtime(request).pool, changes)
    except ValidationError as exc:
        form.add(exc, "per_day")
        return await _server_page(request, me, status_code=422, limits_form=form)
    return redirect(request, "/admin", message="The sending limits are saved.")


async def about_submit(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        async with runtime(request).pool.acquire() as conn:
            await instance.set_instance_texts(
                conn, {name: form.get(name) for name in instance.INSTANCE_TEXTS}
            )
    except ValidationError as exc:
        form.add(exc, "title")
        return await _server_page(request, me, status_code=422, about_form=form)
    return redirect(request, "/admin", message="The server's description is saved.")


# --------------------------------------------------------------------------- sign-ups


async def _members_page(
    request: Request, me: Viewer, *, form: Form | None = None, status_code: int = 200
) -> Response:
    pool = runtime(request).pool
    return await _render(
        request,
        "members.html",
        me,
        status_code=status_code,
        pending=await members.list_pending_members(pool),
        invitations=await invites.list_invites(pool),
        mode=await instance.get_registration_mode(pool),
        form=form or Form.initial(max_uses="1", days="7"),
    )


async def members_page(request: Request) -> Response:
    return await _members_page(request, await require_admin(request))


async def member_decide(request: Request) -> Response:
    form = await read_form(request)
    await require_admin(request)
    username = request.path_params["username"]
    try:
        async with runtime(request).pool.acquire() as conn:
            if form.get("action") == "approve":
                done = await members.approve_member(conn, settings(request), username)
                message = f"@{done.actor.username} may log in now."
            else:
                gone = await members.reject_member(conn, settings(request), username)
                message = f"The sign-up of @{gone.username} is turned down and removed."
    except Conflict as exc:  # decided meanwhile (another admin, a second click)
        message = exc.message[:1].upper() + exc.message[1:] + "."
    return redirect(request, "/admin/members", message=message)


async def invite_create(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        code, _ = await invites.create_invite(
            runtime(request).pool,
            created_by=me.user.id,
            max_uses=form.get("max_uses"),
            days=form.get("days"),
            comment=form.get("comment"),
        )
    except ValidationError as exc:
        form.add(exc, "max_uses")
        return await _members_page(request, me, form=form, status_code=422)
    url = invites.invite_url(settings(request), code)
    return redirect(
        request, "/admin/members", message=f"Invitation made; send this link (shown once): {url}"
    )


async def invite_revoke(request: Request) -> Response:
    await read_form(request)
    await require_admin(request)
    await invites.revoke_invite(runtime(request).pool, _number(request, "id"))
    return redirect(request, "/admin/members", message="The invitation no longer works.")


# --------------------------------------------------------------------------- rules


async def _rules_page(
    request: Request, me: Viewer, *, form: Form | None = None, status_code: int = 200
) -> Response:
    rules = await instance.get_rules(runtime(request).pool)
    return await _render(
        request, "rules.html", me, status_code=status_code, rules=rules, form=form or Form()
    )


async def rules_page(request: Request) -> Response:
    return await _rules_page(request, await require_admin(request))


async def rules_add(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        await instance.add_rule(runtime(request).pool, form.get("text"), form.get("hint"))
    except ValidationError as exc:
        form.add(exc, "text")
        return await _rules_page(request, me, form=form, status_code=422)
    return redirect(request, "/admin/rules", message="The rule is added.")


async def rules_remove(request: Request) -> Response:
    await read_form(request)
    await require_admin(request)
    await instance.remove_rule(runtime(request).pool, _number(request, "number"))
    return redirect(request, "/admin/rules", message="The rule is removed.")


# --------------------------------------------------------------------------- canned


async def _canned_page(
    request: Request, me: Viewer, *, form: Form | None = None, status_code: int = 200
) -> Response:
    items = await instance.list_canned_invitations(runtime(request).pool)
    return await _render(
        request, "canned.html", me, status_code=status_code, items=items, form=form or Form()
    )


async def canned_page(request: Request) -> Response:
    return await _canned_page(request, await require_admin(request))


async def canned_add(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        await instance.add_canned_invitation(runtime(request).pool, form.get("text"))
    except ValidationError as exc:
        form.add(exc, "text")
    except Conflict as exc:
        form.error("text", exc.message)
    if not form.ok:
        return await _canned_page(request, me, form=form, status_code=422)
    return redirect(request, "/admin/canned", message="The canned invitation is added.")


async def canned_remove(request: Request) -> Response:
    await read_form(request)
    await require_admin(request)
    await instance.remove_canned_invitation(runtime(request).pool, _number(request, "id"))
    return redirect(request, "/admin/canned", message="The canned invitation is removed.")


# --------------------------------------------------------------------------- domains


async def _domains_page(
    request: Request, me: Viewer, *, form: Form | None = None, status_code: int = 200
) -> Response:
    blocks = await domains.list_domain_blocks(runtime(request).pool)
    return await _render(
        request,
        "domains.html",
        me,
        status_code=status_code,
        blocks=blocks,
        form=form or Form.initial(severity="suspend"),
        severities=SEVERITY_CHOICES,
    )


async def domains_page(request: Request) -> Response:
    return await _domains_page(request, await require_admin(request))


async def domains_add(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        async with runtime(request).pool.acquire() as conn:
            done = await domains.block_domain(
                conn,
                settings(request),
                form.get("domain"),
                form.get("severity"),
                form.get("reason"),
            )
    except ValidationError as exc:
        form.add(exc, "domain")
        return await _domains_page(request, me, form=form, status_code=422)
    block = done.block
    if block.severity == "suspend":
        message = (
            f"{block.domain} is suspended: {done.follows_severed} follows severed, "
            f"{done.deliveries_cancelled} deliveries given up."
        )
    else:
        message = f"{block.domain} is silenced."
    return redirect(request, "/admin/domains", message=message)


async def domains_remove(request: Request) -> Response:
    form = await read_form(request)
    await require_admin(request)
    await domains.unblock_domain(runtime(request).pool, form.get("domain"))
    return redirect(
        request, "/admin/domains", message=f"The block on {form.get('domain')} is lifted."
    )


# --------------------------------------------------------------------------- reports


async def reports_page(request: Request) -> Response:
    me = await require_admin(request)
    show_all = request.query_params.get("all") == "1"
    found = await reports.list_reports(runtime(request).pool, include_resolved=show_all)
    return await _render(request, "reports.html", me, reports=found, show_all=show_all)


async def reports_resolve(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    suspend = form.get("action") == "suspend"
    try:
        async with runtime(request).pool.acquire() as conn:
            report = await reports.resolve_report(
                conn, _number(request, "id"), suspend=suspend, by=me.actor
            )
    except Conflict as exc:  # resolved meanwhile (another admin, a second click)
        return redirect(
            request, "/admin/reports", message=exc.message[:1].upper() + exc.message[1:] + "."
        )
    if suspend:
        message = f"Report #{report.id} resolved; @{report.target_acct} is suspended."
    else:
        message = f"Report #{report.id} dismissed."
    return redirect(request, "/admin/reports", message=message)


# --------------------------------------------------------------------------- queue


async def _queue_page(
    request: Request, me: Viewer, *, form: Form | None = None, status_code: int = 200
) -> Response:
    stats = await queue.queue_stats(runtime(request).pool)
    return await _render(
        request, "queue.html", me, status_code=status_code, stats=stats, form=form or Form()
    )


async def queue_page(request: Request) -> Response:
    return await _queue_page(request, await require_admin(request))


async def queue_retry(request: Request) -> Response:
    form = await read_form(request)
    me = await require_admin(request)
    try:
        async with runtime(request).pool.acquire() as conn:
            moved = await queue.retry_server(conn, form.get("server"))
    except ValidationError as exc:
        form.add(exc, "server")
        return await _queue_page(request, me, form=form, status_code=422)
    return redirect(
        request,
        "/admin/queue",
        message=f"{moved} deliveries to {form.get('server').strip()} will be tried now.",
    )


def _post(path: str, endpoint: Any) -> Route:
    return Route(path, endpoint, methods=["POST"], max_body_size=MAX_FORM_BODY)


routes: list[BaseRoute] = [
    Route("/admin", server, methods=["GET", "HEAD"]),
    _post("/admin/registration", registration_submit),
    _post("/admin/limits", limits_submit),
    _post("/admin/about", about_submit),
    Route("/admin/members", members_page, methods=["GET", "HEAD"]),
    _post("/admin/members/{username}/decide", member_decide),
    _post("/admin/invites", invite_create),
    _post("/admin/invites/{id}/revoke", invite_revoke),
    Route("/admin/rules", rules_page, methods=["GET", "HEAD"]),
    _post("/admin/rules", rules_add),
    _post("/admin/rules/{number}/remove", rules_remove),
    Route("/admin/canned", canned_page, methods=["GET", "HEAD"]),
    _post("/admin/canned", canned_add),
    _post("/admin/canned/{id}/remove", canned_remove),
    Route("/admin/domains", domains_page, methods=["GET", "HEAD"]),
    _post("/admin/domains", domains_add),
    _post("/admin/domains/remove", domains_remove),
    Route("/admin/reports", reports_page, methods=["GET", "HEAD"]),
    _post("/admin/reports/{id}/resolve", reports_resolve),
    Route("/admin/queue", queue_page, methods=["GET", "HEAD"]),
    _post("/admin/queue/retry", queue_retry),
]
