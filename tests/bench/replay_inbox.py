"""CPU per inbox request, in process: ``python -m tests.bench.replay_inbox`` (by hand).

The pre-signed requests of ``bench_inbox`` are fed straight to the ASGI app (the real
app with its middleware, the access log, the caches and the group commit into a real,
durable PostgreSQL), 32 at a time, with no uvicorn and no sockets. Each round prints the
process CPU per request. It isolates the app's own cost from the HTTP server and the
load generator, which makes two trees easy to compare:

* ``--save FILE`` signs the requests once and keeps them with the signing keys (JSON),
  and ``--load FILE`` replays the same requests, so two trees see the same bytes;
* under ``valgrind --tool=callgrind --instr-atstart=no`` with ``--callgrind``, only the
  timed rounds are counted (through ``callgrind_control``): instruction counts do not
  depend on what else the machine is doing;
* ``--profile FILE`` writes a cProfile of the last round.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from fedinet.app import create_app
from fedinet.config import Settings
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.pool import ensure_database, with_database
from fedinet.logs import configure_logging
from fedinet.runtime import open_runtime
from tests.bench import bench_inbox
from tests.helpers.remote import RemoteAccount, RemoteServer

HOST = "127.0.0.1:8000"
Request = tuple[str, str, list[tuple[bytes, bytes]], bytes]


def parse(raw: bytes) -> Request:
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ")
    headers = [(k.lower(), v) for k, v in (line.split(b": ", 1) for line in lines[1:])]
    return method.decode(), path.decode(), headers, body


async def drive(app: Any, requests: list[Request], concurrency: int) -> dict[int, int]:
    """Send every request through ``app``, ``concurrency`` at a time; count the statuses."""
    statuses: dict[int, int] = {}
    queue = iter(requests)

    async def one(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope, receive, send)

    async def worker() -> None:
        for request in queue:
            await one(*request)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def callgrind(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], capture_output=True)


async def replay(args: argparse.Namespace, account: RemoteAccount, raws: list[bytes]) -> None:
    work = Path(tempfile.mkdtemp(prefix="fedinet-replay-"))
    server = EmbeddedPostgres(work / "postgres")  # default, durable settings
    dsn = server.acquire()
    try:
        await ensure_database(dsn, "replay")
        settings = Settings(
            url=f"http://{HOST}",
            database_url=with_database(dsn, "replay"),
            data_dir=work / "data",
            secret_key="replay-" + "x" * 40,
            allow_private_networks=True,
            workers_in_web=False,
        )
        requests = [parse(raw) for raw in raws]
        async with open_runtime(settings) as runtime:
            app = create_app(settings, runtime=runtime)
            await drive(app, requests[:1], 1)  # fetches the key
            await drive(app, requests[1 : 1 + args.n], args.concurrency)  # warm-up
            results = []
            for r in range(args.rounds):
                batch = requests[1 + args.n * (r + 1) : 1 + args.n * (r + 2)]
                profile = cProfile.Profile() if args.profile and r == args.rounds - 1 else None
                collections = sum(s["collections"] for s in gc.get_stats())
                if args.callgrind:
                    callgrind("on")
                if profile:
                    profile.enable()
                cpu, wall = time.process_time(), time.monotonic()
                statuses = await drive(app, batch, args.concurrency)
                cpu, wall = time.process_time() - cpu, time.monotonic() - wall
                if profile:
                    profile.disable()
                    profile.dump_stats(args.profile)
                if args.callgrind:
                    callgrind("off")
                if statuses != {202: len(batch)}:
                    raise SystemExit(f"round {r}: not every request was accepted: {statuses}")
                results.append(cpu / len(batch) * 1e6)
                collections = sum(s["collections"] for s in gc.get_stats()) - collections
                print(
                    f"round {r + 1}: {results[-1]:.1f} µs CPU per request, "
                    f"{len(batch) / wall:.0f}/s, {collections} gc collections",
                    flush=True,
                )
        results.sort()
        print(f"median {results[len(results) // 2]:.1f} µs CPU per request")
    finally:
        server.release()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.replay_inbox")
    parser.add_argument("--n", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--save", type=Path, help="sign, write the requests here, and stop")
    parser.add_argument("--load", type=Path, help="replay the requests saved here")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--profile", help="cProfile of the last round, to this file")
    parser.add_argument("--log", type=Path, default=Path(os.devnull), help="server log")
    args = parser.parse_args(argv)

    configure_logging("info")  # as fedinet serve: one access-log line per request
    logging.getLogger().handlers[0].setStream(args.log.open("a"))  # type: ignore[attr-defined]
    count = args.n * (args.rounds + 1) + 1
    saved = json.loads(args.load.read_text()) if args.load else None
    with RemoteServer(port=saved["port"]) if saved else RemoteServer() as remote:
        if saved:
            account = RemoteAccount("bench", remote.base_url, **saved["keys"])
            remote.accounts["bench"] = account
            raws = [base64.b64decode(raw) for raw in saved["requests"]]
            if len(raws) < count:
                raise SystemExit(f"{args.load} holds {len(raws)} requests; {count} needed")
        else:
            account = remote.add_account("bench")
            bench_inbox._init_signer(
                account.rsa_private, account.main_key_id, account.uri, HOST, f"r{time.time()}"
            )
            raws = bench_inbox._sign_range((0, count))
        if args.save:
            keys = {k: getattr(account, k) for k in ("rsa_private", "rsa_public")}
            keys.update(ed_private=account.ed_private, ed_public=account.ed_public)
            requests = [base64.b64encode(raw).decode() for raw in raws]
            args.save.write_text(
                json.dumps({"port": remote.port, "keys": keys, "requests": requests})
            )
            print(f"saved {len(raws)} requests to {args.save}", file=sys.stderr)
            return
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as fedinet serve
            runner.run(replay(args, account, raws[:count]))


if __name__ == "__main__":
    main()
