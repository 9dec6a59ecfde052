"""The real ``toot`` command-line client against a real ``fedinet serve``.

Each test runs the installed ``toot`` executable as a child process with its own config
directory, exactly as a member would from a terminal: log in with email and password,
post, read the home timeline, follow someone, ask who is logged in.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DatabaseFactory
from tests.helpers.cluster import PASSWORD, Instance, Member

pytestmark = pytest.mark.slow


def _toot_executable() -> str:
    beside = Path(sys.executable).with_name("toot")
    found = str(beside) if beside.exists() else shutil.which("toot")
    assert found, "the toot client is part of the test extra: pip install -e '.[test]'"
    return found


TOOT = _toot_executable()


class Toot:
    """``toot`` with an isolated configuration (its own HOME and XDG_CONFIG_HOME)."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FEDINET_", "TOOT_", "XDG_")) and k != "HOME"
        }
        self.env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            NO_COLOR="1",
            COLUMNS="200",
            TERM="dumb",
        )

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [TOOT, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done


@pytest.fixture(scope="module")
def instance(
    module_database: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instance]:
    started = Instance("toot", module_database(), tmp_path_factory.mktemp("toot")).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def alice(instance: Instance) -> Member:
    return instance.member("alice")


@pytest.fixture(scope="module")
def bob(instance: Instance) -> Member:
    return instance.member("bob")


@pytest.fixture(scope="module")
def toot(instance: Instance, alice: Member, tmp_path_factory: pytest.TempPathFactory) -> Toot:
    """alice, logged in with ``toot login_cli`` (instance URL, email, password)."""
    run = Toot(tmp_path_factory.mktemp("toot-home"))
    done = run(
        "login_cli",
        "--instance",
        instance.url,
        "--email",
        f"{alice.username}@example.org",
        "--password",
        PASSWORD,
    )
    assert "Successfully logged in" in done.stdout
    return run


def test_login_cli_stores_a_token_that_works(toot: Toot, instance: Instance) -> None:
    config = (toot.home / "config" / "toot" / "config.json").read_text()
    assert instance.domain in config
    assert "access_token" in config


def test_login_cli_with_a_wrong_password_fails(instance: Instance, tmp_path: Path) -> None:
    run = Toot(tmp_path / "home")
    done = run(
        "login_cli",
        "--instance",
        instance.url,
        "--email",
        "alice@example.org",
        "--password",
        "not the password",
        ok=False,
    )
    assert done.returncode != 0
    assert "Login failed" in done.stdout + done.stderr
    assert not (tmp_path / "home" / "config" / "toot" / "config.json").exists() or (
        "access_token" not in (tmp_path / "home" / "config" / "toot" / "config.json").read_text()
    )


def test_whoami(toot: Toot, alice: Member) -> None:
    done = toot("whoami")
    assert f"@{alice.username}" in done.stdout


def test_post_then_timeline(toot: Toot, alice: Member) -> None:
    done = toot("post", "Hello from the toot client, #terminal friends")
    assert "Toot posted" in done.stdout
    statuses = alice.home()
    assert any("Hello from the toot client" in s["content"] for s in statuses)

    timeline = toot("timeline", "--once")
    assert "Hello from the toot client" in timeline.stdout


def test_post_with_visibility_and_content_warning(toot: Toot, alice: Member) -> None:
    toot("post", "--visibility", "unlisted", "--spoiler-text", "garden", "Tomatoes are in")
    statuses = alice.home()
    posted = next(s for s in statuses if "Tomatoes are in" in s["content"])
    assert posted["visibility"] == "unlisted"
    assert posted["spoiler_text"] == "garden"


def test_follow_a_member_who_asks_for_no_note(toot: Toot, alice: Member, bob: Member) -> None:
    """toot cannot send fedinet's personal note; members whose policy is ``open`` take
    follow requests without one (and still approve them by hand)."""
    with bob.api() as http:
        changed = http.patch(
            "/api/v1/accounts/update_credentials", data={"follow_note_policy": "open"}
        )
    assert changed.status_code == 200, changed.text

    done = toot("follow", bob.username)
    assert f"You are now following {bob.username}" in done.stdout

    requests = bob.get("/api/v1/follow_requests")
    assert [r["acct"] for r in requests] == [alice.username]
    relationship = alice.get("/api/v1/accounts/relationships", id=bob.account_id)[0]
    assert relationship["requested"] is True and relationship["following"] is False
    bob.post(f"/api/v1/follow_requests/{alice.account_id}/authorize")

    relationship = alice.get("/api/v1/accounts/relationships", id=bob.account_id)[0]
    assert relationship["following"] is True

    bob.post("/api/v1/statuses", status="Bob's first post after the follow")
    timeline = toot("timeline", "--once")
    assert "Bob's first post after the follow" in timeline.stdout


def test_follow_without_a_note_is_refused_with_the_reason(toot: Toot, instance: Instance) -> None:
    carol = instance.member("carol")  # the default policy: a personal note is required
    done = toot("follow", carol.username, ok=False)
    assert done.returncode != 0
    assert "only accepts follow requests that come with a note" in done.stderr
    assert carol.get("/api/v1/follow_requests") == []


def test_login_through_the_browser(instance: Instance, alice: Member, tmp_path: Path) -> None:
    """``toot login``: toot prints an authorize URL (with a trailing slash, which fedinet
    redirects), the member logs in and consents in a browser, and pastes the code shown
    there (the out-of-band redirect URI) back into toot."""
    run = Toot(tmp_path / "home")
    login = subprocess.Popen(
        [TOOT, "login", "--instance", instance.url],
        env=run.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert login.stdout is not None and login.stdin is not None
        url = ""
        while not url.startswith(instance.url):
            line = login.stdout.readline()
            assert line, login.stderr.read() if login.stderr else "toot exited"
            url = line.strip()
        with httpx.Client(follow_redirects=True, timeout=30) as browser:
            page = browser.get(url)
            assert page.status_code == 200, page.text
            form = {
                name: html.unescape(value)
                for name, value in re.findall(
                    r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text
                )
            }
            form.update(username="alice@example.org", password=PASSWORD, decision="approve")
            shown = browser.post(f"{instance.url}/oauth/authorize", data=form)
        assert shown.status_code == 200, shown.text
        code = re.search(r'id="oauth-code">([^<]+)</code>', shown.text)
        assert code, shown.text
        out, err = login.communicate(f"n\n{code.group(1)}\n", timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()
    assert login.returncode == 0, (out, err)
    assert "Successfully logged in" in out
    assert f"@{alice.username}" in run("whoami").stdout
