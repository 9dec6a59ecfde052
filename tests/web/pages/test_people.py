"""Profiles, discover, the follow composer, follow requests and home, through the pages."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from fedinet.config import Settings
from fedinet.db import actors as actors_db
from fedinet.db import follows as follows_db
from fedinet.db import interactions as interactions_db
from fedinet.db import statuses as statuses_db
from fedinet.models import Actor
from fedinet.runtime import Runtime
from fedinet.services.profile import ProfileChange
from tests.web.pages.conftest import Browser, Member, csrf_of, log_in, make_member, post_form

GENERIC = "I'd like to add you to my network"
PERSONAL = (
    "Hi Bob! I saw you are into birding and gardening too. I have been trying to attract "
    "warblers to my garden in Nashville; what did you plant for them?"
)


@pytest.fixture
async def alice(runtime: Runtime, settings: Settings) -> Member:
    return await make_member(
        runtime,
        settings,
        "alice",
        profile=ProfileChange(
            display_name="Alice",
            bio="Tomatoes and birds.",
            motives=["friendship", "hobbies", "support"],
            interests=["gardening", "birding", "jazz"],
            region="Nashville, TN, US",
        ),
    )


@pytest.fixture
async def bob(runtime: Runtime, settings: Settings) -> Member:
    return await make_member(
        runtime,
        settings,
        "bob",
        profile=ProfileChange(
            display_name="Bob",
            bio="I count birds <b>every</b> morning.",
            motives=["friendship", "life-partner"],
            interests=["birding", "gardening", "chess"],
            region="Nashville, TN, US",
        ),
    )


@pytest.fixture
async def carol(runtime: Runtime, settings: Settings) -> Member:
    return await make_member(
        runtime,
        settings,
        "carol",
        profile=ProfileChange(motives=["professional"], interests=["chess"], region="Oslo"),
    )


async def test_profile_for_anonymous_and_member(
    new_browser: Browser, alice: Member, bob: Member
) -> None:
    anonymous = await new_browser()
    page = await anonymous.get("/@bob")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Bob</h1>" in html
    assert "I count birds &lt;b&gt;every&lt;/b&gt; morning." in html  # bio is text
    assert "#birding" in html and "Nashville, TN, US" in html
    assert "friendship" in html and "a life partner" not in html  # private motive hidden
    assert "What you share" not in html
    assert "/login?next=" in html
    member = await new_browser()
    await log_in(member, alice)
    html = (await member.get("/@bob")).text
    assert "What you share" in html
    assert "2 shared interests: #gardening #birding" in html
    assert "both here for friendship" in html and "both in Nashville, TN, US" in html
    assert 'href="/@bob/follow"' in html


async def test_own_profile_shows_private_motives(browser: httpx.AsyncClient, alice: Member):
    await log_in(browser, alice)
    html = (await browser.get("/@alice")).text
    assert "peer support" in html and "(private)" in html


async def _dana(runtime: Runtime, **extra: Any) -> Actor:
    """dana@remote.example, as this server has cached her."""
    return await actors_db.upsert_remote_actor(
        runtime.pool,
        uri="https://remote.example/users/dana",
        actor_type="Person",
        username="dana",
        domain="remote.example",
        display_name="Dana",
        inbox_uri="https://remote.example/users/dana/inbox",
        **extra,
    )


async def test_remote_profile_from_cached_data(
    browser: httpx.AsyncClient, runtime: Runtime, alice: Member
) -> None:
    await _dana(
        runtime,
        summary='<p>Hello <script>alert(1)</script><a href="https://x.example">x</a></p>',
        interests=["birding"],
        motives=["friendship"],
    )
    page = await browser.get("/@dana@remote.example")
    assert page.status_code == 200, page.text
    assert "Dana" in page.text and "on remote.example" in page.text
    assert "<script>alert(1)" not in page.text
    await log_in(browser, alice)
    page = await browser.get("/@dana@remote.example")
    assert "1 shared interest: #birding" in page.text
    assert (await browser.get("/@nobody@remote.example")).status_code == 404


async def test_discover_filters_and_says_why(
    new_browser: Browser, alice: Member, bob: Member, carol: Member
) -> None:
    browser = await new_browser()
    await log_in(browser, alice)
    page = (await browser.get("/discover")).text
    # bob shares the most with alice: first, with the reason
    assert page.index(">Bob<") < page.index(">carol<")
    assert "2 shared interests: #gardening #birding · both here for friendship" in page
    by_interest = (await browser.get("/discover?interest=chess")).text
    assert ">Bob<" in by_interest and ">carol<" in by_interest and ">Alice<" not in by_interest
    by_motive = (await browser.get("/discover?motive=professional")).text
    assert ">carol<" in by_motive and ">Bob<" not in by_motive
    # a private motive never lists anyone
    private = (await browser.get("/discover?motive=life-partner")).text
    assert ">Bob<" not in private
    near = (await browser.get("/discover?near=1")).text
    assert ">Bob<" in near and ">carol<" not in near
    anonymous = await new_browser()
    listed = (await anonymous.get("/discover?interest=%23Birding")).text
    assert ">Bob<" in listed and "interested in #birding" in listed


async def test_generic_note_is_refused_then_personal_note_is_sent(
    new_browser: Browser, runtime: Runtime, alice: Member, bob: Member
) -> None:
    browser = await new_browser()
    await log_in(browser, alice)
    composer = await browser.get("/@bob/follow")
    assert composer.status_code == 200
    assert "What you share" in composer.text
    assert "What got you into #gardening?" in composer.text
    assert "reads follow requests with a personal note" in composer.text
    assert 'data-note-check="/@bob/follow/check"' in composer.text
    assert "direct message" not in composer.text  # bob is local
    token = csrf_of(composer.text)
    check = await browser.post("/@bob/follow/check", data={"csrf_token": token, "note": GENERIC})
    assert check.status_code == 200
    assert check.json()["ok"] is False and check.json()["reason"] == "note_too_short"
    good = await browser.post("/@bob/follow/check", data={"csrf_token": token, "note": PERSONAL})
    assert good.json() == {
        "ok": True,
        "reason": None,
        "message": good.json()["message"],
        "hint": "",
    }
    refused = await browser.post(
        "/@bob/follow", data={"csrf_token": token, "note": GENERIC, "motive": "friendship"}
    )
    assert refused.status_code == 422
    assert "too short" in refused.text and 'id="f-note-error"' in refused.text
    assert GENERIC.replace("'", "&#39;") in refused.text  # the note is kept
    assert 'value="friendship" selected' in refused.text
    assert await follows_db.get_follow(runtime.pool, alice.actor.id, bob.actor.id) is None
    sent = await browser.post(
        "/@bob/follow", data={"csrf_token": token, "note": PERSONAL, "motive": "friendship"}
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/@bob"
    made = await follows_db.get_follow(runtime.pool, alice.actor.id, bob.actor.id)
    assert made is not None and made.state == "pending" and made.motive == "friendship"
    profile = await browser.get("/@bob")
    assert "on their way to Bob" in profile.text and "Withdraw it" in profile.text


async def test_composer_for_a_non_fedinet_account_says_direct_message(
    browser: httpx.AsyncClient, runtime: Runtime, alice: Member
) -> None:
    await actors_db.upsert_remote_actor(
        runtime.pool,
        uri="https://masto.example/users/eve",
        actor_type="Person",
        username="eve",
        domain="masto.example",
        inbox_uri="https://masto.example/users/eve/inbox",
    )
    await log_in(browser, alice)
    page = await browser.get("/@eve@masto.example/follow")
    assert page.status_code == 200
    assert "will also arrive as a direct message" in page.text


async def test_requests_page_accept_reject_block(
    new_browser: Browser,
    runtime: Runtime,
    settings: Settings,
    alice: Member,
    bob: Member,
    carol: Member,
) -> None:
    for sender, note in ((alice, PERSONAL), (carol, PERSONAL.replace("Nashville", "Oslo"))):
        b = await new_browser()
        await log_in(b, sender)
        response = await post_form(b, "/@bob/follow", None, {"note": note, "motive": ""})
        assert response.status_code == 303, response.text
    dave = await make_member(runtime, settings, "dave")
    d = await new_browser()
    await log_in(d, dave)
    await post_form(
        d, "/@bob/follow", None, {"note": "Bob, your birding posts from Nashville are great, " * 2}
    )
    browser = await new_browser()
    await log_in(browser, bob)
    home = await browser.get("/home")
    assert re.search(r'aria-label="3 waiting"', home.text)
    page = await browser.get("/follow_requests")
    html = page.text
    assert PERSONAL[:40] in html
    assert "2 shared interests: #birding #gardening" in html  # in bob's order
    assert "Follows 0 · followed by 0" in html and "account 0 days old" in html
    token = csrf_of(html)
    accepted = await browser.post(
        f"/follow_requests/{alice.actor.id}/accept", data={"csrf_token": token}
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == "/follow_requests"
    made = await follows_db.get_follow(runtime.pool, alice.actor.id, bob.actor.id)
    assert made is not None and made.state == "accepted"
    await browser.post(
        f"/follow_requests/{carol.actor.id}/reject",
        data={"csrf_token": token, "reason": "I keep this for local friends."},
    )
    assert await follows_db.get_follow(runtime.pool, carol.actor.id, bob.actor.id) is None
    await browser.post(f"/follow_requests/{dave.actor.id}/block", data={"csrf_token": token})
    assert await runtime.pool.fetchval(
        "SELECT count(*) FROM blocks WHERE actor_id = $1 AND target_id = $2",
        bob.actor.id,
        dave.actor.id,
    )
    assert "No requests are waiting" in (await browser.get("/follow_requests")).text
    # alice, now an accepted follower, sees bob's private motive
    a = await new_browser()
    await log_in(a, alice)
    assert "a life partner" in (await a.get("/@bob")).text
    # another member cannot answer bob's requests: there are none for them
    other = await browser.post(
        f"/follow_requests/{alice.actor.id}/accept", data={"csrf_token": token}
    )
    assert other.status_code == 303  # already accepted: idempotent


async def test_home_timeline_post_reply_like_boost_and_pages(
    new_browser: Browser, runtime: Runtime, alice: Member, bob: Member
) -> None:
    a = await new_browser()
    await log_in(a, alice)
    await post_form(a, "/@bob/follow", None, {"note": PERSONAL})
    b = await new_browser()
    await log_in(b, bob)
    await post_form(b, "/follow_requests", f"/follow_requests/{alice.actor.id}/accept", {})
    empty = await post_form(b, "/home", "/statuses", {"text": "  ", "visibility": "public"})
    assert empty.status_code == 422 and 'id="f-text-error"' in empty.text
    for i in range(22):
        await post_form(
            b, "/home", "/statuses", {"text": f"Warbler count {i}", "visibility": "public"}
        )
    await post_form(
        b,
        "/home",
        "/statuses",
        {"text": "Spoiler inside", "visibility": "private", "spoiler_text": "birds <3"},
    )
    home = (await a.get("/home")).text
    assert "Spoiler inside" in home and "birds &lt;3" in home and "<details>" in home
    assert "Warbler count 21" in home and "Warbler count 0" not in home
    older = re.search(r'href="(/home\?max_id=\d+)"', home)
    assert older
    page2 = (await a.get(older.group(1))).text
    assert "Warbler count 0" in page2 and "Warbler count 21" not in page2
    status_id = int(re.findall(r'action="/statuses/(\d+)/reblog"', home)[0])
    token = csrf_of(home)
    liked = await a.post(f"/statuses/{status_id}/favourite", data={"csrf_token": token})
    assert liked.status_code == 303
    await a.post(f"/statuses/{status_id}/reblog", data={"csrf_token": token})
    await a.post(
        "/statuses",
        data={
            "csrf_token": token,
            "text": "@bob lovely!",
            "in_reply_to_id": str(status_id),
            "visibility": "unlisted",
        },
    )
    home = (await a.get("/home")).text
    assert "Liked (1)" in home and "Boosted (1)" in home and "lovely!" in home
    assert "in reply to" in home
    bob_home = (await b.get("/home")).text
    assert "lovely!" in bob_home  # the mention reaches bob


async def test_home_shows_local_media_and_links_remote_media(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member
) -> None:
    """Another server's files are linked, never loaded by the page (the reader's address
    stays here); this server's are shown; only http(s) URLs become links; sensitive
    media waits behind a click."""
    dana = await _dana(runtime)
    local_url = f"{settings.url}/system/media/1-abcdefghijklmnopqrstuvwx.png"
    status = await statuses_db.insert_status(
        runtime.pool,
        uri="https://remote.example/notes/1",
        actor_id=dana.id,
        is_local=False,
        visibility="public",
        content="<p>Herons at dawn</p>",
        sensitive=True,
        attachments=[
            {
                "type": "Document",
                "media_type": "image/jpeg",
                "description": "a heron",
                "url": "https://remote.example/media/heron.jpg",
            },
            {
                "type": "Document",
                "media_type": "video/mp4",
                "url": "https://remote.example/m/fly.mp4",
            },
            {"type": "Document", "media_type": "image/png", "url": "javascript:alert(1)"},
            {
                "type": "Document",
                "media_type": "image/png",
                "description": "ours",
                "url": local_url,
                "width": 40,  # and no height: no size is given to the page
            },
        ],
    )
    await interactions_db.add_to_home_feeds(runtime.pool, status.id, [alice.actor.id])
    await log_in(browser, alice)
    home = (await browser.get("/home")).text
    assert "Herons at dawn" in home
    assert "Sensitive media" in home
    assert '<img src="https://remote.example' not in home and "<video" not in home
    link = '<a href="https://remote.example/media/heron.jpg" rel="noopener noreferrer nofollow">'
    assert link + "Image: a heron</a>" in home
    assert (
        '<a href="https://remote.example/m/fly.mp4" rel="noopener noreferrer nofollow">Video</a>'
        in home
    )
    assert "(on remote.example)" in home
    assert "javascript:" not in home
    assert f'<img src="{local_url}" alt="ours" loading="lazy">' in home


async def test_connect_link_needs_no_note(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings, alice: Member, bob: Member
) -> None:
    from fedinet.services.follows import create_connect_link

    async with runtime.pool.acquire() as conn:
        link, url = await create_connect_link(conn, settings, bob.actor)
    assert url.endswith(f"?connect={link.code}")
    await log_in(browser, alice)
    profile = await browser.get(f"/@bob?connect={link.code}")
    assert f'href="/@bob/follow?connect={link.code}"' in profile.text
    composer = await browser.get(f"/@bob/follow?connect={link.code}")
    assert "connect link: no note is needed" in composer.text
    sent = await browser.post(
        "/@bob/follow",
        data={"csrf_token": csrf_of(composer.text), "note": "", "connect_code": link.code},
    )
    assert sent.status_code == 303
    made = await follows_db.get_follow(runtime.pool, alice.actor.id, bob.actor.id)
    assert made is not None and made.state == "accepted"
    # a made-up code is refused with a reason, next to the note
    carol = await make_member(runtime, settings, "carol2")
    composer = await browser.get("/@carol2/follow?connect=bogus")
    refused = await browser.post(
        "/@carol2/follow",
        data={"csrf_token": csrf_of(composer.text), "note": "", "connect_code": "bogus"},
    )
    assert refused.status_code == 422 and "connect link is not valid" in refused.text
    assert await follows_db.get_follow(runtime.pool, alice.actor.id, carol.actor.id) is None
