"""Delivery fan-out: deliveries per worker CPU-second, next to the RSA-2048 sign rate.

Run by hand (never collected by pytest)::

    .venv/bin/python -m tests.bench.bench_delivery [--servers 20] [--inboxes 2000] [--runs 5]
        [--transport h1,aiohttp] [--uvloop]

One activity is queued for ``--inboxes`` inboxes spread over ``--servers`` receiving
servers (ports on 127.0.0.1). The receivers run in a separate process (uvicorn with uvloop
and httptools) and verify every draft-cavage signature, so that the worker's CPU time is
measured cleanly: the figure is deliveries per CPU-second of this process while
:func:`fedinet.federation.delivery.delivery_loop` drains the queue (claims, signing, POSTs
and the marks included). The RSA-2048 sign rate is measured in the same process and run;
their ratio is the figure of merit (goal: at least 0.65). ``--transport`` names the
clients to compare, taking turns within each run: ``h1`` (:class:`Http1Transport`, the
production one), ``aiohttp`` (:class:`AiohttpTransport`) and ``httpx`` (the shared client).

Each run also reports how busy the machine was: the cores used by this process, by its
children (the receivers and an embedded PostgreSQL) and by everything else, from
``/proc``, so that runs on a shared machine can be told apart.

The database is ``FEDINET_TEST_DATABASE_URL`` (a server; a scratch database is created on
it) or, by default, an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedinet.config import Settings
from fedinet.crypto import cavage
from fedinet.crypto.keys import generate_rsa_keypair, load_private_key, load_public_key
from fedinet.db.actors import insert_actor, insert_key
from fedinet.db.deliveries import enqueue_deliveries, insert_activity
from fedinet.db.pool import drop_database, ensure_database, with_database
from fedinet.errors import RemoteFetchError
from fedinet.federation.delivery import (
    AiohttpTransport,
    Answer,
    ConnectFailed,
    DeliveryTransport,
    Http1Transport,
    delivery_loop,
)
from fedinet.runtime import Runtime, open_runtime

KEY_ID = "https://bench.test/users/alice#main-key"


# --- the receiving servers (a separate process) ------------------------------------------


def _sink_app(public_key_pem: str, stats: dict[str, int]) -> Any:
    key = load_public_key(public_key_pem)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        status = 202
        if scope["method"] == "GET":
            payload = f"{stats['ok']} {stats['bad']}".encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": payload})
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        try:
            signature = cavage.parse_signature_header(dict(headers)["signature"])
            cavage.verify_request(
                signature,
                "POST",
                scope["path"],
                headers,
                key,
                now=datetime.now(UTC),
                body=body,
                required_headers=("(request-target)", "host", "date", "digest"),
            )
            stats["ok"] += 1
        except Exception:
            stats["bad"] += 1
            status = 401
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return app


def run_sink(ports: list[int], public_key_file: str) -> None:
    import uvicorn

    stats = {"ok": 0, "bad": 0}
    app = _sink_app(Path(public_key_file).read_text(), stats)

    async def main() -> None:
        servers = [
            uvicorn.Server(
                uvicorn.Config(
                    app,
                    host="127.0.0.1",
                    port=port,
                    loop="uvloop",
                    http="httptools",
                    lifespan="off",
                    log_level="error",  # the https attempts of the warm-up are refused
                    access_log=False,
                )
            )
            for port in ports
        ]
        await asyncio.gather(*(server.serve() for server in servers))

    import uvloop

    uvloop.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sink_process(ports: list[int], public_key_pem: str, workdir: Path) -> Iterator[None]:
    key_file = workdir / "public.pem"
    key_file.write_text(public_key_pem)
    command = [sys.executable, "-m", "tests.bench.bench_delivery", "--sink", str(key_file)]
    process = subprocess.Popen([*command, *map(str, ports)])
    try:
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the receiving servers did not start")
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- the httpx transport, for comparison -------------------------------------------------


class HttpxTransport:
    """POSTs through the shared httpx client (``make_http_client``), as ``signed_request``
    sends them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        try:
            request = self.client.build_request("POST", url, content=body, headers=headers)
            response = await self.client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ConnectFailed(f"POST {url}: {exc}") from None
        except httpx.TimeoutException:
            raise RemoteFetchError(f"POST {url} took too long", reason="timeout") from None
        except httpx.HTTPError as exc:
            raise RemoteFetchError(f"POST {url}: {exc}", reason="unreachable") from None
        return Answer(response.status_code, response.headers.get("Retry-After"))

    async def aclose(self) -> None:
        return None


# --- measuring ---------------------------------------------------------------------------

TRANSPORTS = ("h1", "aiohttp", "httpx")
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process and of its reaped children, in clock ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return sum(int(value) for value in fields[11:15])


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


def _machine_ticks() -> int:
    """Busy clock ticks of the whole machine (all CPUs, idle and iowait excluded)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


def _postmaster(pgdata: Path) -> int | None:
    """The pid of the PostgreSQL server running on ``pgdata`` (it detaches from us)."""
    needle = str(pgdata).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if needle in command and Path(command[0].decode(errors="replace")).name == "postgres":
                return int(entry.name)
    return None


POSTMASTER: int | None = None
"""The embedded PostgreSQL of this run, counted with the receivers."""


class Busyness:
    """Cores used during a run: by this process, by the receivers and an embedded
    PostgreSQL, and by everything else on the machine."""

    def __init__(self) -> None:
        self.wall = time.monotonic()
        self.machine = _machine_ticks()
        self.own = time.process_time()
        self.children = self._children()

    @staticmethod
    def _children() -> dict[int, int]:
        pids = _descendants(os.getpid())
        if POSTMASTER is not None:
            pids += [POSTMASTER, *_descendants(POSTMASTER)]
        ticks = {pid: _cpu_ticks(pid) for pid in pids}
        return {pid: value for pid, value in ticks.items() if value is not None}

    def end(self) -> tuple[float, float, float]:
        wall = time.monotonic() - self.wall
        machine = (_machine_ticks() - self.machine) / _TICKS
        own = time.process_time() - self.own
        children = (
            sum(value - self.children.get(pid, 0) for pid, value in self._children().items())
            / _TICKS
        )
        return own / wall, children / wall, max(machine - own - children, 0.0) / wall


def rsa_sign_rate(private_key_pem: str, seconds: float = 1.5) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per CPU-second, of a cavage signing string."""
    key = load_private_key(private_key_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    data = (
        b"(request-target): post /users/someone/inbox\nhost: remote.example\n"
        b"date: Sat, 01 Mar 2025 12:00:00 GMT\ndigest: SHA-256=" + b"x" * 44
    )
    count = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for _ in range(50):
            key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        count += 50
    return count / (time.process_time() - started)


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    server = os.environ.get("FEDINET_TEST_DATABASE_URL")
    embedded = None
    if not server:
        from fedinet.db.embedded import EmbeddedPostgres

        data = Path(tempfile.mkdtemp(prefix="fedinet-bench-"))
        embedded = EmbeddedPostgres(
            data / "postgres",
            server_settings={"fsync": "off", "synchronous_commit": "off"},
        )
        server = await asyncio.to_thread(embedded.acquire)
        global POSTMASTER
        POSTMASTER = _postmaster(data / "postgres")
    name = f"fedinet_bench_{uuid.uuid4().hex[:8]}"
    await ensure_database(server, name)
    try:
        yield with_database(server, name)
    finally:
        await drop_database(server, name)
        if embedded is not None:
            await asyncio.to_thread(embedded.release)


async def _pending(runtime: Runtime, activity_id: int) -> int:
    value = await runtime.pool.fetchval(
        "SELECT count(*) FROM deliveries WHERE activity_id = $1 AND state = 'pending'",
        activity_id,
    )
    return int(value or 0)


async def _drain(
    runtime: Runtime, author: int, inboxes: list[str]
) -> tuple[float, float, tuple[float, float, float]]:
    """Queue one activity for ``inboxes`` and wait until the running loop delivered it;
    return (deliveries per CPU-second, wall seconds, cores busy: own, children, others)."""
    n = uuid.uuid4().hex
    uri = f"https://bench.test/activities/{n}"
    activity = await insert_activity(
        runtime.pool,
        uri=uri,
        actor_id=author,
        activity_type="Create",
        object_uri=f"https://bench.test/statuses/{n}",
        visibility="public",
        body={
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri,
            "type": "Create",
            "actor": "https://bench.test/users/alice",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": f"https://bench.test/statuses/{n}",
                "type": "Note",
                "content": "<p>" + "A note of ordinary length. " * 12 + "</p>",
            },
        },
    )
    busy = Busyness()
    cpu = time.process_time()
    wall = time.monotonic()
    await enqueue_deliveries(runtime.pool, activity.id, inboxes)
    while await _pending(runtime, activity.id):
        await asyncio.sleep(0.05)
    cpu = time.process_time() - cpu
    wall = time.monotonic() - wall
    cores = busy.end()
    failed = await runtime.pool.fetchval(
        "SELECT count(*) FROM deliveries WHERE activity_id = $1 AND state <> 'delivered'",
        activity.id,
    )
    if failed:
        raise RuntimeError(f"{failed} deliveries did not succeed")
    return len(inboxes) / cpu, wall, cores


async def fan_out(
    runtime: Runtime,
    author: int,
    inboxes: list[str],
    warm_up: list[str],
    transport: DeliveryTransport,
) -> tuple[float, float, tuple[float, float, float]]:
    """Start a delivery loop, warm it up (connections, the signer, the https to http
    fallback of loopback peers), then measure one fan-out to ``inboxes``."""
    stop = asyncio.Event()
    loop = asyncio.create_task(delivery_loop(runtime, stop, transport=transport))
    try:
        await _drain(runtime, author, warm_up)
        return await _drain(runtime, author, inboxes)
    finally:
        stop.set()
        await loop
        await transport.aclose()


def make_transport(name: str, runtime: Runtime) -> DeliveryTransport:
    if name == "h1":
        return Http1Transport(runtime.settings)
    if name == "aiohttp":
        return AiohttpTransport(runtime.settings)
    return HttpxTransport(runtime.http)


async def bench(args: argparse.Namespace) -> None:
    private_pem, public_pem = generate_rsa_keypair()
    ports = [_free_port() for _ in range(args.servers)]
    inboxes = [
        f"http://127.0.0.1:{ports[n % len(ports)]}/users/u{n}/inbox" for n in range(args.inboxes)
    ]
    transports = args.transport.split(",")
    if not transports or any(name not in TRANSPORTS for name in transports):
        raise SystemExit(f"--transport: a comma-separated list of {', '.join(TRANSPORTS)}")
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in transports}
    loads: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as workdir, sink_process(ports, public_pem, Path(workdir)):
        async with scratch_database() as database_url:
            settings = Settings(
                url="https://bench.test",
                database_url=database_url,
                data_dir=Path(workdir),
                secret_key="bench-secret-" + "x" * 40,
                allow_private_networks=True,
            )
            async with open_runtime(settings) as runtime:
                actor = await insert_actor(
                    runtime.pool,
                    uri="https://bench.test/users/alice",
                    is_local=True,
                    username="alice",
                    domain="bench.test",
                )
                await insert_key(
                    runtime.pool,
                    key_id=KEY_ID,
                    actor_id=actor.id,
                    kind="rsa",
                    public_key_pem=public_pem,
                    private_key_pem=private_pem,
                )
                warm_up = [f"{inbox}-warm-up" for inbox in inboxes[: args.servers * 4]]
                for run in range(args.runs):
                    for name in transports:
                        transport = make_transport(name, runtime)
                        rate, wall, cores = await fan_out(
                            runtime, actor.id, inboxes, warm_up, transport
                        )
                        sign = rsa_sign_rate(private_pem)
                        results[name].append((rate, sign, wall))
                        loads.append(cores)
                        print(
                            f"run {run + 1} {name:8} {rate:7.0f} deliveries/CPU-s  "
                            f"sign {sign:6.0f}/s  ratio {rate / sign:.2f}  wall {wall:.2f} s  "
                            f"cores: worker {cores[0]:.2f}, receivers+PostgreSQL {cores[1]:.2f}, "
                            f"others {cores[2]:.2f}  (load {os.getloadavg()[0]:.1f})",
                            flush=True,
                        )
    others = sorted(load[2] for load in loads)
    print(
        f"\n{args.inboxes} inboxes on {args.servers} servers, {args.runs} runs, medians "
        f"(cores: {os.cpu_count()}, Python {sys.version.split()[0]}; other processes used "
        f"{others[0]:.2f}-{others[-1]:.2f} cores during the timed parts):"
    )
    for name, rows in results.items():
        rate = statistics.median(r[0] for r in rows)
        sign = statistics.median(r[1] for r in rows)
        ratios = sorted(r[0] / r[1] for r in rows)
        wall = statistics.median(r[2] for r in rows)
        print(
            f"  {name:8} {rate:7.0f} deliveries/CPU-s, RSA sign {sign:6.0f}/s, "
            f"ratio {statistics.median(ratios):.3f} (runs {ratios[0]:.2f}-{ratios[-1]:.2f}), "
            f"wall {wall:.2f} s ({args.inboxes / wall:.0f}/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--inboxes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--transport", default="h1,aiohttp", help=f"comma-separated: {', '.join(TRANSPORTS)}"
    )
    parser.add_argument(
        "--uvloop", action="store_true", help="run the worker on uvloop (fedinet uses asyncio)"
    )
    parser.add_argument("--sink", metavar="PUBLIC_KEY_FILE", help=argparse.SUPPRESS)
    parser.add_argument("ports", nargs="*", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.ports, args.sink)
        return
    if args.uvloop:
        import uvloop

        uvloop.run(bench(args))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
