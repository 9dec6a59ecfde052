"""A home page's query and rendering, cold and warm: ``python -m tests.bench.timeline_render
--workdir DIR`` (by hand, never pytest), on the instance ``bench_timeline`` loaded in DIR.

In one process, on one connection, no HTTP: ``timelines.home_page`` then
``status_cache.render_page`` for the member's first page, 300 times each way:

* **cold**: the process's status cache emptied before every page, so every status is
  rendered from rows (what a page nobody on this process has seen recently costs);
* **warm**: the cache kept (what ``bench_timeline`` measures, less HTTP and the token).

Prints the CPU time of this process per page (``time.process_time``) and the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fedinet.config import load_settings
from fedinet.db import actors as actors_db
from fedinet.db import timelines as timelines_db
from fedinet.db.pool import create_pool, with_database
from fedinet.web.api.status_cache import StatusCache, render_page
from tests.bench.bench_inbox import postgres
from tests.bench.bench_timeline import DATABASE


async def _measure(dsn: str, data_dir: Path, pages: int) -> None:
    settings = load_settings({"FEDINET_DATABASE_URL": dsn, "FEDINET_DATA_DIR": str(data_dir)})
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            owner = await conn.fetchval(
                "SELECT id FROM actors WHERE is_local AND username = 'reader'"
            )
            if owner is None:
                raise SystemExit("no loaded instance here: run tests.bench.bench_timeline first")
            viewer = await actors_db.get_actor_by_id(conn, owner)
            assert viewer is not None
            cache = StatusCache()

            async def page() -> bytes:
                found = await timelines_db.home_page(conn, owner, limit=20)
                return await render_page(conn, settings, cache, found, viewer, context="home")

            async def cold() -> bytes:
                cache.clear()
                return await page()

            ways: list[tuple[str, Callable[[], Awaitable[bytes]]]] = [
                ("cold", cold),
                ("warm", page),
            ]
            for name, way in ways * 2:
                for _ in range(20):
                    await way()
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(pages):
                    body = await way()
                cpu_ms = (time.process_time() - cpu) / pages * 1000
                wall_ms = (time.perf_counter() - wall) / pages * 1000
                print(
                    f"{name}: {cpu_ms:.2f} ms of this process's CPU, {wall_ms:.2f} ms wall "
                    f"per page ({len(body):,} bytes)",
                    flush=True,
                )
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.timeline_render")
    parser.add_argument("--workdir", type=Path, required=True, help="bench_timeline's")
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    with postgres(args.workdir) as (server_dsn, _):
        dsn = with_database(server_dsn, DATABASE)
        asyncio.run(_measure(dsn, args.workdir / "data", args.pages))


if __name__ == "__main__":
    main()
