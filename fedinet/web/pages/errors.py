"""Errors as pages: browsers get a 404/403/429/500 page in the site's style; the APIs,
ActivityPub and anything that does not ask for HTML keep their JSON (or plain) answers.

A request counts as a browser's when it was routed to a page of this package, or when it
asks for ``text/html`` (and not ActivityPub JSON) outside ``/api/``, ``/oauth/`` and
``/.well-known/``. A page that needs a login redirects there instead of answering 401.
"""

from __future__ import annotations

import logging
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from fedinet import errors
from fedinet.web.errors import EXCEPTION_HANDLERS as JSON_HANDLERS
from fedinet.web.errors import status_for
from fedinet.web.negotiation import wants_activity_json
from fedinet.web.pages.kit import login_url, redirect, render_page

__all__ = ["EXCEPTION_HANDLERS", "error_page", "wants_html"]

log = logging.getLogger("fedinet.web")

_NOT_PAGES: Final = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/")
_TITLES: Final = {
    400: "That request did not make sense",
    403: "You may not do that",
    404: "Nothing here",
    405: "Not like that",
    410: "Gone",
    413: "That was too much",
    422: "That did not work",
    429: "Slow down a little",
    500: "Something broke on our side",
    502: "Another server did not answer well",
    503: "Not available right now",
}
_DEFAULT_TEXT: Final = {
    404: "There is no page at this address. It may have moved, or the link has a typo.",
    405: "This page cannot be used that way.",
    500: "The server ran into an error. It has been logged; please try again later.",
}


def wants_html(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    if getattr(endpoint, "__module__", "").startswith("fedinet.web.pages"):
        return True
    if request.url.path.startswith(_NOT_PAGES):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not wants_activity_json(accept)


async def error_page(request: Request, status: int, message: str = "") -> Response:
    headers = {"Retry-After": "60"} if status in (429, 503) else None
    return await render_page(
        request,
        "error.html",
        status_code=status,
        headers=headers,
        status=status,
        title=_TITLES.get(status, "Something went wrong"),
        message=message or _DEFAULT_TEXT.get(status, ""),
    )


async def _fedinet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.FedinetError)
    if not wants_html(request):
        return await JSON_HANDLERS[errors.FedinetError](request, exc)
    if isinstance(exc, errors.Unauthorized) and exc.reason == "login_required":
        target = request.url.path if request.method in ("GET", "HEAD") else "/home"
        return redirect(request, login_url(target))
    status = status_for(exc)
    if status >= 500:
        log.error("error path=%s reason=%s message=%s", request.url.path, exc.reason, exc)
    response = await error_page(request, status, exc.message)
    if isinstance(exc, errors.RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not wants_html(request):
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    response = await error_page(request, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    if not wants_html(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    try:
        return await error_page(request, 500)
    except Exception:  # the page itself failed (e.g. no database): plain text then
        log.exception("error page failed path=%s", request.url.path)
        return PlainTextResponse("Internal Server Error", status_code=500)


EXCEPTION_HANDLERS = {
    errors.FedinetError: _fedinet_error,
    HTTPException: _http_error,
    Exception: _server_error,
}
