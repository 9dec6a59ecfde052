"""Follow-note checks: ``python -m tests.bench.bench_notes`` (by hand, never pytest).

A fresh database on an embedded PostgreSQL (default, durable settings) is loaded by COPY
with ``--notes`` request notes (default 1,000,000) from ``--senders`` senders (default
100,000), then ANALYZEd. Senders follow a long tail: every sender has sent 3 notes, and
the rest are spread by Zipf weights (s = 1), so the busiest sender has sent tens of
thousands and the median about 3 to 5. Notes are spread evenly over the last 90 days (a
third inside the 30-day window), and are written from word lists: a greeting, the
recipient's name, two or three sentences about interests, places and reasons. One sender
in five is a "party guest" who sends the same one or two lines to everyone, name swapped.

Then, on one held connection, ``check_note`` runs for ``--requests`` random requests per
repetition (strict policy: all five rules, two queries), for a recipient profile with a
bio and 20 recent posts built from the same word lists. Half the senders are drawn
uniformly, half in proportion to how many notes they have sent (busy senders send most
requests). Each timed check is followed by a bare ``SELECT 1`` on the same connection:
the round-trip ceiling, reported with the checks as a ratio.

The goal (issue "Follow-note rules"): p99 of one check under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fedinet.db import notes as notes_db
from fedinet.db.embedded import EmbeddedPostgres
from fedinet.db.migrate import apply_migrations
from fedinet.db.pool import connect, ensure_database, with_database
from fedinet.services.note_rules import RecipientProfile, check_note
from tests.bench._common import machine_description, median, percentile

GOAL_P99_MS = 20.0
NOW = datetime.now(UTC).replace(microsecond=0)

# -- word lists --------------------------------------------------------------------------


def words(block: str) -> list[str]:
    return block.split()


NAMES = words(
    "Anna Ben Carla Dev Emma Farid Greta Hiro Ines Jonas Kemal Lena Mateo Nadia Omar Priya "
    "Quinn Rosa Sami Tara Umar Vera Wei Xena Yusuf Zoe Ali Bea Chen Dana Eli Fatou Gil Hana "
    "Ivan Jade Kofi Lin Mara Nico"
)
INTERESTS = words(
    "gardening beekeeping sourdough chess birdwatching photography knitting cycling hiking "
    "woodworking astronomy philosophy poetry jazz pottery climbing running baking fermenting "
    "calligraphy origami sailing canoeing permaculture composting foraging linocut printmaking "
    "typography bookbinding letterpress boardgames rpg synths modular vinyl podcasts "
    "languages esperanto genealogy archaeology geology mycology lichens mosses ferns orchids"
)
PLACES = words(
    "Leeds York Tulsa Lyon Sevilla Köln Porto Utrecht Bologna Boulder Glasgow Bristol Ghent "
    "Graz Bergen Oulu Cork Malmö Brno Kraków Lille Nantes Bilbao Tartu Riga"
)
THINGS = words(
    "starter allotment telescope sketchbook thread recipe trail workshop meetup zine map "
    "garden hive kiln loom lathe notebook album playlist route harbour library orchard"
)
REASONS = (
    "I'm caring for my mum and looking for people to talk to on the good days",
    "I moved here last spring and don't know many people yet",
    "I'd love someone to swap notes with",
    "I'm slowly getting back into it after a long illness",
    "my partner thinks I talk about it too much",
    "nobody around me shares this obsession",
    "I run a small club and we'd love a guest",
    "I'm writing a zine about it and would value your view",
)
OPENERS = (
    "Hi {name}, I saw your post about {interest} and",
    "Hello {name}! Your thread on {interest} in {place} made me smile, and",
    "{name}, I think we met at the {interest} {thing} in {place} last year;",
    "Dear {name}, like you I'm into {interest} and {interest2}, and",
    "Hey {name}, your photo of the {thing} was lovely;",
)
MIDDLES = (
    "I have been trying the same with my {thing} for months.",
    "{reason}.",
    "I live near {place} and would enjoy a walk and a chat about {interest}.",
    "my {thing} finally worked after reading your tips on {interest}.",
    "I'm also learning {interest2} and keep making the same mistakes.",
)
CLOSERS = (
    "Would you like to compare notes?",
    "Happy to share what I've learned so far.",
    "No pressure at all, just wanted to say hello properly.",
    "Let me know if you're ever in {place}.",
    "Thanks for writing so openly about it.",
)
BIO_WORDS = words(
    "writer teacher retired nurse carer student illustrator librarian baker volunteer "
    "parent grandparent walker reader tinkerer maker organiser neighbour dreamer learner "
    "amateur enthusiast collector grower"
)


def _fill(template: str, rng: random.Random, name: str) -> str:
    return template.format(
        name=name,
        interest=rng.choice(INTERESTS),
        interest2=rng.choice(INTERESTS),
        place=rng.choice(PLACES),
        thing=rng.choice(THINGS),
        reason=rng.choice(REASONS),
    )


def make_note(rng: random.Random, name: str) -> str:
    parts = [_fill(rng.choice(OPENERS), rng, name), _fill(rng.choice(MIDDLES), rng, name)]
    if rng.random() < 0.6:
        parts.append(_fill(rng.choice(MIDDLES), rng, name).capitalize())
    parts.append(_fill(rng.choice(CLOSERS), rng, name))
    return " ".join(parts)


def make_profile(rng: random.Random, actor_id: int) -> RecipientProfile:
    name = rng.choice(NAMES)
    interests = tuple(rng.sample(INTERESTS, 4))
    place = rng.choice(PLACES)
    bio = (
        f"{rng.choice(BIO_WORDS).capitalize()} and {rng.choice(BIO_WORDS)} in {place}. "
        f"Into {interests[0]}, {interests[1]} and the occasional {rng.choice(THINGS)}."
    )
    posts = tuple(
        f"Today's {rng.choice(THINGS)}: {rng.choice(INTERESTS)} with friends near {place}. "
        f"The {rng.choice(THINGS)} is {rng.choice(['back', 'done', 'broken', 'lovely'])}. "
        f"#{rng.choice(interests)}"
        for _ in range(20)
    )
    return RecipientProfile(
        username=f"{name.lower()}{actor_id}",
        acct=f"{name.lower()}{actor_id}@bench.example",
        display_name=name,
        interests=interests,
        motives=tuple(rng.sample(["friendship", "hobbies", "support", "local"], 2)),
        region=place,
        bio_text=bio,
        recent_posts=posts,
    )


# -- loading -----------------------------------------------------------------------------


def sender_counts(rng: random.Random, senders: int, notes: int) -> list[int]:
    """3 notes each, the rest by Zipf weights (s = 1) over a shuffled order of senders."""
    base = min(3, notes // senders)
    counts = [base] * senders
    rest = notes - base * senders
    weights = [1.0 / rank for rank in range(1, senders + 1)]
    total = sum(weights)
    order = list(range(senders))
    rng.shuffle(order)
    assigned = 0
    for rank, index in enumerate(order):
        share = int(rest * weights[rank] / total)
        counts[index] += share
        assigned += share
    for index in rng.sample(range(senders), rest - assigned):
        counts[index] += 1
    return counts


async def load(dsn: str, rng: random.Random, senders: int, notes: int) -> list[int]:
    conn = await connect(dsn)
    try:
        await apply_migrations(conn)
        started = time.monotonic()
        await conn.copy_records_to_table(
            "actors",
            columns=["uri", "is_local", "username", "domain", "display_name"],
            records=(
                (f"https://bench.example/u/{i}", False, f"u{i}", "bench.example", rng.choice(NAMES))
                for i in range(senders)
            ),
        )
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM actors ORDER BY id")]
        names = {
            r["id"]: r["display_name"]
            for r in await conn.fetch("SELECT id, display_name FROM actors")
        }
        counts = sender_counts(rng, senders, notes)
        party = {i for i in range(senders) if rng.random() < 0.2}
        span = 90 * 86400

        def records() -> Any:
            for index, count in enumerate(counts):
                sender = ids[index]
                lines = [make_note(rng, "{name}") for _ in range(2)] if index in party else None
                for _ in range(count):
                    followee = ids[rng.randrange(senders)]
                    if followee == sender:
                        followee = ids[(index + 1) % senders]
                    name = names[followee]
                    note = (
                        rng.choice(lines).replace("{name}", name) if lines else make_note(rng, name)
                    )
                    created = NOW - timedelta(seconds=rng.randrange(span))
                    outcome = rng.choice(("pending", "accepted", "accepted", "rejected", "expired"))
                    yield (sender, followee, note, None, outcome, created)

        batch: list[tuple[Any, ...]] = []
        for record in records():
            batch.append(record)
            if len(batch) >= 100_000:
                await _copy_notes(conn, batch)
                batch = []
        if batch:
            await _copy_notes(conn, batch)
        await conn.execute("VACUUM ANALYZE request_notes")
        await conn.execute("ANALYZE actors")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('request_notes'))")
        print(
            f"loaded {notes:,} notes from {senders:,} senders in "
            f"{time.monotonic() - started:.0f}s; request_notes with indexes: {size}; "
            f"busiest sender: {max(counts):,} notes; median: {sorted(counts)[senders // 2]}",
            flush=True,
        )
        return counts
    finally:
        await conn.close()


async def _copy_notes(conn: Any, batch: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        "request_notes",
        columns=["follower_id", "followee_id", "note", "motive", "outcome", "created_at"],
        records=batch,
    )


# -- timing ------------------------------------------------------------------------------


async def time_checks(
    dsn: str, rng: random.Random, counts: list[int], requests: int
) -> dict[str, Any]:
    conn = await connect(dsn)
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM actors ORDER BY id")]
        cumulative = list(itertools.accumulate(counts))
        heavy_cut = sorted(counts)[max(0, len(counts) - 1000)]  # the 1,000 busiest senders

        def pick_sender() -> int:
            if rng.random() < 0.5:
                return rng.randrange(len(ids))
            return bisect.bisect_right(cumulative, rng.randrange(cumulative[-1]))

        async def one(timed: bool) -> tuple[float, float, str, bool]:
            index = pick_sender()
            recipient_id = ids[rng.randrange(len(ids))]
            profile = make_profile(rng, recipient_id)
            note = make_note(rng, profile.display_name)
            if rng.random() < 0.1:  # sometimes resend one of their own recent lines
                previous = await conn.fetchval(
                    "SELECT note FROM request_notes WHERE follower_id = $1 "
                    "ORDER BY created_at DESC LIMIT 1",
                    ids[index],
                )
                note = previous or note
            started = time.perf_counter()
            refusal = await check_note(
                conn,
                sender_id=ids[index],
                recipient_id=recipient_id,
                recipient=profile,
                note=note,
                policy="strict",
                now=NOW,
            )
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            await conn.fetchval("SELECT 1")
            ceiling = time.perf_counter() - started
            return elapsed, ceiling, refusal.reason if refusal else "ok", counts[index] >= heavy_cut

        for _ in range(200):  # warm-up: plans, caches
            await one(False)
        checks, ceilings, heavy = [], [], []
        outcomes: dict[str, int] = {}
        for _ in range(requests):
            elapsed, ceiling, outcome, is_heavy = await one(True)
            checks.append(elapsed)
            ceilings.append(ceiling)
            if is_heavy:
                heavy.append(elapsed)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        checks.sort()
        ceilings.sort()
        heavy.sort()
        ms = 1000.0
        return {
            "p50_ms": percentile(checks, 0.50) * ms,
            "p95_ms": percentile(checks, 0.95) * ms,
            "p99_ms": percentile(checks, 0.99) * ms,
            "max_ms": checks[-1] * ms,
            "select1_p50_ms": percentile(ceilings, 0.50) * ms,
            "select1_p99_ms": percentile(ceilings, 0.99) * ms,
            "heavy_n": len(heavy),
            "heavy_p99_ms": percentile(heavy, 0.99) * ms,
            "outcomes": outcomes,
        }
    finally:
        await conn.close()


async def explain_busiest(dsn: str, counts: list[int]) -> str:
    conn = await connect(dsn)
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM actors ORDER BY id")]
        busiest = ids[max(range(len(counts)), key=counts.__getitem__)]
        rows = await conn.fetch(
            """
            EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
            SELECT coalesce(max(score), 0),
                   count(DISTINCT followee_id) FILTER (WHERE score >= 0.6)
            FROM (
                SELECT followee_id,
                       CASE WHEN followee_id <> $2 AND note <> ''
                            THEN similarity(left(note, 500), $3) END AS score
                FROM request_notes
                WHERE follower_id = $1 AND created_at >= $4
                ORDER BY created_at DESC
                LIMIT $5
            ) recent
            """,
            busiest,
            ids[0],
            "Hi Anna, I saw your post about gardening and would love to compare notes.",
            NOW - timedelta(days=30),
            notes_db.REPEAT_SCAN_LIMIT,
        )
        started = time.perf_counter()
        await notes_db.requester_record(conn, busiest)
        record_ms = (time.perf_counter() - started) * 1000
        plan = "\n".join(r[0] for r in rows)
        return f"{plan}\nrequester_record of the busiest sender: {record_ms:.1f} ms"
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_notes")
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--senders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="timed checks per rep")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="fedinet-bench-notes-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_description(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(f"machine: {results['machine']}  workdir: {workdir}", flush=True)
    rng = random.Random(args.seed)
    server = EmbeddedPostgres(workdir / "postgres")
    server_dsn = server.acquire()
    try:
        name = f"fedinet_bench_notes_{os.getpid()}"
        asyncio.run(ensure_database(server_dsn, name))
        dsn = with_database(server_dsn, name)
        counts = asyncio.run(load(dsn, rng, args.senders, args.notes))
        reps = []
        for rep in range(args.reps):
            figures = asyncio.run(time_checks(dsn, rng, counts, args.requests))
            figures["loadavg_1min"] = os.getloadavg()[0]
            reps.append(figures)
            print(
                f"rep {rep + 1}: check p50 {figures['p50_ms']:.2f} ms, p95 "
                f"{figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, max "
                f"{figures['max_ms']:.2f} ms; SELECT 1 p50 {figures['select1_p50_ms']:.3f} ms; "
                f"1,000 busiest senders: {figures['heavy_n']} checks, p99 "
                f"{figures['heavy_p99_ms']:.2f} ms; outcomes {figures['outcomes']}; load average "
                f"{figures['loadavg_1min']:.2f}",
                flush=True,
            )
        results["reps"] = reps
        summary = {
            key: median(r[key] for r in reps)
            for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "select1_p50_ms", "heavy_p99_ms")
        }
        summary["p50_over_select1"] = summary["p50_ms"] / summary["select1_p50_ms"]
        summary["p99_over_select1"] = summary["p99_ms"] / summary["select1_p50_ms"]
        results["median"] = summary
        plan = asyncio.run(explain_busiest(dsn, counts))
        results["busiest_sender_plan"] = plan
        print(plan, flush=True)
    finally:
        server.release()
    print(f"\nmedians of {args.reps} reps of {args.requests} checks:")
    for key, value in summary.items():
        print(f"  {key:>18}: {value:.3f}")
    verdict = "meets" if summary["p99_ms"] < GOAL_P99_MS else "MISSES"
    print(f"  goal p99 < {GOAL_P99_MS} ms: {verdict}")
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
