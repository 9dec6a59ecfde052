"""Helpers to read the vector files that live next to these tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def text(*parts: str) -> str:
    return VECTORS.joinpath(*parts).read_text(encoding="utf-8")


def raw(*parts: str) -> bytes:
    return VECTORS.joinpath(*parts).read_bytes()


def load_json(*parts: str) -> Any:
    return json.loads(text(*parts))


def http_message(*parts: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Parse a message file: (start line, header pairs, body without the final newline)."""
    content = text(*parts)
    head, _, body = content.partition("\n\n")
    lines = head.split("\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return lines[0], headers, body.removesuffix("\n").encode("utf-8")


def request_url(start_line: str, headers: list[tuple[str, str]]) -> tuple[str, str]:
    """(method, absolute https URL) of a request line and its Host header."""
    method, target, _ = start_line.split(" ")
    host = next(v for n, v in headers if n.lower() == "host")
    return method, f"https://{host}{target}"
