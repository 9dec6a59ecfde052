"""Reading client parameters the way Mastodon (Rails) does: the query string merged with a
form (urlencoded or multipart) or JSON body, ``name[]`` read as a list."""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request

from fedinet.errors import ValidationError

__all__ = ["MAX_FORM_BODY", "Params", "add_param", "first", "many", "read_params"]

MAX_FORM_BODY: Final = 64 * 1024
_MAX_FIELDS: Final = 200

Params = dict[str, str | list[str]]


def _add(params: Params, key: str, value: str) -> None:
    if key.endswith("[]"):
        key = key[:-2]
        existing = params.get(key)
        if isinstance(existing, list):
            existing.append(value)
        else:
            params[key] = [value] if existing is None else [existing, value]
        return
    params[key] = value


def _from_json(value: Any) -> str | list[str] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int | float)]
    return None


async def read_params(request: Request) -> Params:
    """Query parameters, then body parameters over them. Nested JSON objects are ignored.
    A malformed JSON body is a ``ValidationError``."""
    params: Params = {}
    for key, value in request.query_params.multi_items():
        _add(params, key, value)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Rails reads a JSON body on GET too, and Mastodon.py sends some GET parameters so
    # (familiar_followers); forms on GET are not read.
    if request.method in ("GET", "HEAD") and content_type != "application/json":
        return params
    if content_type == "application/json":
        body = await request.body()
        if len(body) > MAX_FORM_BODY:
            raise ValidationError("the request body is too large")
        if not body.strip():
            return params
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("the request body is not valid JSON") from None
        if not isinstance(document, dict):
            raise ValidationError("the request body must be a JSON object")
        for key, raw in document.items():
            decoded = _from_json(raw)
            if decoded is not None:
                params[str(key).removesuffix("[]")] = decoded
        return params
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            async with request.form(max_files=0, max_fields=_MAX_FIELDS) as form:
                for key, item in form.multi_items():
                    if isinstance(item, str):
                        _add(params, key, item)
        except HTTPException as exc:  # starlette's answer to a form it cannot read
            # a file where none is taken, too many fields, a broken multipart body: the
            # client sent something this endpoint cannot use, which Mastodon calls a 422
            raise ValidationError(f"the form could not be read: {exc.detail}") from None
    return params


add_param = _add
"""Add ``key=value`` as :func:`read_params` does (``name[]`` collects a list)."""


def many(params: Params, key: str) -> list[str]:
    """The values of a repeatable parameter (``key[]``, or ``key`` given once)."""
    value = params.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def first(params: Params, key: str) -> str | None:
    """The value of ``key`` as one string (the first, if a list was sent)."""
    value = params.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value
