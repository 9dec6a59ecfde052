"""Shared pieces of the hand-run benchmarks (never collected by pytest).

* CPU time of a process (or of a PostgreSQL server's whole process tree) from /proc.
* Medians and percentiles.
* A bare starlette route served by uvicorn with the settings ``fedinet serve`` uses
  (uvloop, httptools, one process, no access log): the ceiling a route can reach.
* Load generators on loopback:
  - :func:`run_wrk` drives ``wrk`` (C, epoll; Debian's ``wrk`` package) with a Lua script
    that cycles through pre-built raw HTTP/1.1 requests, each sent once. It is closed
    loop, for maximum throughput; being C it costs a few microseconds per request, so on
    a 2-core machine it leaves the CPU to the server under test.
  - ``python -m tests.bench._common openloop`` is an open-loop (wrk2-style) generator for
    latency at a fixed rate: every connection has its own fixed schedule, and a request's
    latency runs from the time it was *due*, so a stalled server is not hidden by the
    generator waiting for it (no coordinated omission). It is Python on uvloop with raw
    protocols (a few tens of microseconds per request), which is affordable at the
    rates latency is measured at.

Request files hold complete raw requests (request line, headers, body) separated by NUL
bytes, so both generators send exactly the same bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BareServer",
    "HostCanary",
    "WrkResult",
    "bare_app",
    "by_second",
    "cpu_seconds",
    "free_port",
    "machine_busy_seconds",
    "machine_description",
    "median",
    "percentile",
    "postgres_tree_cpu_seconds",
    "read_requests",
    "run_openloop",
    "run_wrk",
    "write_requests",
]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- CPU time ----------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """utime + stime of ``pid`` (all its threads), in seconds.

    ``with_reaped_children`` adds cutime + cstime: the CPU of children it has waited for.
    """
    fields = _stat_fields(pid)  # fields[0] is field 3 (state) of proc(5)
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLK_TCK


def machine_busy_seconds() -> float:
    """CPU-seconds all processes on the machine have used (``/proc/stat``, not idle)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / _CLK_TCK


def _children(ppid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry))[1]) == ppid:
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def postgres_tree_cpu_seconds(postmaster_pid: int) -> float:
    """CPU of a PostgreSQL server: the postmaster, its live children (backends, WAL
    writer, checkpointer…) and the children it has already reaped (e.g. autovacuum
    workers that came and went), so a difference of two readings covers them all."""
    total = cpu_seconds(postmaster_pid, with_reaped_children=True)
    for child in _children(postmaster_pid):
        try:
            total += cpu_seconds(child)
        except (OSError, ValueError, IndexError):
            continue  # exited between listing and reading: its time is now in cutime
    return total


# -- statistics --------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def by_second(samples: Iterable[tuple[float, float]], start: float) -> list[list[float]]:
    """The values of (time, value) ``samples`` grouped by whole seconds from ``start``
    (seconds with none left out), in time order; samples before ``start`` are dropped."""
    seconds: dict[int, list[float]] = {}
    for at, value in samples:
        if at >= start:
            seconds.setdefault(int(at - start), []).append(value)
    return [seconds[k] for k in sorted(seconds)]


_CANARY_DOC = json.dumps(
    {"id": "https://example.org/x", "type": "Create", "object": {"content": "x" * 900}}
)


class HostCanary:
    """Watches the host's speed while a measurement runs, from a thread of this process.

    The machines here are virtual and shared, and the host sometimes makes the same work
    cost about 1.6 times the CPU for seconds at a time, with nothing else running in the
    machine (docs/benchmarks.md, "Inbox"). Every ``interval`` seconds the thread times a
    fixed piece of pure-Python work (200 JSON round trips of a 1 KB document, about
    1.5 ms) in its own CPU time, which scheduling delays do not inflate; about 1.5% of
    a core. The benchmark process itself only waits on its subprocesses meanwhile.

    ``per_second(start)``: the median microseconds per round trip in each second from
    ``start`` (a ``time.perf_counter()`` value, the same clock in every process here).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HostCanary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            cpu0 = time.thread_time()
            for _ in range(200):
                json.dumps(json.loads(_CANARY_DOC))
            self.samples.append((time.perf_counter(), (time.thread_time() - cpu0) / 200 * 1e6))

    def overall(self) -> float:
        """The median of every sample (NaN when the run was too short for one)."""
        return median(cost for _, cost in self.samples) if self.samples else float("nan")

    def per_second(self, start: float) -> list[float]:
        return [median(costs) for costs in by_second(self.samples, start)]


def machine_description() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- request files -----------------------------------------------------------------------


def write_requests(path: Path, requests: Iterable[bytes]) -> int:
    count = 0
    with open(path, "wb") as fh:
        for raw in requests:
            if b"\0" in raw:
                raise ValueError("a request holds a NUL byte")
            if count:
                fh.write(b"\0")
            fh.write(raw)
            count += 1
    return count


def read_requests(path: Path) -> list[bytes]:
    return Path(path).read_bytes().split(b"\0")


# -- the bare route ----------------------------------------------------------------------


def bare_app() -> Any:
    """One POST route that reads the body and answers 202 (the inbox minus its work) and
    one GET route answering an empty JSON list (a timeline minus its work)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def accept(request: Request) -> Response:
        await request.body()
        return Response(status_code=202)

    async def empty_list(request: Request) -> Response:
        return JSONResponse([])

    return Starlette(
        routes=[
            Route("/inbox", accept, methods=["POST"]),
            # a GET answering JSON: the ceiling for read endpoints (bench_timeline)
            Route("/api/v1/timelines/home", empty_list, methods=["GET"]),
        ]
    )


def _serve_bare(port: int) -> None:
    import uvicorn

    # The same uvicorn settings as ``fedinet serve`` (fedinet/cli.py), with the loop and
    # protocol that "auto" picks there spelt out.
    uvicorn.run(
        bare_app(),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="off",
    )


@dataclass
class BareServer:
    """The bare route in its own process; ``pid`` is the one process serving it."""

    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BareServer:
        self.port = self.port or free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bench._common", "serve-bare", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the bare starlette server did not start")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- wrk ---------------------------------------------------------------------------------

_WRK_LUA = r"""
-- Cycle through pre-built raw requests, each sent at most once; stop when all are used.
local path = os.getenv("BENCH_REQUESTS")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local cycle = os.getenv("BENCH_CYCLE") == "1"
local counter = 0
local reqs, idx, stop_now, sent = {}, 0, false, 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  local fh = assert(io.open(path, "rb"))
  local data = fh:read("*a")
  fh:close()
  local n, pos = 0, 1
  while true do
    local stop = string.find(data, "\0", pos, true)
    local item = string.sub(data, pos, (stop or 0) - 1)
    -- thread t takes requests t, t + nthreads, t + 2 * nthreads, ...
    if n % nthreads == tid then reqs[#reqs + 1] = item end
    n = n + 1
    if not stop then break end
    pos = stop + 1
  end
end

function request()
  idx = idx + 1
  if idx > #reqs then
    if cycle then
      idx = 1  -- replays are harmless where nothing is stored (the bare route)
    else
      stop_now = true  -- a valid run never gets here: it then reports "exhausted"
      idx = #reqs
    end
  end
  sent = sent + 1
  return reqs[idx]
end

function response(status, headers, body)
  if stop_now then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    server_cpu_s: float
    postgres_cpu_s: float | None
    wrk_cpu_s: float
    exhausted: bool
    other_cpu_s: float
    """CPU used meanwhile by everything else on the machine (other users' work)."""
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    """Closed-loop latency percentiles as wrk measured them (each connection waits for
    its answer before sending again: the latency its ``connections`` clients see)."""
    max_ms: float = float("nan")

    @property
    def wall_rate(self) -> float:
        return self.requests / self.duration_s

    @property
    def per_server_cpu(self) -> float:
        return self.requests / self.server_cpu_s

    @property
    def per_server_and_postgres_cpu(self) -> float | None:
        if self.postgres_cpu_s is None:
            return None
        return self.requests / (self.server_cpu_s + self.postgres_cpu_s)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    return found


def run_wrk(
    url: str,
    requests_file: Path,
    *,
    server_pid: int,
    postmaster_pid: int | None = None,
    duration: float = 8.0,
    connections: int = 32,
    threads: int = 1,
    cycle: bool = False,
    workdir: Path,
) -> WrkResult:
    """One closed-loop run of ``wrk`` against ``url``; CPU of the server (and PostgreSQL)
    is read just before wrk starts and just after it exits."""
    script = workdir / "cycle.lua"
    script.write_text(_WRK_LUA)
    env = {
        **os.environ,
        "BENCH_REQUESTS": str(requests_file),
        "BENCH_THREADS": str(threads),
        "BENCH_CYCLE": "1" if cycle else "0",
    }
    cmd = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    server0 = cpu_seconds(server_pid)
    pg0 = postgres_tree_cpu_seconds(postmaster_pid) if postmaster_pid else None
    children0 = os.times()
    busy0 = machine_busy_seconds()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    busy1 = machine_busy_seconds()
    children1 = os.times()
    server1 = cpu_seconds(server_pid)
    pg1 = postgres_tree_cpu_seconds(postmaster_pid) if postmaster_pid else None
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr}\n{done.stdout}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON "))
    stats = json.loads(line.removeprefix("BENCH_JSON "))
    wrk_cpu = (children1.children_user - children0.children_user) + (
        children1.children_system - children0.children_system
    )
    ours = (server1 - server0) + ((pg1 or 0.0) - (pg0 or 0.0)) + wrk_cpu
    return WrkResult(
        other_cpu_s=max(0.0, (busy1 - busy0) - ours),
        requests=stats["requests"],
        duration_s=stats["duration_us"] / 1e6,
        non_2xx=stats["status"],
        socket_errors=stats["connect"] + stats["read"] + stats["write"] + stats["timeout"],
        server_cpu_s=server1 - server0,
        postgres_cpu_s=None if pg0 is None or pg1 is None else pg1 - pg0,
        wrk_cpu_s=wrk_cpu,
        exhausted=not cycle and stats["requests"] >= _count_requests(requests_file) - connections,
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        max_ms=stats["max_us"] / 1000,
    )


def _count_requests(path: Path) -> int:
    return Path(path).read_bytes().count(b"\0") + 1


# -- open-loop generator -----------------------------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive connection with its own fixed schedule (wrk2's model).

    Times are ``time.perf_counter()`` values: uvloop's ``loop.time()`` only moves in
    whole milliseconds. A request sent late because the previous one had not come back
    is timed from when it was due (the server's fault); one sent by a timer on an idle
    connection is timed from when it was actually written (a late timer is the
    generator's fault, libuv timers having millisecond granularity).
    """

    def __init__(self, gen: _OpenLoop, first_due: float, interval: float) -> None:
        self.gen = gen
        self.due = first_due
        self.interval = interval
        self.buf = b""
        self.busy_since: float | None = None  # the due time of the request in flight
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, only alike.
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def schedule(self) -> None:
        if self.due >= self.gen.end:
            self.gen.finished_conn()
            return
        delay = self.due - time.perf_counter()
        asyncio.get_running_loop().call_later(max(0.0, delay), self.send, False)

    def send(self, behind: bool) -> None:
        raw = self.gen.next_request()
        if raw is None or self.transport is None or self.transport.is_closing():
            self.gen.finished_conn()
            return
        self.busy_since = self.due if behind else max(self.due, time.perf_counter())
        self.due += self.interval
        self.gen.sent += 1
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = head_end + 4 + length
            if len(self.buf) < total:
                return
            status = int(head.split(" ", 2)[1])
            self.buf = self.buf[total:]
            self.completed(status)

    def completed(self, status: int) -> None:
        now = time.perf_counter()
        assert self.busy_since is not None
        self.gen.record(now - self.busy_since, status)
        self.busy_since = None
        if self.due >= self.gen.end:
            self.gen.finished_conn()
        elif self.due <= now:
            self.send(True)  # behind schedule: send at once, timed from when due
        else:
            self.schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy_since is not None:
            self.gen.errors += 1
            self.gen.finished_conn()
        if not self.closed.done():
            self.closed.set_result(None)


class _OpenLoop:
    def __init__(self, requests: list[bytes], rate: float, duration: float, conns: int) -> None:
        self.requests = requests
        self.rate = rate
        self.duration = duration
        self.conns = conns
        self.index = 0
        self.sent = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.completed_at: list[float] = []
        self.statuses: dict[int, int] = {}
        self.end = 0.0
        self.remaining = conns
        self.all_done: asyncio.Future[None] | None = None

    def next_request(self) -> bytes | None:
        if self.index >= len(self.requests):
            return None
        raw = self.requests[self.index]
        self.index += 1
        return raw

    def record(self, latency: float, status: int) -> None:
        self.latencies.append(latency)
        self.completed_at.append(time.perf_counter())
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def finished_conn(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0 and self.all_done is not None and not self.all_done.done():
            self.all_done.set_result(None)

    async def run(self, host: str, port: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self.all_done = loop.create_future()
        interval = self.conns / self.rate
        protocols: list[_Conn] = []
        start = time.perf_counter() + 0.2
        self.end = start + self.duration
        for i in range(self.conns):
            first_due = start + i * interval / self.conns
            _, proto = await loop.create_connection(
                functools.partial(_Conn, self, first_due, interval), host, port
            )
            protocols.append(proto)
        cpu0 = time.process_time()
        for proto in protocols:
            proto.schedule()
        await asyncio.wait_for(self.all_done, self.duration + 30)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        for proto in protocols:
            if proto.transport is not None:
                proto.transport.close()
        lat = sorted(self.latencies)
        # p99 of each second of the run (by completion): where in the run the tail is
        completions = zip(self.completed_at, self.latencies, strict=True)
        window_p99 = [percentile(sorted(w), 0.99) * 1000 for w in by_second(completions, start)]
        return {
            "target_rate": self.rate,
            "achieved_rate": len(lat) / elapsed,
            "completed": len(lat),
            "sent": self.sent,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "exhausted": self.index >= len(self.requests),
            "p50_ms": percentile(lat, 0.50) * 1000,
            "p90_ms": percentile(lat, 0.90) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000,
            "max_ms": (lat[-1] if lat else float("nan")) * 1000,
            "start_perf_counter": start,
            "window_p99_ms": window_p99,
            "generator_cpu_s": cpu,
        }


def run_openloop(
    port: int,
    requests_file: Path,
    *,
    rate: float,
    duration: float,
    connections: int = 32,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """Run the open-loop generator in its own process (uvloop) and return its figures."""
    cmd = [
        sys.executable,
        "-m",
        "tests.bench._common",
        "openloop",
        "--port",
        str(port),
        "--requests",
        str(requests_file),
        "--rate",
        str(rate),
        "--duration",
        str(duration),
        "--connections",
        str(connections),
    ]
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    busy0, wall0 = machine_busy_seconds(), time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    busy1, wall1 = machine_busy_seconds(), time.monotonic()
    cpu1 = cpu_seconds(server_pid) if server_pid else 0.0
    if done.returncode != 0:
        raise RuntimeError(f"the open-loop generator failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_cpu_s"] = cpu1 - cpu0
    result["machine_busy_cores"] = (busy1 - busy0) / (wall1 - wall0)
    return result


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench._common")
    sub = parser.add_subparsers(dest="command", required=True)
    bare = sub.add_parser("serve-bare", help="serve the bare starlette route")
    bare.add_argument("--port", type=int, required=True)
    gen = sub.add_parser("openloop", help="open-loop generator; prints one JSON line")
    gen.add_argument("--host", default="127.0.0.1")
    gen.add_argument("--port", type=int, required=True)
    gen.add_argument("--requests", type=Path, required=True)
    gen.add_argument("--rate", type=float, required=True)
    gen.add_argument("--duration", type=float, required=True)
    gen.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if args.command == "serve-bare":
        _serve_bare(args.port)
        return
    import gc

    import uvloop

    requests = read_requests(args.requests)
    # The generator's own pauses would count as the server's latency (a request is
    # timed from when it was due): no garbage collection during the run.
    gc.collect()
    gc.freeze()
    gc.disable()
    result = uvloop.run(
        _OpenLoop(requests, args.rate, args.duration, args.connections).run(args.host, args.port)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
