"""fedinet's own server-rendered web pages (jinja2 templates in ``templates/``, shipped as
``fedinet.templates``; CSS and one small JS file in ``fedinet/web/pages/static/``, served
at ``/static/``). Everything works without JavaScript: forms post, then redirect.

Wire in with ``routes`` (which includes the ``/static`` mount) and ``EXCEPTION_HANDLERS``
(HTML error pages for browsers, the JSON answers of ``fedinet.web.errors`` for the rest).

How to write a page
===================

Everything below comes from :mod:`fedinet.web.pages.kit`::

    from fedinet.web.pages.kit import (
        Form, read_form, redirect, render_page, require_admin, require_member, runtime,
        settings, viewer,
    )

**Who is looking.** ``await viewer(request)`` is the logged-in member
(:class:`~fedinet.services.web_sessions.Viewer`: ``.user``, ``.actor``, ``.session``,
``.is_admin``) or ``None``. ``await require_member(request)`` returns the viewer or
raises ``Unauthorized(reason="login_required")``, which the error handler turns into a
redirect to ``/login?next=<this page>``. ``await require_admin(request)`` also requires
``user.is_admin`` and otherwise raises ``PermissionDenied`` → a 403 page. Both are
looked up once per request.

**Rendering.** ``await render_page(request, "settings.html", status_code=200, **values)``
renders a template that ``{% extends "base.html" %}`` (blocks ``title``, ``head``,
``content``) and adds the security headers (strict CSP without inline script or style,
``X-Frame-Options: DENY``, ``nosniff``, ``no-store``). Every template also gets
``viewer``, ``csrf_token``, ``flash`` (a one-time message), ``nav`` (the current path),
``nav_items``, ``pending_requests``, ``instance_domain`` and ``version``. Autoescaping is
on: never mark user text ``|safe``; HTML from members or remote servers is stored
sanitized (``fedinet.ap.sanitize``) and is the only thing shown with ``|safe``.
No ``style=`` attributes or ``<style>``/``<script>`` elements: put CSS in
``static/fedinet.css`` and behaviour in ``static/fedinet.js``.

**Navigation.** Append a :class:`~fedinet.web.pages.kit.NavItem` to ``kit.NAV`` when
your module is imported, e.g. ``NAV.insert(4, NavItem("/settings", "Settings"))`` or
``NAV.append(NavItem("/admin", "Admin", "admin"))``.

**Forms and CSRF.** In the template::

    {% import "_forms.html" as forms with context %}
    {{ forms.errors(form) }}                      {# summary with links to the fields #}
    <form method="post" action="/settings/profile" novalidate>
      {{ forms.csrf() }}                          {# required in every POST form #}
      {{ forms.field(form, "display_name", "Name", hint="Up to 30 characters",
                     attrs={"maxlength": 30}) }}
      {{ forms.field(form, "bio", "Bio", type="textarea") }}
      {{ forms.field(form, "policy", "Notes", type="select",
                     options=[("strict", "Strict"), ("open", "Open")]) }}
      <button type="submit">Save</button>
    </form>

``forms.field`` keeps the submitted value (never for passwords), shows the error next
to the field with ``aria-invalid``/``aria-describedby``. Checkboxes and cards: read
``form.getlist(name)`` in the template (see ``signup.html``).

In the handler, the GET shows ``Form.initial(name=value, ...)`` (or ``Form()``); the
POST starts with ``form = await read_form(request)`` — it reads the body and checks the
CSRF token and the ``Origin`` header, raising ``PermissionDenied(reason="csrf")`` (a
readable 403 page) when they are wrong. Then::

    form = await read_form(request)
    me = await require_member(request)
    if not form.get("display_name"):
        form.error("display_name", "Please give a name.")
    try:
        ...  # call a service
    except ValidationError as exc:
        form.add(exc, "display_name")             # uses exc.field when the service set it
    if not form.ok:
        return await render_page(request, "settings.html", status_code=422, form=form)
    return redirect(request, "/settings", message="Saved.")   # 303 + one-time flash

Give POST routes ``max_body_size=MAX_FORM_BODY``. ``tests/web/pages/test_security.py``
posts to every POST route of ``routes`` without a token and expects the 403 page, so a
handler that forgets ``read_form`` fails the suite.

**What exists for the Settings and Admin pages.** Sessions of a member:
``fedinet.db.web_sessions.list_sessions_of_user`` / ``delete_session_of_user`` (the
current one is ``viewer.session.id``). Invitations for registration mode ``invite``:
``fedinet.services.registrations.create_invite`` (the code is shown once; the sign-up
link is ``/signup?invite=CODE``), ``db.web_sessions.list_invites`` / ``revoke_invite``.
Registration modes and their meaning: :mod:`fedinet.services.registrations`. Profile
changes go through ``fedinet.services.profile.update_profile``. Discover and profile read
models: :mod:`fedinet.services.people`.

**Errors.** Raise the usual ``fedinet.errors`` (``NotFound`` → 404 page,
``PermissionDenied`` → 403, ``RateLimited`` → 429 with ``Retry-After``); the handlers
render ``error.html``. Sessions are opaque, ``HttpOnly``, ``SameSite=Lax`` cookies,
``Secure`` when ``FEDINET_URL`` is https, stored in ``web_sessions``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from fedinet.web.pages import admin, auth, discover, follow, home, settings, signup
from fedinet.web.pages.errors import EXCEPTION_HANDLERS

__all__ = ["EXCEPTION_HANDLERS", "routes"]

routes: list[BaseRoute] = [
    *signup.routes,
    *auth.routes,
    *home.routes,
    *discover.routes,
    *follow.routes,
    *settings.routes,
    *admin.routes,
    Mount("/static", StaticFiles(packages=[("fedinet.web.pages", "static")]), name="static"),
]
