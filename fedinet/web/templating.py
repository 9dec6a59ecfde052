"""The jinja2 environment for fedinet's HTML pages (``templates/``, shipped as the package
``fedinet.templates``). Autoescaping is always on."""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from starlette.responses import HTMLResponse

from fedinet import __version__
from fedinet.config import Settings

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
