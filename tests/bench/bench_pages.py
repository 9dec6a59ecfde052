"""Server time of fedinet's web pages: ``python -m tests.bench.bench_pages`` (by hand,
never pytest).

A fresh database on an embedded PostgreSQL (default, durable settings) gets
``--accounts`` accounts (default 100,000: half local members, half remote accounts on
200 servers), all discoverable, with motives, interests (from a list of 60, Zipf-like)
and regions (from 40), plus a logged-in viewer who follows 300 of them, has 3,000 posts
in their home feed and 20 pending follow requests with notes. Then ``ANALYZE``.

Each page is requested ``--requests`` times (after 20 untimed) straight through the
ASGI app — no sockets, no client — so the figure is the server's own time: routing,
session lookup, queries, rendering, headers. The CPU time of this Python process per
request is printed too (PostgreSQL's is not in it): it is what the machine's load
cannot inflate. A bare starlette route answering a fixed
HTML string is measured the same way in the same run, as the floor.

The goal (issue #7): every page under 50 ms of server time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.pool import ensure_database, with_database
from fedinet.runtime import Runtime, open_runtime
from fedinet.services import web_sessions
from fedinet.services.accounts import create_member
from fedinet.services.profile import ProfileChange, update_profile
from fedinet.services.registrations import interests_in_use
from tests.bench._common import machine_description, median, percentile

GOAL_MS = 50.0
INTERESTS = [
    "gardening",
    "birding",
    "chess",
    "jazz",
    "sourdough",
    "knitting",
    "cycling",
    "hiking",
    "woodworking",
    "astronomy",
    "philosophy",
    "poetry",
    "pottery",
    "climbing",
    "running",
    "baking",
    "fermenting",
    "calligraphy",
    "origami",
    "sailing",
    "canoeing",
    "permaculture",
    "composting",
    "foraging",
    "linocut",
    "printmaking",
    "typography",
    "bookbinding",
    "letterpress",
    "boardgames",
    "rpg",
    "synths",
    "modular",
    "vinyl",
    "podcasts",
    "languages",
    "esperanto",
    "genealogy",
    "archaeology",
    "geology",
    "mycology",
    "lichens",
    "mosses",
    "ferns",
    "orchids",
    "beekeeping",
    "photography",
    "painting",
    "drawing",
    "cooking",
    "travel",
    "football",
    "basketball",
    "tennis",
    "swimming",
    "yoga",
    "meditation",
    "theatre",
    "film",
    "anime",
]
REGIONS = [f"City {i}, Region {i % 7}, Country {i % 5}" for i in range(40)]
MOTIVES = ("professional", "shared-interests", "hobbies", "friendship", "local")


async def load(runtime: Runtime, settings: Settings, accounts: int, seed: int) -> dict[str, Any]:
    pool = runtime.pool
    async with pool.acquire() as conn:
        me = await create_member(
            conn, settings, username="viewer", email="viewer@example.org", password="x" * 12
        )
        viewer, user = await update_profile(
            conn,
            settings,
            me.actor,
            me.user,
            ProfileChange(
                display_name="Viewer",
                bio="I garden, watch birds and play chess in City 3.",
                motives=["friendship", "hobbies", "local"],
                interests=["gardening", "birding", "chess", "jazz"],
                region=REGIONS[3],
            ),
        )
        rng = random.Random(seed)
        await conn.execute("SELECT setseed($1)", rng.random())
        started = time.monotonic()
        # Accounts: interests drawn with weights falling like 1/rank (Zipf s = 1).
        await conn.execute(
            """
            WITH words AS (SELECT $2::text[] AS tags, $3::text[] AS regions,
                                  $4::text[] AS motives)
            INSERT INTO actors (uri, is_local, actor_type, username, domain, display_name,
                                summary, url, inbox_uri, discoverable, motives, interests,
                                region, created_at, updated_at, published)
            SELECT CASE WHEN g % 2 = 0
                        THEN 'https://bench.example/users/m' || g
                        ELSE 'https://s' || (g % 200) || '.example/users/r' || g END,
                   g % 2 = 0, 'Person',
                   CASE WHEN g % 2 = 0 THEN 'm' || g ELSE 'r' || g END,
                   CASE WHEN g % 2 = 0 THEN 'bench.example' ELSE 's' || (g % 200) || '.example'
                   END,
                   'Person ' || g,
                   '<p>I like ' || w.tags[1 + (g % 60)] || ' and ' || w.tags[1 + (g * 7 % 60)]
                       || '. Say hello!</p>',
                   NULL, 'https://x.example/inbox/' || g, true,
                   ARRAY(SELECT DISTINCT w.motives[1 + floor(random() * 5)::int]
                         FROM generate_series(1, 1 + (g % 3))),
                   ARRAY(SELECT DISTINCT
                             w.tags[least(60, 1 + floor(exp(random() * ln(61)) - 1)::int)]
                         FROM generate_series(1, 2 + (g % 5))),
                   CASE WHEN g % 4 = 0 THEN NULL ELSE w.regions[1 + (g % 40)] END,
                   now() - (g % 900) * interval '1 day',
                   now() - (g % 300) * interval '1 hour',
                   now() - (g % 900) * interval '1 day'
            FROM generate_series(1, $1) AS g, words w
            """,
            accounts,
            INTERESTS,
            REGIONS,
            list(MOTIVES),
        )
        await conn.execute(
            """
            INSERT INTO users (actor_id, email, password_hash, is_admin)
            SELECT id, username || '@example.org', 'scrypt$15$8$1$x$y', false
            FROM actors WHERE is_local AND domain = 'bench.example' AND username LIKE 'm%'
            """
        )
        # The viewer follows 300 accounts; they posted 3,000 statuses to the home feed.
        await conn.execute(
            """
            INSERT INTO follows (uri, follower_id, followee_id, state, accepted_at)
            SELECT 'https://bench.example/follows/' || a.id, $1, a.id, 'accepted', now()
            FROM actors a WHERE a.username LIKE 'm%' AND a.id % 97 = 0 LIMIT 300
            """,
            viewer.id,
        )
        await conn.execute(
            """
            INSERT INTO statuses (id, uri, actor_id, is_local, visibility, content, published)
            SELECT fedinet_id(now() - g * interval '1 minute'),
                   'https://bench.example/s/' || g, f.followee_id, true, 'public',
                   '<p>Post number ' || g || ' about #gardening and the weather.</p>',
                   now() - g * interval '1 minute'
            FROM generate_series(1, 3000) AS g
            JOIN LATERAL (SELECT followee_id FROM follows WHERE follower_id = $1
                          OFFSET (g % 300) LIMIT 1) f ON true
            """,
            viewer.id,
        )
        await conn.execute(
            "INSERT INTO home_feed (owner_id, status_id) "
            "SELECT $1, id FROM statuses WHERE uri LIKE 'https://bench.example/s/%'",
            viewer.id,
        )
        # 20 pending requests with notes.
        await conn.execute(
            """
            INSERT INTO follows (uri, follower_id, followee_id, state, note, motive)
            SELECT 'https://bench.example/requests/' || a.id, a.id, $1, 'pending',
                   'Hello! I saw you like gardening and birding in City 3; I would enjoy '
                   || 'swapping notes about the birds in my garden.', 'friendship'
            FROM actors a WHERE a.username LIKE 'r%' AND a.id % 89 = 0 LIMIT 20
            """,
            viewer.id,
        )
        await conn.execute(
            """
            INSERT INTO request_notes (follower_id, followee_id, note, outcome)
            SELECT follower_id, followee_id, note, 'pending' FROM follows
            WHERE followee_id = $1 AND state = 'pending'
            """,
            viewer.id,
        )
        await conn.execute("VACUUM ANALYZE")
        loaded = time.monotonic() - started
        member = await conn.fetchval(
            "SELECT username FROM actors WHERE username LIKE 'm%' AND 'gardening' = ANY(interests) "
            "AND id % 97 = 0 LIMIT 1"
        )
        remote = await conn.fetchrow(
            "SELECT username, domain FROM actors WHERE username LIKE 'r%' LIMIT 1"
        )
        assert remote is not None
        max_id = await conn.fetchval(
            "SELECT status_id FROM home_feed WHERE owner_id = $1 ORDER BY status_id DESC "
            "OFFSET 40 LIMIT 1",
            viewer.id,
        )
    token, _ = await web_sessions.start_session(pool, user, user_agent="bench", ip="127.0.0.1")
    return {
        "token": token,
        "member": member,
        "remote": f"{remote['username']}@{remote['domain']}",
        "max_id": max_id,
        "load_seconds": loaded,
    }


async def call(
    app: Any, method: str, path: str, *, cookie: str = "", body: bytes = b""
) -> tuple[int, float]:
    """One request straight through the ASGI app: (status, seconds of server time)."""
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"bench.example"), (b"accept", b"text/html")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("bench.example", 443),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    start = time.perf_counter()
    await app(scope, receive, send)
    return status, time.perf_counter() - start


def bare() -> Starlette:
    page = "<!DOCTYPE html><html><head><title>bare</title></head><body><p>hi</p></body></html>"

    async def endpoint(request: Request) -> Response:
        return HTMLResponse(page)

    return Starlette(routes=[Route("/bare", endpoint)])


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="fedinet-bench-pages-"))
    server = EmbeddedPostgres(workdir / "postgres")
    server_dsn = server.acquire()
    try:
        name = f"fedinet_bench_pages_{os.getpid()}"
        await ensure_database(server_dsn, name)
        settings = Settings(
            url="https://bench.example",
            database_url=with_database(server_dsn, name),
            data_dir=workdir,
            secret_key="bench-secret-" + "z" * 40,
            workers_in_web=False,
        )
        async with open_runtime(settings) as runtime:
            data = await load(runtime, settings, args.accounts, args.seed)
            print(f"loaded {args.accounts:,} accounts in {data['load_seconds']:.1f} s")
            app = create_app(settings, runtime=runtime)
            cookie = f"fedinet_session={data['token']}"
            session = await web_sessions.resolve_session(runtime.pool, data["token"])
            assert session is not None
            from fedinet.web.pages import kit

            nonce = "benchbenchbenchbenchbench"
            token = kit._mac(settings.secret_key, "web-csrf", f"{nonce}:{session.session.id}")
            post_cookie = f"{cookie}; fedinet_csrf={nonce}"
            check_body = (
                f"csrf_token={token}&note=Hello+there%2C+I+saw+you+like+gardening+and+"
                "birding%3B+I+would+enjoy+swapping+notes+about+the+birds+here."
            ).encode()
            pages: list[tuple[str, str, str, bytes, str]] = [
                ("start page (anonymous)", "GET", "/", b"", ""),
                ("log in (anonymous)", "GET", "/login", b"", ""),
                ("sign up (anonymous)", "GET", "/signup", b"", ""),
                ("discover (anonymous)", "GET", "/discover", b"", ""),
                ("discover, ranked for the viewer", "GET", "/discover", b"", cookie),
                ("discover ?interest=birding", "GET", "/discover?interest=birding", b"", cookie),
                (
                    "discover ?motive=friendship&near=1",
                    "GET",
                    "/discover?motive=friendship&near=1",
                    b"",
                    cookie,
                ),
                ("discover page 5", "GET", "/discover?page=5", b"", cookie),
                ("profile of a local member", "GET", f"/@{data['member']}", b"", cookie),
                ("profile of a remote account", "GET", f"/@{data['remote']}", b"", cookie),
                ("follow composer", "GET", f"/@{data['member']}/follow", b"", cookie),
                (
                    "live note check (JSON)",
                    "POST",
                    f"/@{data['member']}/follow/check",
                    check_body,
                    post_cookie,
                ),
                ("follow requests (20)", "GET", "/follow_requests", b"", cookie),
                ("home", "GET", "/home", b"", cookie),
                ("home, older page", "GET", f"/home?max_id={data['max_id']}", b"", cookie),
                ("404 page", "GET", "/no/such/page", b"", cookie),
            ]
            results: dict[str, Any] = {}
            bare_app = bare()
            for _ in range(20):
                await call(bare_app, "GET", "/bare")
            times = []
            for _ in range(args.requests):
                status, seconds = await call(bare_app, "GET", "/bare")
                assert status == 200
                times.append(seconds * 1000)
            times.sort()
            results["bare starlette route"] = _summary(times)
            print(_line("bare starlette route", results["bare starlette route"]))
            for label, method, path, body, page_cookie in pages:
                for _ in range(20):
                    status, _ = await call(app, method, path, cookie=page_cookie, body=body)
                expected = 404 if "404" in label else 200
                assert status == expected, (label, status)
                times = []
                cpu = time.process_time()
                for _ in range(args.requests):
                    status, seconds = await call(app, method, path, cookie=page_cookie, body=body)
                    times.append(seconds * 1000)
                cpu_ms = (time.process_time() - cpu) * 1000 / args.requests
                times.sort()
                results[label] = {**_summary(times), "python_cpu_ms": round(cpu_ms, 2)}
                print(_line(label, results[label]))
            # the type-ahead list, uncached (it is kept a minute per process)
            times = []
            for _ in range(20):
                from fedinet.services import registrations

                registrations._interest_cache.clear()
                start = time.perf_counter()
                await interests_in_use(runtime.pool, settings)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            results["interests in use, uncached (once a minute)"] = _summary(times)
            print(
                _line(
                    "interests in use, uncached",
                    results["interests in use, uncached (once a minute)"],
                )
            )
        return {
            "machine": machine_description(),
            "accounts": args.accounts,
            "requests": args.requests,
            "results": results,
        }
    finally:
        server.release()


def _summary(sorted_ms: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(median(sorted_ms), 2),
        "p99_ms": round(percentile(sorted_ms, 0.99), 2),
        "max_ms": round(sorted_ms[-1], 2),
    }


def _line(label: str, summary: dict[str, float]) -> str:
    flag = "" if summary["p99_ms"] < GOAL_MS else "   <-- over the goal"
    cpu = summary.get("python_cpu_ms")
    return (
        f"{label:40s} median {summary['median_ms']:6.2f} ms  p99 {summary['p99_ms']:6.2f} ms"
        f"  max {summary['max_ms']:7.2f} ms"
        + (f"  (python CPU {cpu:5.2f} ms)" if cpu is not None else "")
        + flag
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", default="bench_pages.json")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
