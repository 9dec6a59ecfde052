"""Sign-up: motives and interests, no profession field, the registration modes."""

from __future__ import annotations

import re

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import instance as instance_db
from fedinet.db import users as users_db
from fedinet.runtime import Runtime
from fedinet.services import registrations
from fedinet.services.profile import ProfileChange
from fedinet.vocabulary import MOTIVE_KEYS
from tests.web.pages.conftest import csrf_of, make_member, post_form

GOOD = {
    "username": "newbie",
    "email": "newbie@example.org",
    "password": "a long enough password",
    "motives": ["friendship", "hobbies", "support"],
    "interests": "Gardening, #birding  jazz",
    "region": "Nashville, TN, US",
    "bio": "I grow tomatoes & watch birds.",
}


async def test_the_form_asks_why_not_what_job(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/signup")
    assert page.status_code == 200
    assert "Why are you here?" in page.text
    for key in MOTIVE_KEYS:
        assert f'name="motives" value="{key}"' in page.text
    names = set(re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', page.text))
    assert names == {
        "csrf_token",
        "username",
        "email",
        "password",
        "motives",
        "interests",
        "region",
        "bio",
    }
    lowered = page.text.lower()
    for word in ("profession", "employer", "job title", "company"):
        assert f'name="{word}' not in lowered
    # every control has a label
    for control in re.findall(r'<(?:input|textarea|select)[^>]*id="(f-[^"]+)"', page.text):
        assert f'for="{control}"' in page.text, control


async def test_sign_up_with_motives_and_interests(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    response = await post_form(browser, "/signup", None, GOOD)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/discover"
    assert "fedinet_session" in browser.cookies
    actor = await actors_db.get_local_actor_by_username(runtime.pool, "newbie")
    assert actor is not None
    user = await users_db.get_user_by_actor_id(runtime.pool, actor.id)
    assert user is not None and user.approved
    assert actor.motives == ["hobbies", "friendship"]  # public ones
    assert user.private_motives == ["support"]  # sensitive: private by default
    assert actor.interests == ["gardening", "birding", "jazz"]
    assert actor.region == "Nashville, TN, US"
    assert "tomatoes &amp; watch birds" in actor.summary
    home = await browser.get("/home")
    assert "@newbie" in home.text


async def test_bad_input_is_shown_next_to_the_field_and_kept(browser: httpx.AsyncClient) -> None:
    response = await post_form(
        browser,
        "/signup",
        None,
        {**GOOD, "username": "no spaces!", "email": "nope", "password": "short"},
    )
    assert response.status_code == 422
    html = response.text
    for field in ("username", "email", "password"):
        assert f'id="f-{field}-error"' in html
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', html), field
    assert 'value="no spaces!"' in html
    assert 'value="Gardening, #birding  jazz"' in html
    assert 'value="Nashville, TN, US"' in html
    assert "I grow tomatoes &amp; watch birds." in html
    assert 'value="friendship" checked' in html and 'value="support" checked' in html
    assert 'value="local" checked' not in html
    assert "short" not in re.findall(r'name="password"[^>]*', html)[0]
    assert 'href="#f-username"' in html  # the summary links to the fields


async def test_taken_username_and_too_many_interests(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    await make_member(runtime, settings, "newbie")
    taken = await post_form(browser, "/signup", None, {**GOOD, "email": "other@example.org"})
    assert taken.status_code == 422
    assert re.search(
        r'id="f-username-error"[^>]*>The username .{1,5}newbie.{1,5} is already taken', taken.text
    )
    many = ", ".join(f"tag{i}" for i in range(31))
    response = await post_form(
        browser, "/signup", None, {**GOOD, "username": "other", "interests": many}
    )
    assert response.status_code == 422
    assert 'id="f-interests-error"' in response.text


async def test_interests_in_use_are_offered(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    await make_member(
        runtime, settings, "gardener", profile=ProfileChange(interests=["permaculture", "bees"])
    )
    page = await browser.get("/signup")
    assert '<datalist id="interests-in-use">' in page.text
    assert '<option value="permaculture">' in page.text


async def test_approved_mode_waits_for_an_admin(
    browser: httpx.AsyncClient, runtime: Runtime
) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", "approved")
    page = await browser.get("/signup")
    assert "An admin reviews every new account" in page.text
    response = await post_form(browser, "/signup", None, GOOD)
    assert response.status_code == 200
    assert "reviews new accounts" in response.text
    assert "fedinet_session" not in browser.cookies
    user = await users_db.get_user_by_username(runtime.pool, "newbie")
    assert user is not None and not user.approved
    login = await post_form(
        browser, "/login", None, {"login": "newbie", "password": GOOD["password"]}
    )
    assert login.status_code == 422 and "waiting for approval" in login.text
    assert (await browser.get("/@newbie")).status_code == 404


@pytest.mark.parametrize("mode", ["invite", "invite-only"])
async def test_invite_mode_needs_a_usable_code(
    mode: str, browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", mode)
    code, _ = await registrations.create_invite(runtime.pool, created_by=None, max_uses=1)
    page = await browser.get("/signup")
    assert 'name="invite"' in page.text
    missing = await post_form(browser, "/signup", None, GOOD)
    assert missing.status_code == 422 and 'id="f-invite-error"' in missing.text
    wrong = await post_form(browser, "/signup", None, {**GOOD, "invite": "bogus"})
    assert wrong.status_code == 422 and "not known here" in wrong.text
    prefilled = await browser.get(f"/signup?invite={code}")
    assert f'value="{code}"' in prefilled.text
    ok = await post_form(browser, "/signup", None, {**GOOD, "invite": code})
    assert ok.status_code == 303
    other = httpx.AsyncClient(transport=browser._transport, base_url=settings.url)
    async with other:
        used = await post_form(
            other,
            "/signup",
            None,
            {**GOOD, "username": "second", "email": "s@example.org", "invite": code},
        )
    assert used.status_code == 422 and "used up" in used.text


async def test_closed_mode_refuses(browser: httpx.AsyncClient, runtime: Runtime) -> None:
    await instance_db.set_instance_setting(runtime.pool, "registration_mode", "closed")
    page = await browser.get("/signup")
    assert "not accepting new members" in page.text
    assert 'name="username"' not in page.text
    token = csrf_of((await browser.get("/login")).text)
    response = await browser.post("/signup", data={"csrf_token": token, **GOOD})
    assert response.status_code == 403
    assert await users_db.get_user_by_username(runtime.pool, "newbie") is None


async def test_rules_must_be_agreed_to(browser: httpx.AsyncClient, runtime: Runtime) -> None:
    await instance_db.set_instance_setting(runtime.pool, "rules", ["Be kind.", {"text": "No ads."}])
    page = await browser.get("/signup")
    assert "Be kind." in page.text and "No ads." in page.text
    refused = await post_form(browser, "/signup", None, GOOD)
    assert refused.status_code == 422 and 'id="f-agree-error"' in refused.text
    accepted = await post_form(browser, "/signup", None, {**GOOD, "agree": "yes"})
    assert accepted.status_code == 303
