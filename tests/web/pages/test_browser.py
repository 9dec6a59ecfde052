"""The pages in a real browser (Debian's chromium driven by Playwright) against a real
``fedinet serve``: sign up with motives and interests, discover someone by interest, be
refused for a generic note, send a personal one, accept it as the recipient, post, and
see the post on the follower's home. Screenshots of the main pages go to
``<basetemp>/screenshots/``.

Without /usr/bin/chromium the tests are skipped, except in CI (``CI`` set), where that
is a failure.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import DatabaseFactory
from tests.helpers.servers import ServerProcess, free_port, password_token, register_app
from tests.services.test_media_probe import mp4
from tests.web.api.test_media import png
from tests.web.pages.chromium import launch_chromium, screenshot_dir, watched_page

pytestmark = pytest.mark.slow

PASSWORD = "a long enough password"
GENERIC = "I'd like to add you to my network"
PERSONAL = (
    "Hi Bob, I saw you count birds in Nashville too. I have been trying to attract "
    "warblers with native plants in my garden; which ones worked for you?"
)


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = {
        "FEDINET_URL": f"http://127.0.0.1:{port}",
        "FEDINET_DATABASE_URL": module_database(),
        "FEDINET_DATA_DIR": str(tmp / "data"),
        "FEDINET_SECRET_KEY": "browser-test-secret-" + "y" * 40,
        "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
    }
    process = ServerProcess(env, port=port, log=tmp / "serve.log").start()
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
    with watched_page(browser, server.url) as opened:
        yield opened


def sign_up(page: Page, username: str, motives: list[str], interests: str, region: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    for motive in motives:
        page.locator("label.card-check", has_text=motive).click()
    page.get_by_label("Interests", exact=True).fill(interests)
    page.get_by_label("Region (optional)").fill(region)
    page.get_by_label("A few words about you (optional)").fill(f"I am {username}.")
    page.get_by_role("button", name="Join").click()
    expect(page).to_have_url("/discover")
    expect(page.locator(".flash")).to_contain_text(f"Welcome, @{username}")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".flash")).to_contain_text("logged out")


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/home")


def test_sign_up_discover_follow_with_a_note_accept_and_read(page: Page, screenshots: Path) -> None:
    sign_up(page, "bob", ["Friendship", "Hobbies"], "birding, gardening", "Nashville, TN, US")
    log_out(page)

    page.goto("/signup")
    expect(page.get_by_role("group", name="Why are you here?")).to_be_visible()
    page.screenshot(path=screenshots / "signup.png", full_page=True)
    sign_up(page, "alice", ["Friendship", "Local community"], "jazz", "Nashville, TN, US")

    # discover bob by interest: typing suggests tags already in use
    interest = page.locator("#f-interest")
    interest.fill("bird")
    expect(page.locator("#f-interest-suggest option")).to_have_count(1)
    interest.fill("birding")
    page.get_by_role("button", name="Show").click()
    card = page.locator("article.person", has_text="@bob")
    expect(card).to_contain_text("both here for friendship")
    expect(card).to_contain_text("both in Nashville, TN, US")
    page.screenshot(path=screenshots / "discover.png", full_page=True)
    card.get_by_role("link", name="bob", exact=True).click()
    expect(page.get_by_role("heading", name="What you share")).to_be_visible()
    page.screenshot(path=screenshots / "profile.png", full_page=True)

    # a generic note: the live check says why before sending, and the server refuses it
    page.get_by_role("link", name="Follow — write a note").click()
    note = page.get_by_label("Your note to bob")
    note.fill(GENERIC)
    expect(page.locator("#note-check")).to_contain_text("too short")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#f-note-error")).to_contain_text("too short")
    expect(note).to_have_value(GENERIC)
    page.screenshot(path=screenshots / "follow-refused.png", full_page=True)

    note.fill(PERSONAL)
    expect(page.locator("#note-check")).to_contain_text("meets their rules")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".flash")).to_contain_text("on their way to bob")
    log_out(page)

    # bob accepts from his requests page
    log_in(page, "bob")
    expect(page.get_by_role("link", name="Requests")).to_contain_text("1")
    page.get_by_role("link", name="Requests").click()
    request = page.locator("article.request", has_text="@alice")
    expect(request).to_contain_text("warblers")
    expect(request).to_contain_text("both here for friendship")
    page.screenshot(path=screenshots / "follow-requests.png", full_page=True)
    request.get_by_role("button", name="Accept").click()
    expect(page.locator(".flash")).to_contain_text("alice can now follow you")

    page.get_by_role("link", name="Home").click()
    page.get_by_label("What is on your mind, @bob?").fill("First warblers of spring at the pond!")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".flash")).to_contain_text("Posted")
    log_out(page)

    log_in(page, "alice")
    post = page.locator("article.status", has_text="First warblers of spring")
    expect(post).to_be_visible()
    post.get_by_role("button", name="Like (0)").click()
    expect(page.locator("article.status", has_text="First warblers")).to_contain_text("Liked (1)")
    page.screenshot(path=screenshots / "home.png", full_page=True)


def wav(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """Silence as 8-bit mono PCM: a file every browser plays."""
    samples = b"\x80" * int(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def api_token(server: ServerProcess, username: str) -> str:
    """A password-grant token for a member, as a client app gets one."""
    with httpx.Client() as http:
        app = register_app(http, server.url, "read write")
        return password_token(
            http, server.url, app, f"{username}@example.org", PASSWORD, "read write"
        )


def test_attachments_show_on_the_home_page(
    page: Page, server: ServerProcess, screenshots: Path
) -> None:
    """A picture, a sound and a clip posted from a client show in the page: the picture
    and the sound load (the page's Content-Security-Policy lets this server's media
    in), and the sound says what it is."""
    sign_up(page, "cora", ["Hobbies"], "field recording", "Oslo, NO")
    headers = {"Authorization": f"Bearer {api_token(server, 'cora')}"}
    with httpx.Client(base_url=server.url, headers=headers) as api:
        uploads = [
            api.post(
                "/api/v2/media",
                files={"file": (name, data, "application/octet-stream")},
                data={"description": text},
            ).json()
            for name, data, text in [
                ("square.png", png(12, 8), "a dark blue square"),
                ("rain.wav", wav(), "rain on the roof"),
                ("clip.mp4", mp4(), "a clip"),
            ]
        ]
        posted = api.post(
            "/api/v1/statuses",
            json={"status": "Sounds and sights", "media_ids": [u["id"] for u in uploads]},
        )
        assert posted.status_code == 200, posted.text
    page.goto("/home")
    post = page.locator("article.status", has_text="Sounds and sights")
    picture = post.get_by_role("img", name="a dark blue square")
    expect(picture).to_be_visible()
    page.wait_for_function("document.querySelector('article.status img').naturalWidth === 12")
    sound = post.locator("audio")
    expect(sound).to_have_attribute("aria-label", "rain on the roof")
    page.wait_for_function("document.querySelector('article.status audio').readyState >= 1")
    assert sound.evaluate("a => a.duration") == pytest.approx(0.2, abs=0.01)
    expect(post.locator("video")).to_have_attribute("src", uploads[2]["url"])
    page.screenshot(path=screenshots / "home-attachments.png", full_page=True)


def test_phone_width_keyboard_and_errors(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/signup")
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 360, overflow
    # the first Tab reaches the skip link, which is then visible
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    # a bad form keeps its input and says what is wrong next to the field
    page.get_by_label("Username").fill("not valid!")
    page.locator("label.card-check", has_text="Peer support").click()
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#f-username-error")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("not valid!")
    expect(page.locator("input[name=motives][value=support]")).to_be_checked()
    page.screenshot(path=screenshots / "signup-errors-360px.png", full_page=True)
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    page.screenshot(path=screenshots / "404.png")
