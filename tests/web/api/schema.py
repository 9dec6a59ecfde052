"""Validating responses against the Mastodon OpenAPI description's component schemas."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

_SCHEMA_FILE = Path(__file__).with_name("mastodon-openapi-schema.json")


@functools.cache
def _components() -> dict[str, Any]:
    document = json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))
    components: dict[str, Any] = document["components"]
    return components


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    components = _components()
    assert name in components["schemas"], f"no schema {name} in the OpenAPI description"
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": components})


def assert_matches(name: str, value: Any) -> None:
    """Fail with every violation when ``value`` is not a valid ``name`` entity."""
    errors = sorted(_validator(name).iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"not a valid {name}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    )
