"""Small readers for client arguments shared by the member endpoints: ids in the path,
lists of ids, booleans as Rails reads them."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from starlette.requests import Request

from fedinet.errors import NotFound, ValidationError
from fedinet.runtime import Runtime
from fedinet.web.api.params import MAX_FORM_BODY, Params, first

__all__ = [
    "as_bool",
    "flag",
    "id_list",
    "nested_items",
    "path_id",
    "read_document",
    "runtime_of",
    "string_list",
]

_KEY: Final = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_MAX_FIELDS: Final = 200

_TRUE = ("1", "true", "t", "on", "yes")
_FALSE = ("0", "false", "f", "off", "no", "")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def path_id(request: Request, name: str = "id") -> int:
    """A numeric id from the path; anything else is 404, as an unknown id is."""
    raw = str(request.path_params[name])
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound("Record not found")
    return int(raw)


def flag(params: Params, key: str, default: bool = False) -> bool:
    """A boolean as Rails casts it; a value that is neither is a 422."""
    value = first(params, key)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError(f"{key} must be true or false", field=key)


def string_list(params: Params, key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def id_list(params: Params, key: str) -> list[int]:
    """``key[]`` as ids; a value that is not an id is a 422."""
    result = []
    for raw in string_list(params, key):
        if not raw.isdigit() or len(raw) > 19:
            raise ValidationError(f"{key} must be a list of ids", field=key)
        result.append(int(raw))
    return result


def as_bool(value: Any, key: str) -> bool:
    """A JSON or form value as a boolean (422 when it is neither)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValidationError(f"{key} must be true or false", field=key)


def _put(document: dict[str, Any], key: str, value: str) -> None:
    """Rails' nested parameters: ``a[b]``, ``a[]``, ``a[][b]`` and ``a[0][b]``."""
    match = _KEY.match(key)
    if match is None:
        return
    name, brackets = match.group(1), match.group(2)
    parts = re.findall(r"\[([^\[\]]*)\]", brackets)
    if not parts:
        document[name] = value
    elif parts == [""]:
        existing = document.get(name)
        if not isinstance(existing, list):
            existing = document[name] = []
        existing.append(value)
    elif len(parts) == 1:
        holder = document.get(name)
        if not isinstance(holder, dict):
            holder = document[name] = {}
        holder[parts[0]] = value
    elif len(parts) == 2 and parts[0] == "":
        items = document.get(name)
        if not isinstance(items, list):
            items = document[name] = []
        if not items or not isinstance(items[-1], dict) or parts[1] in items[-1]:
            items.append({})
        items[-1][parts[1]] = value
    elif len(parts) == 2:
        holder = document.get(name)
        if not isinstance(holder, dict):
            holder = document[name] = {}
        inner = holder.get(parts[0])
        if not isinstance(inner, dict):
            inner = holder[parts[0]] = {}
        inner[parts[1]] = value


async def read_document(request: Request) -> dict[str, Any]:
    """The query string and the body (JSON, or a form with Rails-style nested keys) as one
    nested document; the body wins. A malformed JSON body is a 422."""
    document: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _put(document, key, value)
    if request.method in ("GET", "HEAD"):
        return document
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if len(body) > MAX_FORM_BODY:
            raise ValidationError("the request body is too large")
        if not body.strip():
            return document
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("the request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ValidationError("the request body must be a JSON object")
        document.update({str(k).removesuffix("[]"): v for k, v in parsed.items()})
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        async with request.form(max_files=0, max_fields=_MAX_FIELDS) as form:
            for key, item in form.multi_items():
                if isinstance(item, str):
                    _put(document, key, item)
    return document


def nested_items(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``key`` as a list of objects, whether sent as a list or as an index-keyed object."""
    value = document.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value[k] for k in sorted(value, key=lambda k: (len(str(k)), str(k)))]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError(f"{key} must be a list of objects", field=key)
    return value
