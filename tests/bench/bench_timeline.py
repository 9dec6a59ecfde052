"""Home timeline under load: ``python -m tests.bench.bench_timeline`` (by hand, never pytest).

One ``fedinet serve`` (one process, workers off) on an instance holding 1,000,000
statuses by 10,000 remote accounts, bulk-loaded with ``generate_series``
(``tests/bench/timeline_seed.py``). The member follows 1,000 of those accounts, so their
home feed holds about 100,000 statuses. ``wrk`` on loopback sends
``GET /api/v1/timelines/home`` (first page, Mastodon's default 20 statuses) with the
member's OAuth token from 50 concurrent keep-alive connections, closed loop.

Measured in the same run, interleaved and repeated (``--reps``), reported as medians:

* a bare starlette route (``GET`` answering ``[]``) under uvicorn with the same settings,
  driven by the same generator: requests per second and per server CPU-second;
* the home timeline: requests per second (wall), per fedinet CPU-second and per
  fedinet + PostgreSQL CPU-second, the ratios to the bare route, and the p50/p99
  latency the 50 clients see.

The goal (issue "Mastodon client API"): p99 <= 50 ms under 50 concurrent clients and
>= 0.10x the bare route's rate on one server process.

``--workdir DIR`` keeps the embedded PostgreSQL (and the loaded instance) in DIR; a later
run with the same DIR reuses it instead of loading again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fedinet.db.pool import connect, ensure_database, with_database
from tests.bench import timeline_seed
from tests.bench._common import (
    BareServer,
    WrkResult,
    machine_description,
    median,
    run_wrk,
    write_requests,
)
from tests.bench.bench_inbox import postgres
from tests.helpers.servers import ServerProcess, run_cli

GOAL_RATIO = 0.10
GOAL_P99_MS = 50.0
PATH = "/api/v1/timelines/home"
DATABASE = "fedinet_bench_timeline"
PASSWORD = "bench password for the timeline"


async def _member_actor_id(dsn: str) -> int | None:
    conn = await connect(dsn)
    try:
        value = await conn.fetchval("SELECT id FROM actors WHERE is_local AND username = 'reader'")
        return None if value is None else int(value)
    finally:
        await conn.close()


async def _load(dsn: str, actor_id: int, statuses: int) -> tuple[int, float]:
    conn = await connect(dsn)
    try:
        if await timeline_seed.seeded_status_count(conn) >= statuses:
            return await timeline_seed.seeded_status_count(conn), 0.0
        started = time.monotonic()
        await timeline_seed.seed(conn, actor_id, statuses=statuses)
        return await timeline_seed.seeded_status_count(conn), time.monotonic() - started
    finally:
        await conn.close()


async def _feed_size(dsn: str, actor_id: int) -> int:
    conn = await connect(dsn)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM home_feed WHERE owner_id = $1", actor_id)
        )
    finally:
        await conn.close()


def _token(url: str) -> str:
    app = httpx.post(
        f"{url}/api/v1/apps",
        data={"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        timeout=30,
    ).json()
    response = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "reader@example.org",
            "password": PASSWORD,
            "scope": "read",
        },
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _request(host: str, token: str) -> bytes:
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\nUser-Agent: bench\r\n\r\n"
    ).encode()


def _print_rep(rep: int, b: WrkResult, f: WrkResult) -> None:
    print(
        f"rep {rep}: bare {b.wall_rate:.0f}/s ({b.per_server_cpu:.0f}/server-CPU-s, "
        f"p99 {b.p99_ms:.1f} ms); home {f.wall_rate:.0f}/s "
        f"({f.per_server_cpu:.0f}/fedinet-CPU-s, "
        f"{f.per_server_and_postgres_cpu or float('nan'):.0f}/(fedinet+pg)-CPU-s, "
        f"p50 {f.p50_ms:.1f} ms p99 {f.p99_ms:.1f} ms; fedinet "
        f"{f.server_cpu_s / f.duration_s:.2f} core, pg "
        f"{(f.postgres_cpu_s or 0) / f.duration_s:.2f} core, wrk "
        f"{f.wrk_cpu_s / f.duration_s:.2f} core; other users "
        f"{b.other_cpu_s / b.duration_s:.2f} / {f.other_cpu_s / f.duration_s:.2f} core)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_timeline")
    parser.add_argument("--statuses", type=int, default=timeline_seed.STATUSES)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--log-level", default="warning", help="FEDINET_LOG_LEVEL")
    parser.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) files here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fedinet-bench-timeline-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(f"machine: {results['machine']}  workdir: {workdir}", flush=True)

    with postgres(workdir) as (server_dsn, postmaster):
        asyncio.run(ensure_database(server_dsn, DATABASE))
        dsn = with_database(server_dsn, DATABASE)
        env = {
            "FEDINET_DATABASE_URL": dsn,
            "FEDINET_DATA_DIR": str(workdir / "data"),
            "FEDINET_WORKERS_IN_WEB": "false",
            "FEDINET_LOG_LEVEL": args.log_level,
            "FEDINET_API_RATE_LIMITS": "false",  # one token, 50 clients, thousands per second
        }
        server = ServerProcess(env, log=workdir / "serve.log")
        try:
            server.start()  # applies the migrations
            actor_id = asyncio.run(_member_actor_id(dsn))
            if actor_id is None:
                made = run_cli(
                    "admin",
                    "create-user",
                    "reader",
                    "--email",
                    "reader@example.org",
                    "--password",
                    PASSWORD,
                    env=server.env,
                )
                if made.returncode != 0:
                    raise SystemExit(made.stderr)
                actor_id = asyncio.run(_member_actor_id(dsn))
                assert actor_id is not None
            count, seconds = asyncio.run(_load(dsn, actor_id, args.statuses))
            feed = asyncio.run(_feed_size(dsn, actor_id))
            results.update(statuses=count, home_feed=feed, load_seconds=seconds)
            print(
                f"instance: {count:,} statuses, the member's home feed {feed:,} "
                f"(loaded in {seconds:.0f}s)"
                if seconds
                else f"instance: {count:,} statuses, the member's home feed {feed:,} (reused)",
                flush=True,
            )

            token = _token(server.url)
            check = httpx.get(
                server.url + PATH, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            if check.status_code != 200 or len(check.json()) != 20:
                raise SystemExit(f"the timeline answered {check.status_code}: {check.text[:500]}")
            results["response_bytes"] = len(check.content)
            host = server.url.removeprefix("http://")
            requests = workdir / "timeline.bin"
            write_requests(requests, [_request(host, token)])
            assert server.proc is not None

            with BareServer() as bare:
                bare_url = f"http://127.0.0.1:{bare.port}{PATH}"
                bare_requests = workdir / "bare.bin"
                write_requests(bare_requests, [_request(f"127.0.0.1:{bare.port}", token)])

                def bare_run(duration: float) -> WrkResult:
                    return run_wrk(
                        bare_url,
                        bare_requests,
                        server_pid=bare.pid,
                        duration=duration,
                        connections=args.connections,
                        cycle=True,
                        workdir=workdir,
                    )

                def full_run(duration: float) -> WrkResult:
                    assert server.proc is not None
                    result = run_wrk(
                        server.url + PATH,
                        requests,
                        server_pid=server.proc.pid,
                        postmaster_pid=postmaster,
                        duration=duration,
                        connections=args.connections,
                        cycle=True,
                        workdir=workdir,
                    )
                    if result.non_2xx or result.socket_errors:
                        raise SystemExit(f"errors: {result}\n{server.log()[-3000:]}")
                    return result

                bare_run(2)  # warm-ups, not counted
                full_run(3)
                bare_runs: list[WrkResult] = []
                full_runs: list[WrkResult] = []
                for rep in range(args.reps):  # interleaved, so drift hits both alike
                    bare_runs.append(bare_run(args.duration))
                    full_runs.append(full_run(args.duration))
                    _print_rep(rep + 1, bare_runs[-1], full_runs[-1])
        finally:
            if server.proc is not None:
                server.stop()

    wall_ratio = median(
        f.wall_rate / b.wall_rate for b, f in zip(bare_runs, full_runs, strict=True)
    )
    cpu_ratio = median(
        f.per_server_cpu / b.per_server_cpu for b, f in zip(bare_runs, full_runs, strict=True)
    )
    p99 = median(r.p99_ms for r in full_runs)
    summary = {
        "bare_wall_rate": median(r.wall_rate for r in bare_runs),
        "bare_per_server_cpu_s": median(r.per_server_cpu for r in bare_runs),
        "home_wall_rate": median(r.wall_rate for r in full_runs),
        "home_per_fedinet_cpu_s": median(r.per_server_cpu for r in full_runs),
        "home_per_fedinet_pg_cpu_s": median(
            r.per_server_and_postgres_cpu or float("nan") for r in full_runs
        ),
        "ratio_wall": wall_ratio,
        "ratio_per_server_cpu": cpu_ratio,
        "p50_ms": median(r.p50_ms for r in full_runs),
        "p99_ms": p99,
        "goal_met": p99 <= GOAL_P99_MS and min(wall_ratio, cpu_ratio) >= GOAL_RATIO,
    }
    results.update(
        bare=[vars(r) for r in bare_runs], home=[vars(r) for r in full_runs], summary=summary
    )
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    s = summary
    print()
    print("| measure | median |")
    print("|---|---|")
    print(
        f"| bare starlette route | {s['bare_wall_rate']:,.0f}/s wall, "
        f"{s['bare_per_server_cpu_s']:,.0f} per server CPU-second |"
    )
    print(
        f"| home timeline | {s['home_wall_rate']:,.0f}/s wall, "
        f"{s['home_per_fedinet_cpu_s']:,.0f} per fedinet CPU-second, "
        f"{s['home_per_fedinet_pg_cpu_s']:,.0f} per fedinet+PostgreSQL CPU-second |"
    )
    print(
        f"| home / bare | {wall_ratio:.3f}x wall, {cpu_ratio:.3f}x per server CPU-second "
        f"(goal >= {GOAL_RATIO}) |"
    )
    print(
        f"| home latency, {args.connections} clients, p50 / p99 | "
        f"{s['p50_ms']:.1f} / {p99:.1f} ms (goal p99 <= {GOAL_P99_MS:.0f}) |"
    )
    print(f"\ngoal met: {s['goal_met']}; results in {workdir / 'results.json'}")


if __name__ == "__main__":
    main()
