"""A member's settings pages: profile, connect links, sessions and authorized apps."""

from __future__ import annotations

import html

import httpx

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import users as users_db
from fedinet.runtime import Runtime
from fedinet.services.admin.members import suspend_member
from tests.web.pages.conftest import Browser, log_in, make_member, post_form

PROFILE = {
    "display_name": "Ana Gardener",
    "bio": "I grow beans & write <about> it.",
    "motives": ["hobbies", "support"],
    "private_motives": ["support"],
    "interests": "gardening, #Birding",
    "region": "Lisbon",
    "follow_note_policy": "standard",
    "hide_collections": "yes",
}


async def test_settings_need_a_login(browser: httpx.AsyncClient) -> None:
    for path in ("/settings", "/settings/links", "/settings/access"):
        response = await browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/settings")


async def test_profile_is_saved_and_shown(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    await log_in(browser, ana)
    saved = await post_form(browser, "/settings", None, PROFILE)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings"
    actor = await actors_db.get_actor_by_id(runtime.pool, ana.actor.id)
    user = await users_db.get_user_by_actor_id(runtime.pool, ana.actor.id)
    assert actor is not None and user is not None
    assert actor.display_name == "Ana Gardener"
    assert actor.motives == ["hobbies"] and user.private_motives == ["support"]
    assert actor.interests == ["gardening", "birding"] and actor.region == "Lisbon"
    assert user.follow_note_policy == "standard"
    assert not actor.discoverable and actor.hide_collections  # the box was left unticked

    page = await browser.get("/settings")
    assert "Your profile is saved." in page.text
    text = html.unescape(page.text)
    assert 'value="Ana Gardener"' in text and "I grow beans & write <about> it." in text
    assert "&lt;about&gt;" in page.text  # escaped in the page
    assert 'value="gardening, birding"' in text
    assert '<option value="standard" selected>' in page.text


async def test_bad_input_is_shown_next_to_the_field_and_kept(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    await log_in(browser, ana)
    for changes, field in (
        ({"region": "x" * 101}, "region"),
        ({"bio": "y" * 501}, "bio"),
        ({"interests": "gardening, !!!"}, "interests"),
        ({"follow_note_policy": "anything"}, "follow_note_policy"),
    ):
        response = await post_form(browser, "/settings", None, {**PROFILE, **changes})
        assert response.status_code == 422, field
        assert f'id="f-{field}-error"' in response.text, field
        assert 'value="Ana Gardener"' in response.text  # the rest of the input is kept
    actor = await actors_db.get_actor_by_id(runtime.pool, ana.actor.id)
    assert actor is not None and actor.display_name == ""  # nothing was saved


async def test_connect_links_create_show_and_revoke(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    ben = await make_member(runtime, settings, "ben")
    browser = await new_browser()
    await log_in(browser, ana)
    made = await post_form(browser, "/settings/links", None, {})
    assert made.status_code == 303
    page = await browser.get("/settings/links")
    (link,) = await runtime.pool.fetch("SELECT code FROM connect_links")
    assert f"?connect={link['code']}" in page.text and "Revoke" in page.text

    other = await new_browser()
    await log_in(other, ben)
    stolen = await post_form(other, "/settings/links", f"/settings/links/{link['code']}/revoke", {})
    assert stolen.status_code == 404
    revoked = await post_form(
        browser, "/settings/links", f"/settings/links/{link['code']}/revoke", {}
    )
    assert revoked.status_code == 303
    assert await runtime.pool.fetchval("SELECT revoked_at IS NOT NULL FROM connect_links")
    assert "Revoked link" in (await browser.get("/settings/links")).text


async def test_sessions_and_apps_can_be_revoked(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    laptop, phone = await new_browser(), await new_browser()
    await log_in(laptop, ana)
    await log_in(phone, ana)

    app = (
        await laptop.post(
            "/api/v1/apps",
            data={"client_name": "Tusky Test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
    ).json()
    token = (
        await laptop.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": ana.email,
                "password": ana.password,
                "scope": "read",
            },
        )
    ).json()["access_token"]
    api = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert (await laptop.get("/api/v1/accounts/verify_credentials", headers=api)).status_code == 200

    page = await laptop.get("/settings/access")
    assert page.text.count("Log out that browser") == 1 and "this browser" in page.text
    assert "Tusky Test" in page.text
    phone_session = await runtime.pool.fetchval(
        "SELECT id FROM web_sessions ORDER BY id DESC LIMIT 1"
    )
    out = await post_form(
        laptop, "/settings/access", f"/settings/sessions/{phone_session}/revoke", {}
    )
    assert out.status_code == 303
    assert (await phone.get("/home")).status_code == 303  # logged out
    assert (await laptop.get("/home")).status_code == 200

    revoked = await post_form(laptop, "/settings/access", f"/settings/apps/{app['id']}/revoke", {})
    assert revoked.status_code == 303
    assert (await laptop.get("/api/v1/accounts/verify_credentials", headers=api)).status_code == 401
    assert "No application has access" in (await laptop.get("/settings/access")).text
    again = await post_form(laptop, "/settings/access", f"/settings/apps/{app['id']}/revoke", {})
    assert again.status_code == 404


async def test_suspension_ends_web_sessions(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    await log_in(browser, ana)
    assert (await browser.get("/settings")).status_code == 200
    async with runtime.pool.acquire() as conn:
        await suspend_member(conn, settings, "ana")
    assert await runtime.pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    assert (await browser.get("/settings")).status_code == 303
    refused = await post_form(browser, "/login", None, {"login": "ana", "password": ana.password})
    assert refused.status_code != 303
