"""How long a durable write takes on this machine: ``python -m tests.bench.disk_flush``.

Run by hand, never by pytest. Every inbox request waits for one PostgreSQL commit, and a
commit waits for its WAL to be flushed to the disk. This probe times the flush alone, as
the kernel does it for PostgreSQL: ``pwrite`` of one 8 kB page, then ``fdatasync``, in
a loop with 1 ms pauses (``--pause``), in a file under ``--dir`` (put it on the file
system that holds the PostgreSQL data). It prints the slowest flush of each second and
the distribution.

On the project's virtual machines the median is 0.1-0.4 ms, but flushes of 30-95 ms
come and go, with or without load (docs/benchmarks.md, "Inbox acceptance"). A machine
where the slowest flush stays within a few milliseconds, also beside a benchmark run
(``--pause 0.05``), is one where the inbox's latency goal can be judged.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from tests.bench._common import by_second, percentile

PAGE = b"\0" * 8192


def probe(directory: str, seconds: float, pause: float = 0.001) -> list[tuple[float, float]]:
    """(seconds since start, milliseconds) for each flush during ``seconds``."""
    fd, path = tempfile.mkstemp(prefix="fedinet-flush-", dir=directory)
    samples: list[tuple[float, float]] = []
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            os.pwrite(fd, PAGE, 0)
            before = time.perf_counter()
            os.fdatasync(fd)
            samples.append((before - started, (time.perf_counter() - before) * 1000))
            time.sleep(pause)
    finally:
        os.close(fd)
        os.unlink(path)
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.disk_flush")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to write")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.001,
        help="seconds between flushes (0.05 beside a benchmark)",
    )
    args = parser.parse_args(argv)
    samples = probe(args.dir, args.seconds, args.pause)
    worst = [max(second) for second in by_second(samples, 0.0)]
    ordered = sorted(ms for _, ms in samples)
    print("slowest flush of each second, ms:", " ".join(f"{ms:.1f}" for ms in worst))
    print(
        f"{len(ordered)} flushes in {args.dir}: p50 {percentile(ordered, 0.5):.3f} ms, "
        f"p99 {percentile(ordered, 0.99):.3f} ms, p99.9 {percentile(ordered, 0.999):.3f} ms, "
        f"max {ordered[-1]:.1f} ms; over 10 ms: {sum(ms > 10 for ms in ordered)}"
    )


if __name__ == "__main__":
    main()
