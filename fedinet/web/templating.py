"""The jinja2 environment for fedinet's HTML pages (``templates/``, shipped as the package
``fedinet.templates``). Autoescaping is always on."""

from __future__ import annotations

import functools
from typing import Any

import jinja2
import markupsafe
from starlette.responses import HTMLResponse

from fedinet import __version__
from fedinet.ap.sanitize import html_to_text, sanitize_html
from fedinet.config import Settings
from fedinet.vocabulary import MOTIVES

__all__ = ["environment", "render"]


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fedinet.templates", ""),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # What base.html reads; pages rendered through fedinet.web.pages fill them in.
    env.globals.update(
        viewer=None, flash="", nav="", nav_items=[], pending_requests=0, csrf_token=""
    )
    env.globals["motive_labels"] = {m.key: m.label for m in MOTIVES}
    env.globals["visibility_labels"] = {
        "public": "public",
        "unlisted": "quiet public",
        "private": "followers only",
        "direct": "direct message",
    }
    # HTML from members and other servers goes through these, never plain ``|safe``.
    env.filters["sanitize"] = lambda html: markupsafe.Markup(sanitize_html(html or ""))  # noqa: S704 - sanitized by nh3
    env.filters["plain"] = lambda html: html_to_text(html or "")
    return env


def render(
    name: str,
    settings: Settings,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render a template with the values every page has (``instance_domain``,
    ``version``) plus ``values``."""
    html = (
        environment()
        .get_template(name)
        .render(instance_domain=settings.domain, version=__version__, **values)
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)
