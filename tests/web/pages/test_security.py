"""CSRF on every form, security headers, cookies, escaping and error pages."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.runtime import Runtime
from fedinet.web import pages
from tests.web.pages.conftest import Browser, csrf_of, log_in, make_member, post_form

# Every POST route of the pages, with sample path parameters.
_SAMPLE_PARAMS = {"token": "x" * 20, "username": "someone", "id": "1", "acct": "a@b.example"}


def _post_paths() -> list[str]:
    paths = []
    for route in pages.routes:
        if isinstance(route, Route) and route.methods and "POST" in route.methods:
            path = route.path
            for name, value in _SAMPLE_PARAMS.items():
                path = path.replace("{" + name + "}", value)
            paths.append(re.sub(r"\{[^}]+\}", "1", path))
    return paths


def test_there_are_post_routes_to_check() -> None:
    assert {"/login", "/logout", "/signup"} <= set(_post_paths())


async def test_every_post_without_csrf_token_is_refused_with_a_page(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    browser = await new_browser()
    await log_in(browser, member)
    for path in _post_paths():
        response = await browser.post(path, data={"note": "hi", "password": "whatever"})
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "did not come from this site" in response.text, path
    # still logged in, nothing happened
    assert (await browser.get("/home")).status_code == 200
    assert await runtime.pool.fetchval("SELECT count(*) FROM statuses") == 0


async def test_wrong_or_foreign_csrf_token_is_refused(
    new_browser: Browser, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    attacker = await new_browser()
    foreign_token = csrf_of((await attacker.get("/login")).text)
    victim = await new_browser()
    await victim.get("/login")
    data = {"login": member.actor.username, "password": member.password}
    wrong = await victim.post("/login", data={**data, "csrf_token": "nonsense"})
    assert wrong.status_code == 403
    foreign = await victim.post("/login", data={**data, "csrf_token": foreign_token})
    assert foreign.status_code == 403
    assert "fedinet_session" not in victim.cookies


async def test_token_from_before_login_does_not_work_after_login(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    before = csrf_of((await browser.get("/login")).text)
    await log_in(browser, member)
    response = await browser.post("/logout", data={"csrf_token": before})
    assert response.status_code == 403


async def test_cross_origin_post_is_refused_even_with_a_token(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    token = csrf_of((await browser.get("/login")).text)
    response = await browser.post(
        "/login",
        data={"csrf_token": token, "login": "alice", "password": member.password},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "another site" in response.text


async def test_pages_carry_strict_headers_and_no_inline_code(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    member = await make_member(runtime, settings, "alice")
    anonymous = ["/", "/login", "/signup", "/password/forgot", "/about"]
    for path in anonymous:
        response = await browser.get(path)
        assert response.status_code == 200, path
        _check_page(response)
    await log_in(browser, member)
    for path in ["/home"]:
        _check_page(await browser.get(path))


def _check_page(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\sstyle=", html), "style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


async def test_session_cookie_is_httponly_lax_and_secure_on_https(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    assert settings.url.startswith("https://")
    member = await make_member(runtime, settings, "alice")
    response = await log_in(browser, member)
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    # opaque: the database holds only a hash of it
    stored = await runtime.pool.fetchval("SELECT count(*) FROM web_sessions")
    assert stored == 1
    leaked = await runtime.pool.fetchval(
        "SELECT count(*) FROM web_sessions WHERE token_hash = convert_to($1, 'utf8')", token
    )
    assert leaked == 0


async def test_session_cookie_is_not_secure_on_plain_http(
    settings: Settings, runtime: Runtime
) -> None:
    plain = Settings(**{**_fields(settings), "url": "http://fedinet.test"})
    member = await make_member(runtime, plain, "bob")
    transport = httpx.ASGITransport(app=create_app(plain, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url=plain.url) as browser:
        response = await log_in(browser, member)
    cookie = next(v for k, v in response.headers.multi_items() if "fedinet_session" in v)
    assert "Secure" not in cookie and "HttpOnly" in cookie


def _fields(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


async def test_user_text_is_escaped(
    browser: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    response = await post_form(
        browser,
        "/signup",
        None,
        {"username": "<script>alert(1)</script>", "email": "x@example.org", "password": "short"},
    )
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_browser_404_is_a_page_and_api_404_stays_json(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Nothing here" in page.text
    assert page.headers["content-security-policy"]
    api = await browser.get("/api/v1/statuses/999999999")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
    assert "error" in api.json()
    plain = await browser.get("/no/such/page", headers={"accept": "application/json"})
    assert plain.status_code == 404
    assert "<html" not in plain.text


async def test_member_pages_redirect_to_login(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/home")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/home"


async def test_server_error_page(settings: Settings, runtime: Runtime) -> None:
    async def boom(request: object) -> None:
        raise RuntimeError("kaboom")

    app = create_app(settings, runtime=runtime)
    app.router.routes.insert(0, Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=settings.url) as browser:
        page = await browser.get("/boom", headers={"accept": "text/html"})
        api = await browser.get("/boom", headers={"accept": "application/json"})
    assert page.status_code == 500
    assert "Something broke" in page.text and "kaboom" not in page.text
    assert api.status_code == 500 and "<html" not in api.text


async def test_static_files_are_served(browser: httpx.AsyncClient) -> None:
    css = await browser.get("/static/fedinet.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = await browser.get("/static/fedinet.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert (await browser.get("/static/../kit.py")).status_code == 404
