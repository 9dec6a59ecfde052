"""The admin pages: only for admins, every form re-rendered with its error on bad input,
and what they change is what the rest of fedinet then does."""

from __future__ import annotations

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import interactions as interactions_db
from fedinet.runtime import Runtime
from fedinet.services.admin import instance
from tests.web.pages.conftest import Browser, Member, log_in, make_member, post_form

PAGES = (
    "/admin",
    "/admin/members",
    "/admin/rules",
    "/admin/canned",
    "/admin/domains",
    "/admin/reports",
    "/admin/queue",
)


@pytest.fixture
async def admin_browser(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> httpx.AsyncClient:
    boss = await make_member(runtime, settings, "boss", is_admin=True)
    browser = await new_browser()
    await log_in(browser, boss)
    return browser


async def test_only_admins_get_in(
    new_browser: Browser, runtime: Runtime, settings: Settings, admin_browser: httpx.AsyncClient
) -> None:
    anonymous = await new_browser()
    member = await new_browser()
    await log_in(member, await make_member(runtime, settings, "ana"))
    for path in PAGES:
        assert (await anonymous.get(path)).status_code == 303, path
        assert (await member.get(path)).status_code == 403, path
        assert (await admin_browser.get(path)).status_code == 200, path
    # A member's forged POST (with a valid CSRF token of their own) is refused too.
    forged = await post_form(
        member, "/settings", "/admin/domains", {"domain": "x.example", "severity": "suspend"}
    )
    assert forged.status_code == 403
    assert await runtime.pool.fetchval("SELECT count(*) FROM domain_blocks") == 0
    assert 'href="/admin"' in (await admin_browser.get("/home")).text
    assert 'href="/admin"' not in (await member.get("/home")).text


async def test_server_settings(admin_browser: httpx.AsyncClient, runtime: Runtime) -> None:
    saved = await post_form(
        admin_browser, "/admin", "/admin/registration", {"registration_mode": "invite"}
    )
    assert saved.status_code == 303
    assert await instance.get_registration_mode(runtime.pool) == "invite"
    bad = await post_form(
        admin_browser, "/admin", "/admin/registration", {"registration_mode": "all"}
    )
    assert bad.status_code == 422 and 'id="f-registration_mode-error"' in bad.text

    limits = {"per_day": "50", "new_per_day": "60", "new_account_days": "3"}
    refused = await post_form(admin_browser, "/admin", "/admin/limits", limits)
    assert refused.status_code == 422 and 'id="f-new_per_day-error"' in refused.text
    assert 'value="60"' in refused.text  # the input is kept
    limits["new_per_day"] = "10"
    assert (await post_form(admin_browser, "/admin", "/admin/limits", limits)).status_code == 303
    assert await instance.get_sending_limits(runtime.pool) == {
        "per_day": 50,
        "new_per_day": 10,
        "new_account_days": 3,
    }

    about = {
        "title": "Gardeners",
        "short_description": "For gardeners.",
        "description": "A <b>place</b>.",
        "contact_email": "nope",
    }
    refused = await post_form(admin_browser, "/admin", "/admin/about", about)
    assert refused.status_code == 422 and 'id="f-contact_email-error"' in refused.text
    assert "A &lt;b&gt;place&lt;/b&gt;." in refused.text
    assert (await instance.get_instance_texts(runtime.pool))["title"] == ""  # nothing saved
    about["contact_email"] = "admin@example.org"
    assert (await post_form(admin_browser, "/admin", "/admin/about", about)).status_code == 303
    served = (await admin_browser.get("/api/v1/instance")).json()
    assert served["title"] == "Gardeners" and served["description"] == "A <b>place</b>."


async def test_rules_and_canned_invitations(
    admin_browser: httpx.AsyncClient, runtime: Runtime
) -> None:
    added = await post_form(admin_browser, "/admin/rules", None, {"text": "Be kind.", "hint": ""})
    assert added.status_code == 303
    empty = await post_form(admin_browser, "/admin/rules", None, {"text": "  ", "hint": "why"})
    assert empty.status_code == 422 and 'id="f-text-error"' in empty.text
    rules = (await admin_browser.get("/api/v1/instance/rules")).json()
    assert [r["text"] for r in rules] == ["Be kind."]
    assert (
        await post_form(admin_browser, "/admin/rules", "/admin/rules/1/remove", {})
    ).status_code == 303
    assert await instance.get_rules(runtime.pool) == []
    assert (
        await post_form(admin_browser, "/admin/rules", "/admin/rules/1/remove", {})
    ).status_code == 404

    text = "Join my synergy circle, friend!"
    assert (
        await post_form(admin_browser, "/admin/canned", None, {"text": text})
    ).status_code == 303
    again = await post_form(admin_browser, "/admin/canned", None, {"text": text})
    assert again.status_code == 422 and "already listed" in again.text
    item_id = await runtime.pool.fetchval("SELECT id FROM canned_invitations WHERE text = $1", text)
    removed = await post_form(admin_browser, "/admin/canned", f"/admin/canned/{item_id}/remove", {})
    assert removed.status_code == 303
    assert not await runtime.pool.fetchval(
        "SELECT count(*) FROM canned_invitations WHERE text = $1", text
    )


async def test_domain_blocks(admin_browser: httpx.AsyncClient, runtime: Runtime) -> None:
    own = await post_form(
        admin_browser,
        "/admin/domains",
        None,
        {"domain": "fedinet.test", "severity": "suspend", "reason": ""},
    )
    assert own.status_code == 422 and 'id="f-domain-error"' in own.text
    assert "own domain" in own.text
    made = await post_form(
        admin_browser,
        "/admin/domains",
        None,
        {"domain": "spam.example", "severity": "silence", "reason": "ads"},
    )
    assert made.status_code == 303
    page = await admin_browser.get("/admin/domains")
    assert "spam.example is silenced." in page.text and "ads" in page.text
    lifted = await post_form(
        admin_browser, "/admin/domains", "/admin/domains/remove", {"domain": "spam.example"}
    )
    assert lifted.status_code == 303
    assert await runtime.pool.fetchval("SELECT count(*) FROM domain_blocks") == 0


async def _report(runtime: Runtime, reporter: Member, target: Member, comment: str) -> None:
    await interactions_db.insert_report(
        runtime.pool,
        uri=None,
        reporter_actor_id=reporter.actor.id,
        target_actor_id=target.actor.id,
        status_uris=[],
        comment=comment,
        raw=None,
    )


async def test_reports_resolve_and_suspend(
    admin_browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    ana = await make_member(runtime, settings, "ana")
    troll = await make_member(runtime, settings, "troll")
    await _report(runtime, ana, troll, "rude <script>alert(1)</script>")
    await _report(runtime, ana, troll, "still rude")
    page = await admin_browser.get("/admin/reports")
    assert "@troll@fedinet.test" in page.text and "<script>alert" not in page.text
    first, second = [
        r["id"] for r in await runtime.pool.fetch("SELECT id FROM reports ORDER BY id")
    ]

    dismissed = await post_form(
        admin_browser, "/admin/reports", f"/admin/reports/{first}/resolve", {"action": "dismiss"}
    )
    assert dismissed.status_code == 303
    suspended = await post_form(
        admin_browser, "/admin/reports", f"/admin/reports/{second}/resolve", {"action": "suspend"}
    )
    assert suspended.status_code == 303
    assert await runtime.pool.fetchval(
        "SELECT suspended_at IS NOT NULL FROM actors WHERE id = $1", troll.actor.id
    )
    page = await admin_browser.get("/admin/reports")
    assert "is suspended" in page.text and "No open reports." in page.text
    twice = await post_form(
        admin_browser, "/admin/reports", f"/admin/reports/{first}/resolve", {"action": "dismiss"}
    )
    assert twice.status_code == 303  # already resolved: said so, nothing changes
    history = await admin_browser.get("/admin/reports?all=1")
    assert "dismissed" in history.text and "suspended" in history.text


async def test_queue_retry(admin_browser: httpx.AsyncClient) -> None:
    assert "The delivery queue is empty." in (await admin_browser.get("/admin/queue")).text
    bad = await post_form(admin_browser, "/admin/queue", "/admin/queue/retry", {"server": "a b"})
    assert bad.status_code == 422 and 'id="f-server-error"' in bad.text
    good = await post_form(
        admin_browser, "/admin/queue", "/admin/queue/retry", {"server": "idle.example"}
    )
    assert good.status_code == 303


async def test_sign_ups_and_invitations(
    admin_browser: httpx.AsyncClient, new_browser: Browser, runtime: Runtime
) -> None:
    await instance.set_registration_mode(runtime.pool, "approved")
    visitor = await new_browser()
    joined = await post_form(
        visitor,
        "/signup",
        None,
        {"username": "gia", "email": "gia@example.org", "password": "a long enough password"},
    )
    assert joined.status_code == 200 and "approved" in joined.text
    page = await admin_browser.get("/admin/members")
    assert "@gia" in page.text and "gia@example.org" in page.text
    decided = await post_form(
        admin_browser, "/admin/members", "/admin/members/gia/decide", {"action": "approve"}
    )
    assert decided.status_code == 303
    logged = await post_form(
        visitor, "/login", None, {"login": "gia", "password": "a long enough password"}
    )
    assert logged.status_code == 303
    again = await post_form(
        admin_browser, "/admin/members", "/admin/members/gia/decide", {"action": "reject"}
    )
    assert again.status_code == 303  # approved members are not turned down: said so
    assert "@gia is already approved." in (await admin_browser.get("/admin/members")).text
    assert await runtime.pool.fetchval("SELECT approved FROM users WHERE email = 'gia@example.org'")

    bad = await post_form(
        admin_browser, "/admin/members", "/admin/invites", {"max_uses": "0", "days": "7"}
    )
    assert bad.status_code == 422 and 'id="f-max_uses-error"' in bad.text
    made = await post_form(
        admin_browser,
        "/admin/members",
        "/admin/invites",
        {"max_uses": "1", "days": "", "comment": "for my neighbour"},
    )
    assert made.status_code == 303
    page = await admin_browser.get("/admin/members")
    assert "/signup?invite=" in page.text and "for my neighbour" in page.text
    invite_id = await runtime.pool.fetchval("SELECT id FROM invites")
    revoked = await post_form(
        admin_browser, "/admin/members", f"/admin/invites/{invite_id}/revoke", {}
    )
    assert revoked.status_code == 303
    assert await runtime.pool.fetchval("SELECT revoked_at IS NOT NULL FROM invites")
