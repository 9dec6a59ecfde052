"""A member's settings: ``/settings`` (profile, motives, interests, region, note policy,
visibility), ``/settings/links`` (connect links) and ``/settings/access`` (logged-in
browsers and authorized applications)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.sanitize import html_to_text
from fedinet.errors import NotFound, ValidationError
from fedinet.services import member_settings
from fedinet.services.profile import NOTE_POLICIES, ProfileChange, update_profile
from fedinet.services.registrations import split_interests
from fedinet.vocabulary import MOTIVES
from fedinet.web.pages.kit import (
    MAX_FORM_BODY,
    NAV,
    Form,
    NavItem,
    Viewer,
    read_form,
    redirect,
    render_page,
    require_member,
    runtime,
    settings,
)

__all__ = ["routes"]

NAV.insert(4, NavItem("/settings", "Settings"))

POLICY_CHOICES = (
    ("strict", "Strict: a personal note that mentions something of mine (recommended)"),
    ("standard", "Standard: a real note, but it need not mention me"),
    ("open", "Open: a note is welcome but optional"),
)
assert tuple(value for value, _ in POLICY_CHOICES) == NOTE_POLICIES

SECTIONS = (
    ("/settings", "Profile"),
    ("/settings/links", "Connect links"),
    ("/settings/access", "Sessions and apps"),
)


def _profile_form(me: Viewer) -> Form:
    actor, user = me.actor, me.user
    chosen = [*actor.motives, *user.private_motives]
    private = [
        m.key
        for m in MOTIVES
        if m.key in user.private_motives or (m.sensitive and m.key not in chosen)
    ]
    form = Form.initial(
        display_name=actor.display_name,
        bio=html_to_text(actor.summary),
        motives=chosen,
        private_motives=private,
        interests=", ".join(actor.interests),
        region=actor.region or "",
        follow_note_policy=user.follow_note_policy,
    )
    if actor.discoverable:
        form.data["discoverable"] = ["yes"]
    if actor.hide_collections:
        form.data["hide_collections"] = ["yes"]
    return form


async def _render_profile(
    request: Request, me: Viewer, form: Form, *, status_code: int = 200
) -> Response:
    return await render_page(
        request,
        "settings/profile.html",
        status_code=status_code,
        me=me,
        form=form,
        motives=MOTIVES,
        policies=POLICY_CHOICES,
        sections=SECTIONS,
    )


async def profile(request: Request) -> Response:
    me = await require_member(request)
    return await _render_profile(request, me, _profile_form(me))


async def profile_submit(request: Request) -> Response:
    form = await read_form(request)
    me = await require_member(request)
    motives = form.getlist("motives")
    change = ProfileChange(
        display_name=form.get("display_name").strip(),
        bio=form.get("bio").strip(),
        motives=motives,
        private_motives=[m for m in form.getlist("private_motives") if m in motives],
        interests=split_interests(form.get("interests")),
        region=form.get("region").strip(),
        follow_note_policy=form.get("follow_note_policy"),
        discoverable=bool(form.get("discoverable")),
        hide_collections=bool(form.get("hide_collections")),
    )
    try:
        async with runtime(request).pool.acquire() as conn:
            await update_profile(conn, settings(request), me.actor, me.user, change)
    except ValidationError as exc:
        form.error({"note": "bio"}.get(exc.field or "", exc.field or "display_name"), exc.message)
        return await _render_profile(request, me, form, status_code=422)
    return redirect(request, "/settings", message="Your profile is saved.")


# --------------------------------------------------------------------------- links


async def links(request: Request) -> Response:
    me = await require_member(request)
    found = await member_settings.list_connect_links(runtime(request).pool, me.actor)
    shown = [(link, member_settings.connect_link_url(me.actor, link)) for link in found]
    return await render_page(request, "settings/links.html", me=me, links=shown, sections=SECTIONS)


async def links_create(request: Request) -> Response:
    await read_form(request)
    me = await require_member(request)
    async with runtime(request).pool.acquire() as conn:
        await member_settings.new_connect_link(conn, settings(request), me.actor)
    return redirect(
        request,
        "/settings/links",
        message="A new connect link is ready: copy it and give it to someone you know.",
    )


async def links_revoke(request: Request) -> Response:
    await read_form(request)
    me = await require_member(request)
    code = request.path_params["code"]
    await member_settings.revoke_connect_link(runtime(request).pool, me.actor, code)
    return redirect(request, "/settings/links", message="The link no longer works.")


# --------------------------------------------------------------------------- access


async def access(request: Request) -> Response:
    me = await require_member(request)
    pool = runtime(request).pool
    return await render_page(
        request,
        "settings/access.html",
        me=me,
        sessions=await member_settings.list_sessions(pool, me.user.id),
        apps=await member_settings.list_authorized_apps(pool, me.user.id),
        sections=SECTIONS,
    )


def _id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("There is nothing here.")
    return int(raw)


async def session_revoke(request: Request) -> Response:
    await read_form(request)
    me = await require_member(request)
    session_id = _id(request)
    await member_settings.revoke_session(runtime(request).pool, me.user.id, session_id)
    if session_id == me.session.id:
        return redirect(request, "/login", message="You are logged out.")
    return redirect(request, "/settings/access", message="That browser is logged out.")


async def app_revoke(request: Request) -> Response:
    await read_form(request)
    me = await require_member(request)
    await member_settings.revoke_authorized_app(runtime(request).pool, me.user.id, _id(request))
    return redirect(request, "/settings/access", message="That application no longer has access.")


routes: list[BaseRoute] = [
    Route("/settings", profile, methods=["GET", "HEAD"]),
    Route("/settings", profile_submit, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route("/settings/links", links, methods=["GET", "HEAD"]),
    Route("/settings/links", links_create, methods=["POST"], max_body_size=MAX_FORM_BODY),
    Route(
        "/settings/links/{code}/revoke",
        links_revoke,
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
    Route("/settings/access", access, methods=["GET", "HEAD"]),
    Route(
        "/settings/sessions/{id}/revoke",
        session_revoke,
        methods=["POST"],
        max_body_size=MAX_FORM_BODY,
    ),
    Route("/settings/apps/{id}/revoke", app_revoke, methods=["POST"], max_body_size=MAX_FORM_BODY),
]
