"""Debian's chromium driven by Playwright, for the browser tests of the pages.

Importing this module skips the importing test module when /usr/bin/chromium is missing,
except in CI (``CI`` set), where that is a failure. Playwright's own browser download is
never used: the tests launch the system chromium by its path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# as root, in a closed network: no sandbox, and none of chromium's background connections
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the chromium package", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402

__all__ = ["CHROMIUM", "launch_chromium", "screenshot_dir", "watched_page"]


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<basetemp>/screenshots``, shared by every browser test module."""
    path = tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(exist_ok=True)
    print(f"\nscreenshots of the pages: {path}")
    return path


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread: start it after the
    # database and server fixtures (asyncio.run) have set up, end it before they tear down
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def watched_page(browser: Browser, base_url: str, *, clipboard: bool = False) -> Iterator[Page]:
    """A page in a fresh context that fails the test, when it closes, on any script
    error, console error, failed request or 4xx/5xx answer to a sub-resource (so the
    strict CSP never blocked anything the pages use)."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1000, "height": 900})
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # (4xx answers to form posts are logged as "Failed to load resource": expected)
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on(
        "requestfailed",
        lambda request: (
            # a navigation cancels what the page it leaves was still loading: not a fault
            problems.append(f"request failed: {request.url} {request.failure}")
            if "ERR_ABORTED" not in (request.failure or "")
            else None
        ),
    )
    opened.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} for {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    yield opened
    context.close()
    assert not problems, problems
