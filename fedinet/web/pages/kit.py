"""The building blocks every page uses; see the package docstring for how to use them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fedinet import __version__
from fedinet.config import Settings
from fedinet.db.counts import count_pending_follow_requests
from fedinet.errors import PermissionDenied, Unauthorized, ValidationError
from fedinet.runtime import Runtime
from fedinet.services import web_sessions
from fedinet.services.web_sessions import Viewer
from fedinet.web.templating import environment

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "FLASH_COOKIE",
    "MAX_FORM_BODY",
    "NAV",
    "PAGE_HEADERS",
    "SESSION_COOKIE",
    "Form",
    "NavItem",
    "Viewer",
    "client_ip",
    "csrf_token",
    "end_login",
    "flash",
    "login_url",
    "nav_items",
    "read_form",
    "redirect",
    "render_page",
    "require_admin",
    "require_member",
    "runtime",
    "safe_next",
    "set_login",
    "settings",
    "viewer",
]

SESSION_COOKIE: Final = "fedinet_session"
CSRF_COOKIE: Final = "fedinet_csrf"
FLASH_COOKIE: Final = "fedinet_flash"
CSRF_FIELD: Final = "csrf_token"
_CSRF_MAX_AGE: Final = 30 * 24 * 3600
_MAX_FIELDS: Final = 200
MAX_FORM_BODY: Final = 64 * 1024

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_VIEWER_KEY: Final = "fedinet_viewer"


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link of the main navigation. ``who``: ``member``, ``admin``, ``anonymous`` or
    ``all``. ``{username}`` in ``path`` becomes the viewer's username."""

    path: str
    label: str
    who: str = "member"


NAV: list[NavItem] = [
    NavItem("/home", "Home"),
    NavItem("/discover", "Discover", "all"),
    NavItem("/follow_requests", "Requests"),
    NavItem("/@{username}", "Profile"),
    NavItem("/login", "Log in", "anonymous"),
    NavItem("/signup", "Sign up", "anonymous"),
]
"""The main navigation, in order. Other page modules append their entries here (e.g.
``NAV.insert(4, NavItem("/settings", "Settings"))``) when they are imported."""


def nav_items(found: Viewer | None) -> list[NavItem]:
    shown = []
    for item in NAV:
        if item.who == "all" or (
            (item.who == "anonymous" and found is None)
            or (item.who == "member" and found is not None)
            or (item.who == "admin" and found is not None and found.user.is_admin)
        ):
            path = item.path.replace("{username}", found.actor.username if found else "")
            shown.append(NavItem(path, item.label, item.who))
    return shown


_MISSING: Final = object()


def runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


# --------------------------------------------------------------------------- who is it


async def viewer(request: Request) -> Viewer | None:
    """The logged-in member, or None (looked up once per request, on one connection,
    together with the number of follow requests waiting for them)."""
    cached = getattr(request.state, _VIEWER_KEY, _MISSING)
    if cached is not _MISSING:
        assert cached is None or isinstance(cached, Viewer)
        return cached
    found = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with runtime(request).pool.acquire() as conn:
            found = await web_sessions.resolve_session(conn, token)
            if found is not None:
                request.state.fedinet_pending = await count_pending_follow_requests(
                    conn, found.actor.id
                )
    setattr(request.state, _VIEWER_KEY, found)
    return found


async def require_member(request: Request) -> Viewer:
    """The logged-in member; ``Unauthorized`` otherwise, which the error handler turns
    into a redirect to the login page (coming back here afterwards)."""
    found = await viewer(request)
    if found is None:
        raise Unauthorized("Log in to see this page.", reason="login_required")
    return found


async def require_admin(request: Request) -> Viewer:
    """A logged-in admin; a 403 page for other members."""
    found = await require_member(request)
    if not found.user.is_admin:
        raise PermissionDenied("Only the server's admins may open this page.", reason="admin")
    return found


# --------------------------------------------------------------------------- CSRF


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _csrf_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE)
    return nonce if nonce and 16 <= len(nonce) <= 64 else None


def _ensure_nonce(request: Request) -> str:
    nonce = _csrf_nonce(request) or getattr(request.state, "fedinet_new_csrf", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.fedinet_new_csrf = nonce
    return nonce


def _csrf_for(request: Request, nonce: str, session_id: int | None) -> str:
    return _mac(settings(request).secret_key, "web-csrf", f"{nonce}:{session_id or ''}")


async def csrf_token(request: Request) -> str:
    """The token every form of this request must carry in its ``csrf_token`` field: an
    HMAC of a random per-browser cookie and the session, so it changes at login."""
    found = await viewer(request)
    return _csrf_for(request, _ensure_nonce(request), found.session.id if found else None)


def _same_origin(request: Request, origin: str) -> bool:
    """Whether a form was sent from this server: from its configured URL, or from the
    address the browser used to reach it (``http://127.0.0.1:8000`` when the URL says
    ``localhost:8000``). A browser names the page's own site in ``Origin``, and a page
    elsewhere cannot make it send this server's ``Host`` with a foreign ``Origin``."""
    if origin == settings(request).url:
        return True
    host = request.headers.get("host")
    return host is not None and origin == f"{request.url.scheme}://{host}"


async def _check_csrf(request: Request, submitted: str | None) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(request, origin.rstrip("/")):
        raise PermissionDenied(
            "This form was sent from another site, so it was refused.", reason="csrf"
        )
    nonce = _csrf_nonce(request)
    found = await viewer(request)
    expected = _csrf_for(request, nonce, found.session.id if found else None) if nonce else None
    if expected is None or not submitted or not hmac.compare_digest(expected, submitted):
        raise PermissionDenied(
            "This form has expired or did not come from this site. "
            "Go back, reload the page and try again.",
            reason="csrf",
        )


# --------------------------------------------------------------------------- forms


@dataclass(slots=True)
class Form:
    """Submitted (or initial) form values plus errors by field name.

    ``form.get(name)`` and ``form.getlist(name)`` read values; ``form.error(name, msg)``
    records a problem; ``form.ok`` is true when there is none. Templates show both with
    the macros of ``_forms.html``.
    """

    data: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def initial(cls, **values: str | list[str]) -> Form:
        return cls({k: v if isinstance(v, list) else [v] for k, v in values.items()})

    def get(self, name: str, default: str = "") -> str:
        values = self.data.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.data.get(name, []))

    def has(self, name: str) -> bool:
        return name in self.data

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def add(self, exc: ValidationError, default_field: str = "") -> None:
        """Record a service's ``ValidationError`` next to its field."""
        self.error(exc.field or default_field, exc.message)

    @property
    def ok(self) -> bool:
        return not self.errors


async def read_form(request: Request) -> Form:
    """Read a POSTed form and check its CSRF token and origin. Every POST handler of the
    pages starts with this; a bad token raises ``PermissionDenied`` (a 403 page)."""
    data: dict[str, list[str]] = {}
    form: FormData = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    try:
        for key, value in form.multi_items():
            if isinstance(value, str):
                data.setdefault(key, []).append(value)
    finally:
        await form.close()
    submitted = data.get(CSRF_FIELD)
    await _check_csrf(request, submitted[0] if submitted else None)
    data.pop(CSRF_FIELD, None)
    return Form(data)


# --------------------------------------------------------------------------- responses


def _secure(request: Request) -> bool:
    return settings(request).scheme == "https"


def _finish(request: Request, response: Response) -> Response:
    new_nonce = getattr(request.state, "fedinet_new_csrf", None)
    if new_nonce is not None:
        response.set_cookie(
            CSRF_COOKIE,
            new_nonce,
            max_age=_CSRF_MAX_AGE,
            path="/",
            secure=_secure(request),
            httponly=True,
            samesite="lax",
        )
    if request.cookies.get(FLASH_COOKIE) and not getattr(request.state, "fedinet_flash", None):
        response.delete_cookie(FLASH_COOKIE, path="/")
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _read_flash(request: Request) -> str:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return ""
    text, _, mac = raw.rpartition(".")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    expected = _mac(settings(request).secret_key, "web-flash", decoded)
    return decoded if hmac.compare_digest(expected, mac) else ""


def flash(request: Request, response: Response, message: str) -> None:
    """Show ``message`` once, on the next page this browser renders (after a redirect)."""
    text = base64.urlsafe_b64encode(message.encode("utf-8")).decode("ascii").rstrip("=")
    mac = _mac(settings(request).secret_key, "web-flash", message)
    request.state.fedinet_flash = True
    response.set_cookie(
        FLASH_COOKIE,
        f"{text}.{mac}",
        max_age=300,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


async def render_page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` (which extends ``base.html``) with what every page has:
    ``viewer`` (or None), ``csrf_token``, ``flash``, ``nav`` (the current path),
    ``instance_domain``, ``version`` — plus ``values``."""
    found = await viewer(request)
    context: dict[str, Any] = {
        "viewer": found,
        "csrf_token": await csrf_token(request),
        "flash": _read_flash(request),
        "nav": request.url.path,
        "pending_requests": 0,
        "nav_items": nav_items(found),
        "form": Form(),
    }
    if found is not None:
        context["pending_requests"] = getattr(request.state, "fedinet_pending", 0)
    context.update(values)
    html = (
        environment()
        .get_template(template)
        .render(instance_domain=settings(request).domain, version=__version__, **context)
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    _finish(request, response)
    return response


def safe_next(target: str | None, default: str = "/home") -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target


def redirect(request: Request, target: str, *, message: str | None = None) -> Response:
    """303 See Other to a path on this site (the answer to every successful POST)."""
    response = RedirectResponse(safe_next(target, "/"), status_code=303)
    if message:
        flash(request, response, message)
    return _finish(request, response)


def login_url(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"


def set_login(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(web_sessions.SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


def end_login(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
