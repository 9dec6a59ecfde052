"""Inbox acceptance throughput: ``python -m tests.bench.bench_inbox`` (by hand, never pytest).

One ``fedinet serve`` (workers off, so only acceptance is measured) on a PostgreSQL with
default durability (fsync and synchronous_commit on) is sent pre-signed draft-cavage POSTs
of a ~1.2 KB Create activity, every one with its own id, from ``wrk`` on loopback. The
signer is a loopback peer serving its actor document; one request warms the key cache.

Measured in the same run, each repeated (``--reps``) and reported as medians:

* the raw RSA-2048 (PKCS#1 v1.5, SHA-256) verify rate, in process, per CPU-second;
* a bare starlette route under uvicorn with the same settings, driven by the same
  generator with the same bytes: requests per server CPU-second (the ceiling);
* the full path (verify, durable INSERT, 202): requests per fedinet CPU-second and per
  fedinet + PostgreSQL CPU-second, and the ratio to the bare route;
* latency p50/p99 at ~80% of the full path's measured maximum rate, from an open-loop
  generator (see ``tests/bench/_common.py``), ``--latency-reps`` times (5), with the p99
  of each second of each run.

During every run a host canary (``_common.HostCanary``) times a fixed piece of Python
work: this virtual machine's host sometimes makes the same work cost about 1.6 times the
CPU for seconds at a time, and the canary shows when (printed per second of each latency
run, next to that second's p99; a median per throughput run).

The goal (issue "Inbox acceptance throughput"): full path >= 0.20x the bare route per
server core, and p99 <= 10 ms at 80% of the full path's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx

from fedinet.crypto import cavage
from fedinet.crypto.digest import make_digest
from fedinet.crypto.keys import load_private_key
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.pool import connect, drop_database, ensure_database, with_database
from tests.bench._common import (
    BareServer,
    HostCanary,
    WrkResult,
    machine_description,
    median,
    run_openloop,
    run_wrk,
    write_requests,
)
from tests.helpers.remote import RemoteAccount, RemoteServer
from tests.helpers.servers import ServerProcess

GOAL_RATIO = 0.20
GOAL_P99_MS = 10.0
STEADY_HOST = 1.25
BODY_SIZE = 1200
PG_SETTINGS_SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "commit_delay",
    "shared_buffers",
    "max_wal_size",
)


# -- the requests ------------------------------------------------------------------------


def make_activity(actor_uri: str, tag: str, i: int) -> bytes:
    """A Mastodon-shaped Create of a Note, padded to ``BODY_SIZE`` bytes of JSON."""
    note = f"{actor_uri}/statuses/{tag}-{i}"
    public = "https://www.w3.org/ns/activitystreams#Public"

    def encode(padding: str) -> bytes:
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note}/activity",
            "type": "Create",
            "actor": actor_uri,
            "published": "2025-01-01T12:00:00Z",
            "to": [public],
            "cc": [f"{actor_uri}/followers"],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": actor_uri,
                "published": "2025-01-01T12:00:00Z",
                "url": note,
                "to": [public],
                "cc": [f"{actor_uri}/followers"],
                "sensitive": False,
                "content": f"<p>Benchmark note {i}: {padding}</p>",
                "tag": [],
            },
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    short = encode("")
    return encode("x" * max(0, BODY_SIZE - len(short)))


_signer: dict[str, Any] = {}


def _init_signer(private_pem: str, key_id: str, actor_uri: str, target: str, tag: str) -> None:
    _signer.update(
        key=load_private_key(private_pem),
        key_id=key_id,
        actor_uri=actor_uri,
        host=target,
        tag=tag,
    )


def _sign_range(bounds: tuple[int, int]) -> list[bytes]:
    """Raw HTTP/1.1 requests, signed as RemoteAccount.sign does (draft-cavage, rsa-sha256,
    ``(request-target) host date digest``)."""
    out = []
    date = format_datetime(datetime.now(UTC), usegmt=True)
    for i in range(*bounds):
        body = make_activity(_signer["actor_uri"], _signer["tag"], i)
        headers = {
            "Host": _signer["host"],
            "Date": date,
            "Content-Type": "application/activity+json",
            "Digest": make_digest(body),
        }
        headers["Signature"] = cavage.sign_request(
            "POST",
            "/inbox",
            headers,
            key_id=_signer["key_id"],
            private_key=_signer["key"],
            algorithm="rsa-sha256",
            signed_headers=["(request-target)", "host", "date", "digest"],
        )
        head = "POST /inbox HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        out.append(head.encode("latin-1") + body)
    return out


def presign(account: RemoteAccount, host: str, count: int, path: Path) -> tuple[int, int]:
    """Sign ``count`` distinct requests in a process pool; return (count, body size)."""
    tag = f"bench{int(time.time())}"
    chunk = 1000
    bounds = [(i, min(i + chunk, count)) for i in range(0, count, chunk)]
    with ProcessPoolExecutor(
        max_workers=os.cpu_count() or 2,
        initargs=(account.rsa_private, account.main_key_id, account.uri, host, tag),
        initializer=_init_signer,
    ) as pool:
        written = write_requests(
            path, (raw for part in pool.map(_sign_range, bounds) for raw in part)
        )
    return written, len(make_activity(account.uri, tag, 0))


# -- the raw verify rate -----------------------------------------------------------------


def rsa_verify_rate(seconds: float = 1.0) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 verifications per CPU-second, in this process."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    message = b"(request-target): post /inbox\nhost: example.org\ndate: x\ndigest: y"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    count = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(500):
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        count += 500
    return count / (time.process_time() - start)


# -- PostgreSQL --------------------------------------------------------------------------


@contextlib.contextmanager
def postgres(workdir: Path) -> Iterator[tuple[str, int | None]]:
    """(server DSN, postmaster pid): FEDINET_TEST_DATABASE_URL's server, or an embedded
    one with PostgreSQL's default (durable) settings."""
    external = os.environ.get("FEDINET_TEST_DATABASE_URL")
    if external:
        yield external, asyncio.run(_postmaster_pid(external))
        return
    server = EmbeddedPostgres(workdir / "postgres")
    dsn = server.acquire()
    try:
        yield dsn, asyncio.run(_postmaster_pid(dsn))
    finally:
        server.release()


async def _postmaster_pid(dsn: str) -> int | None:
    conn = await connect(dsn)
    try:
        data_dir = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None  # not on this machine: PostgreSQL CPU is then not reported


async def _pg_settings(dsn: str) -> dict[str, str]:
    conn = await connect(dsn)
    try:
        return {name: str(await conn.fetchval(f"SHOW {name}")) for name in PG_SETTINGS_SHOWN}
    finally:
        await conn.close()


async def _reset_inbox(dsn: str) -> None:
    """Start each run from an empty table and a fresh checkpoint."""
    conn = await connect(dsn)
    try:
        await conn.execute("TRUNCATE inbox_items")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def _count_inbox(dsn: str) -> int:
    conn = await connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM inbox_items"))
    finally:
        await conn.close()


# -- the run -----------------------------------------------------------------------------


def _full_run(
    server: ServerProcess,
    dsn: str,
    postmaster: int | None,
    requests: Path,
    args: argparse.Namespace,
    workdir: Path,
) -> WrkResult:
    asyncio.run(_reset_inbox(dsn))
    assert server.proc is not None
    result = run_wrk(
        server.url + "/inbox",
        requests,
        server_pid=server.proc.pid,
        postmaster_pid=postmaster,
        duration=args.duration,
        connections=args.connections,
        workdir=workdir,
    )
    if result.exhausted:
        raise SystemExit(
            f"all {args.requests} pre-signed requests were used before the run ended: "
            "raise --requests or lower --duration"
        )
    if result.non_2xx or result.socket_errors:
        raise SystemExit(f"the full path answered errors: {result}\n{server.log()[-3000:]}")
    stored = asyncio.run(_count_inbox(dsn))
    if stored < result.requests:
        raise SystemExit(f"{result.requests} requests were accepted but {stored} stored")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_inbox")
    parser.add_argument("--requests", type=int, default=90000, help="pre-signed requests")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--latency-duration", type=float, default=8.0)
    parser.add_argument("--latency-fraction", type=float, default=0.8)
    parser.add_argument(
        "--latency-reps", type=int, default=5, help="latency runs (0: as many as --reps)"
    )
    parser.add_argument("--log-level", default="info", help="FEDINET_LOG_LEVEL of the server")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fedinet-bench-inbox-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(f"machine: {results['machine']}  workdir: {workdir}", flush=True)

    verify = [rsa_verify_rate() for _ in range(args.reps)]
    results["rsa_verify_per_cpu_s"] = verify
    print(f"RSA-2048 verify per CPU-second: {[round(v) for v in verify]}", flush=True)

    with postgres(workdir) as (server_dsn, postmaster), RemoteServer() as remote:
        name = f"fedinet_bench_{os.getpid()}"
        asyncio.run(ensure_database(server_dsn, name))
        dsn = with_database(server_dsn, name)
        results["postgres"] = asyncio.run(_pg_settings(dsn))
        print(f"postgres: {results['postgres']} postmaster pid {postmaster}", flush=True)
        account = remote.add_account("bench")
        env = {
            "FEDINET_DATABASE_URL": dsn,
            "FEDINET_DATA_DIR": str(workdir / "data"),
            "FEDINET_ALLOW_PRIVATE_NETWORKS": "true",
            "FEDINET_WORKERS_IN_WEB": "false",
            "FEDINET_LOG_LEVEL": args.log_level,
        }
        server = ServerProcess(env, log=workdir / "serve.log")
        try:
            server.start()
            host = server.url.removeprefix("http://")
            requests = workdir / "requests.bin"
            started = time.monotonic()
            count, body_size = presign(account, host, args.requests, requests)
            results["body_bytes"] = body_size
            print(
                f"pre-signed {count} requests of {body_size} B bodies "
                f"in {time.monotonic() - started:.1f}s",
                flush=True,
            )
            # Warm the key cache (the one fetch of the actor document) with one request.
            raw = requests.read_bytes().split(b"\0", 1)[0]
            head, body = raw.split(b"\r\n\r\n", 1)
            headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
            warm = httpx.post(server.url + "/inbox", content=body, headers=headers, timeout=30)
            if warm.status_code != 202:
                raise SystemExit(f"warm-up request: {warm.status_code} {warm.text}")

            with BareServer() as bare:
                bare_url = f"http://127.0.0.1:{bare.port}/inbox"
                # Warm-ups, not counted: pool connections, statement caches, page cache.
                run_wrk(
                    bare_url,
                    requests,
                    server_pid=bare.pid,
                    duration=2,
                    connections=args.connections,
                    cycle=True,
                    workdir=workdir,
                )
                _full_run(
                    server,
                    dsn,
                    postmaster,
                    requests,
                    argparse.Namespace(**{**vars(args), "duration": 2.0}),
                    workdir,
                )
                bare_runs: list[WrkResult] = []
                full_runs: list[WrkResult] = []
                probes: list[list[float]] = []
                for rep in range(args.reps):  # interleaved, so drift hits both alike
                    with HostCanary() as canary_b:
                        b = run_wrk(
                            bare_url,
                            requests,
                            server_pid=bare.pid,
                            duration=args.duration,
                            connections=args.connections,
                            cycle=True,
                            workdir=workdir,
                        )
                    bare_runs.append(b)
                    with HostCanary() as canary_f:
                        f = _full_run(server, dsn, postmaster, requests, args, workdir)
                    full_runs.append(f)
                    probes.append([canary_b.overall(), canary_f.overall()])
                    print(
                        f"rep {rep + 1}: bare {b.per_server_cpu:.0f}/server-CPU-s "
                        f"({b.wall_rate:.0f}/s, wrk {b.wrk_cpu_s / b.duration_s:.2f} core); "
                        f"full {f.per_server_cpu:.0f}/fedinet-CPU-s, "
                        f"{f.per_server_and_postgres_cpu or float('nan'):.0f}/(fedinet+pg)-CPU-s "
                        f"({f.wall_rate:.0f}/s, fedinet {f.server_cpu_s / f.duration_s:.2f} core, "
                        f"pg {(f.postgres_cpu_s or 0) / f.duration_s:.2f} core, "
                        f"wrk {f.wrk_cpu_s / f.duration_s:.2f} core; "
                        f"other users {b.other_cpu_s / b.duration_s:.2f} / "
                        f"{f.other_cpu_s / f.duration_s:.2f} core; "
                        f"host canary {probes[-1][0]:.1f} / {probes[-1][1]:.1f} µs)",
                        flush=True,
                    )

            max_rate = median(r.wall_rate for r in full_runs)
            rate = args.latency_fraction * max_rate
            if rate * args.latency_duration > count:
                raise SystemExit("too few pre-signed requests for the latency runs")
            latency_runs = []
            assert server.proc is not None
            for rep in range(args.latency_reps or args.reps):
                asyncio.run(_reset_inbox(dsn))
                with HostCanary() as canary:
                    lat = run_openloop(
                        server.port,
                        requests,
                        rate=rate,
                        duration=args.latency_duration,
                        connections=args.connections,
                        server_pid=server.proc.pid,
                    )
                lat["host_canary_us"] = canary.per_second(lat["start_perf_counter"])
                if lat["errors"] or set(lat["statuses"]) != {"202"}:
                    raise SystemExit(f"errors in the latency run: {lat}")
                latency_runs.append(lat)
                print(
                    f"latency rep {rep + 1} at {rate:.0f}/s: achieved "
                    f"{lat['achieved_rate']:.0f}/s p50 {lat['p50_ms']:.2f} ms "
                    f"p99 {lat['p99_ms']:.2f} ms max {lat['max_ms']:.1f} ms "
                    f"(machine busy {lat['machine_busy_cores']:.2f} of {os.cpu_count()} cores)\n"
                    "  p99 per second, ms:    "
                    + " ".join(f"{w:5.1f}" for w in lat["window_p99_ms"])
                    + "\n  host canary per second: "
                    + " ".join(f"{c:5.1f}" for c in lat["host_canary_us"]),
                    flush=True,
                )
        finally:
            if server.proc is not None:
                server.stop()
            asyncio.run(drop_database(server_dsn, name))

    bare_cpu = median(r.per_server_cpu for r in bare_runs)
    full_cpu = median(r.per_server_cpu for r in full_runs)
    full_pg = median(r.per_server_and_postgres_cpu or float("nan") for r in full_runs)
    ratio = median(
        f.per_server_cpu / b.per_server_cpu for b, f in zip(bare_runs, full_runs, strict=True)
    )
    p50 = median(r["p50_ms"] for r in latency_runs)
    p99 = median(r["p99_ms"] for r in latency_runs)
    # Runs during which no second's canary was 25% above the fastest second seen in any
    # of them: shown beside the verdict, which counts every run.
    fastest = min((c for r in latency_runs for c in r["host_canary_us"]), default=math.nan)
    steady = [
        r["p99_ms"]
        for r in latency_runs
        if max(r["host_canary_us"], default=math.inf) <= STEADY_HOST * fastest
    ]
    results.update(
        bare=[vars(r) for r in bare_runs],
        full=[vars(r) for r in full_runs],
        host_canary_bare_full_us=probes,
        latency=latency_runs,
        summary={
            "rsa_verify_per_cpu_s": median(verify),
            "bare_per_server_cpu_s": bare_cpu,
            "bare_wall_rate": median(r.wall_rate for r in bare_runs),
            "full_per_fedinet_cpu_s": full_cpu,
            "full_per_fedinet_pg_cpu_s": full_pg,
            "full_wall_rate": max_rate,
            "ratio_full_to_bare": ratio,
            "ratio_pg_included": full_pg / bare_cpu,
            "latency_rate": rate,
            "p50_ms": p50,
            "p99_ms": p99,
            "p99_ms_steady_host_runs": steady,
            "goal_met": ratio >= GOAL_RATIO and p99 <= GOAL_P99_MS,
        },
    )
    (workdir / "results.json").write_text(json.dumps(results, indent=2))
    s = results["summary"]
    print()
    print("| measure | median |")
    print("|---|---|")
    print(f"| RSA-2048 verify, in process | {s['rsa_verify_per_cpu_s']:,.0f} per CPU-second |")
    print(f"| bare starlette route | {bare_cpu:,.0f} per server CPU-second |")
    print(f"| full path | {full_cpu:,.0f} per fedinet CPU-second |")
    print(f"| full path | {full_pg:,.0f} per fedinet+PostgreSQL CPU-second |")
    print(f"| full path / bare route | {ratio:.3f}x (goal >= {GOAL_RATIO}) |")
    print(f"| full path / bare route, PostgreSQL CPU included | {s['ratio_pg_included']:.3f}x |")
    print(f"| full path max wall rate (one process) | {max_rate:,.0f}/s |")
    print(f"| latency at {rate:,.0f}/s, p50 / p99 | {p50:.2f} / {p99:.2f} ms (goal p99 <= 10) |")
    print(
        f"| p99 of the runs with a steady host canary (<= {STEADY_HOST:.2f}x its best) | "
        + (", ".join(f"{v:.2f}" for v in steady) + " ms" if steady else "none")
        + f" ({len(steady)} of {len(latency_runs)}) |"
    )
    print(f"\ngoal met: {s['goal_met']}; results in {workdir / 'results.json'}")


if __name__ == "__main__":
    main()
