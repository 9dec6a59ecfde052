"""The one place where fedinet's exceptions become HTTP responses."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fedinet import errors

__all__ = ["ERROR_REASON", "EXCEPTION_HANDLERS", "error_response", "status_for"]

log = logging.getLogger("fedinet.web")

ERROR_REASON = "fedinet.error_reason"
"""Scope key holding the ``reason`` of the error a request was answered with (metrics)."""

# Most specific first: the first isinstance() match wins.
_STATUS: tuple[tuple[type[errors.FedinetError], int], ...] = (
    (errors.Gone, 410),
    (errors.NotFound, 404),
    (errors.ValidationError, 422),
    (errors.Conflict, 422),
    (errors.Unauthorized, 401),
    (errors.PermissionDenied, 403),
    (errors.RateLimited, 429),
    (errors.DigestMismatch, 400),
    (errors.SignatureError, 401),
    (errors.ActorMismatch, 403),
    (errors.DomainBlocked, 403),
    (errors.BadActivity, 400),
    (errors.RemoteFetchError, 502),
    (errors.DatabaseError, 503),
    (errors.ConfigError, 500),
)


def status_for(exc: errors.FedinetError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: errors.FedinetError) -> JSONResponse:
    """Mastodon's error shape, with fedinet's machine-readable ``reason`` beside it."""
    status = status_for(exc)
    body: dict[str, object] = {"error": exc.message, "reason": exc.reason}
    if status == 422:
        # Mastodon's validation errors carry ``details``: per field, a code and a message
        field = exc.field if isinstance(exc, errors.ValidationError) else None
        body["details"] = (
            {field: [{"error": f"ERR_{exc.reason.upper()}", "description": exc.message}]}
            if field
            else {}
        )
    if isinstance(exc, errors.ValidationError) and exc.field:
        body["field"] = exc.field
    if isinstance(exc, errors.ValidationError) and exc.details is not None:
        body["details"] = exc.details
    if isinstance(exc, errors.NoteRefused):
        body["hint"] = exc.hint
    headers = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


async def _handle_fedinet_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.FedinetError)
    request.scope[ERROR_REASON] = exc.reason
    if status_for(exc) >= 500:
        log.error("error path=%s reason=%s message=%s", request.url.path, exc.reason, exc)
    return error_response(exc)


EXCEPTION_HANDLERS = {errors.FedinetError: _handle_fedinet_error}
