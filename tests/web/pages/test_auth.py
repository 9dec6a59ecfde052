"""Logging in and out, the limit on failed logins, and password resets."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from fedinet.config import Settings
from fedinet.runtime import Runtime
from fedinet.services import web_sessions
from tests.web.pages.conftest import Browser, log_in, make_member, post_form


async def test_log_in_and_out(browser: httpx.AsyncClient, runtime: Runtime, settings: Settings):
    member = await make_member(runtime, settings, "alice")
    response = await log_in(browser, member)
    assert response.headers["location"] == "/home"
    home = await browser.get("/home")
    assert home.status_code == 200 and "@alice" in home.text
    assert "Log out" in home.text
    stale_cookie = browser.cookies["fedinet_session"]
    out = await post_form(browser, "/home", "/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert (await browser.get("/home")).status_code == 303
    # the old cookie is dead on the server too, not just deleted in the browser
    browser.cookies.set("fedinet_session", stale_cookie, domain="fedinet.test")
    assert (await browser.get("/home")).status_code == 303


async def test_log_in_by_email_and_come_back_to_next(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    response = await post_form(
        browser,
        "/login?next=/follow_requests",
        "/login",
        {"login": member.email, "password": member.password, "next": "/follow_requests"},
    )
    assert response.headers["location"] == "/follow_requests"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
async def test_next_never_leaves_the_site(
    target: str, browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    response = await post_form(
        browser,
        "/login",
        None,
        {"login": "alice", "password": member.password, "next": target},
    )
    assert response.headers["location"] == "/home"


async def test_wrong_password_keeps_the_login_and_says_why(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    await make_member(runtime, settings, "alice")
    response = await post_form(
        browser, "/login", None, {"login": "alice", "password": "not the password"}
    )
    assert response.status_code == 422
    assert 'value="alice"' in response.text
    assert "not the password" not in response.text
    assert re.search(r'id="f-password-error"[^>]*>The email/username or password', response.text)
    assert "fedinet_session" not in browser.cookies


async def test_failed_logins_are_limited_per_account(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    browser = await new_browser()
    for _ in range(web_sessions.MAX_FAILURES_PER_ACCOUNT):
        response = await post_form(browser, "/login", None, {"login": "alice", "password": "x"})
        assert response.status_code == 422
    # now even the right password is refused for a while, from any browser
    other = await new_browser()
    response = await post_form(
        other, "/login", None, {"login": "alice", "password": member.password}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many failed attempts" in response.text
    assert "fedinet_session" not in other.cookies
    # another account is not affected
    bob = await make_member(runtime, settings, "bob")
    assert (await log_in(other, bob)).status_code == 303


async def test_failed_logins_are_limited_per_address(runtime: Runtime) -> None:
    for i in range(web_sessions.MAX_FAILURES_PER_IP):
        with pytest.raises(Exception, match="incorrect"):
            await web_sessions.log_in(runtime.pool, f"nobody{i}", "x", ip="192.0.2.7")
    with pytest.raises(Exception, match="Too many"):
        await web_sessions.log_in(runtime.pool, "someone-else", "x", ip="192.0.2.7")
    with pytest.raises(Exception, match="incorrect"):
        await web_sessions.log_in(runtime.pool, "someone-else", "x", ip="192.0.2.8")


async def test_suspended_member_session_ends(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    await log_in(browser, member)
    await runtime.pool.execute(
        "UPDATE actors SET suspended_at = now() WHERE id = $1", member.actor.id
    )
    assert (await browser.get("/home")).status_code == 303


async def test_password_reset_through_the_log(
    new_browser: Browser, runtime: Runtime, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    member = await make_member(runtime, settings, "alice")
    logged_in = await new_browser()
    await log_in(logged_in, member)
    browser = await new_browser()
    with caplog.at_level(logging.WARNING, logger="fedinet.mail"):
        response = await post_form(browser, "/password/forgot", None, {"email": member.email})
        unknown = await post_form(
            browser, "/password/forgot", None, {"email": "nobody@example.org"}
        )
    assert response.status_code == 200 and "on its way" in response.text
    assert unknown.text.count("on its way") == 1  # same answer: no one learns who is a member
    links = re.findall(r"https://fedinet\.test(/password/reset/\S+)", caplog.text)
    assert len(links) == 1
    link = links[0]
    short = await post_form(browser, link, None, {"password": "short"})
    assert short.status_code == 422 and "at least 8" in short.text
    done = await post_form(browser, link, None, {"password": "a brand new password"})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    # the old session is over, the old password too, the link is used up
    assert (await logged_in.get("/home")).status_code == 303
    old = await post_form(browser, "/login", None, {"login": "alice", "password": member.password})
    assert old.status_code == 422
    new = await post_form(
        browser, "/login", None, {"login": "alice", "password": "a brand new password"}
    )
    assert new.status_code == 303
    again = await browser.get(link)
    assert again.status_code == 404 and "already used or expired" in again.text


async def test_unknown_reset_token(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/password/reset/not-a-real-token")
    assert response.status_code == 404
    assert "Ask for a new link" in response.text
