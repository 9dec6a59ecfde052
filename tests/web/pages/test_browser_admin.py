"""The settings and admin pages in a real browser (Debian's chromium driven by Playwright)
against a real ``fedinet serve``: a member edits their profile and makes a connect link
(the Copy button is the one script of these pages); an admin blocks a domain, sees a bad
one refused next to the field, and adds a rule. Screenshots go to
``<basetemp>/screenshots/``.

Without /usr/bin/chromium the tests are skipped, except in CI (``CI`` set), where that
is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import DatabaseFactory
from tests.helpers.servers import ServerProcess, free_port, run_cli
from tests.web.pages.chromium import launch_chromium, screenshot_dir, watched_page

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("browser-admin")
    port = free_port()
    env = {
        "FEDINET_URL": f"http://127.0.0.1:{port}",
        "FEDINET_DATABASE_URL": module_database(),
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_SECRET_KEY": "browser-admin-secret-" + "z" * 40,
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
    }
    process = ServerProcess(env, port=port, log=tmp / "serve.log").start()
    for name, extra in (("root", ["--admin"]), ("mia", [])):
        made = run_cli(
            "admin",
            "create-user",
            name,
            "--email",
            f"{name}@example.org",
            "--password",
            PASSWORD,
            *extra,
            env=process.env,
        )
        assert made.returncode == 0, made.stderr
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(server: ServerProcess) -> Iterator[Browser]:
    with launch_chromium() as launched:  # after the server: see launch_chromium
        yield launched


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    with watched_page(browser, server.url, clipboard=True) as opened:
        yield opened


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/home")


def test_member_settings(page: Page, screenshots: Path) -> None:
    log_in(page, "mia")
    page.get_by_role("link", name="Settings").click()
    expect(page).to_have_url("/settings")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.get_by_label("Name", exact=True).fill("Mia")
    page.locator("label.card-check", has_text="Hobbies").click()
    page.get_by_label("Interests", exact=True).fill("pottery, !!!")
    page.get_by_label("Region (optional)").fill("Porto")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-interests-error")).to_contain_text("not an interest tag")
    expect(page.get_by_label("Region (optional)")).to_have_value("Porto")  # input kept
    page.get_by_label("Interests", exact=True).fill("pottery, chess")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Your profile is saved.")
    expect(page.get_by_label("Region (optional)")).to_have_value("Porto")
    page.screenshot(path=screenshots / "settings.png", full_page=True)

    page.get_by_role("link", name="Connect links").click()
    page.get_by_role("button", name="Create a connect link").click()
    expect(page.locator(".flash")).to_contain_text("connect link is ready")
    copy = page.locator("button.copy-button")
    expect(copy).to_be_visible()  # shown by the script, hidden without it
    copy.click()
    expect(copy).to_have_text("Copied")
    link = page.locator("input.copy-source").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert "/users/mia?connect=" in link or "/@mia?connect=" in link
    page.screenshot(path=screenshots / "settings-links.png", full_page=True)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Revoked link")).to_be_visible()

    page.get_by_role("link", name="Sessions and apps").click()
    expect(page.get_by_text("this browser")).to_be_visible()


def test_admin_pages(page: Page, screenshots: Path) -> None:
    log_in(page, "root")
    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url("/admin")
    page.get_by_label("Registration mode").select_option("approved")
    page.get_by_role("button", name="Save the mode").click()
    expect(page.locator(".flash")).to_contain_text("registration mode is saved")
    expect(page.get_by_label("Registration mode")).to_have_value("approved")
    page.screenshot(path=screenshots / "admin.png", full_page=True)

    page.get_by_role("link", name="Domain blocks").click()
    page.get_by_label("Domain").fill("https://spam.example/")
    page.get_by_role("button", name="Block").click()
    expect(page.locator("#f-domain-error")).to_contain_text("not a URL")
    page.get_by_label("Domain").fill("spam.example")
    page.get_by_label("Severity").select_option("silence")
    page.get_by_label("Reason (for the admins)").fill("ads everywhere")
    page.get_by_role("button", name="Block").click()
    expect(page.locator(".flash")).to_contain_text("spam.example is silenced")
    expect(page.get_by_role("cell", name="ads everywhere")).to_be_visible()
    page.screenshot(path=screenshots / "admin-domains.png", full_page=True)

    page.get_by_role("link", name="Rules").click()
    page.get_by_label("Rule", exact=True).fill("Be kind to newcomers.")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.locator("ol.rules")).to_contain_text("Be kind to newcomers.")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_text("No open reports.")).to_be_visible()


def test_pages_fit_a_phone(page: Page, screenshots: Path) -> None:
    log_in(page, "root")
    page.set_viewport_size({"width": 360, "height": 800})
    for path in ("/settings", "/settings/access", "/admin", "/admin/domains", "/admin/canned"):
        page.goto(path)
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"{path} scrolls sideways at 360 px"
    page.screenshot(path=screenshots / "admin-canned-phone.png", full_page=True)
