"""Slash command latency: from a signed ``/episodes <words>`` request to the preview delivered.

Run: ``python bench/slack.py`` (reads ``../shared/corpus``, or ``CORPUS_DIR``).

It builds a database of at least 1,000 hours (the 200 corpus episodes, ~203 h, ingested once and
replicated under new ids with INSERT ... SELECT, so FTS and every index are maintained by the
schema's own triggers), runs the real app in HTTP mode on 127.0.0.1 with its Web API and
response URLs pointed at the local Slack stand-in (tests/slack_api.py), and sends 200 signed slash
commands, one at a time, each with a different query drawn from the transcripts. The time of one
request is from sending it to the stand-in receiving the preview on its response URL. Search
alone (``storage.search.engine`` on the same queries) is timed too, to show where the time goes.

Options: ``--db FILE`` reuses (or keeps) the 1,000 h database; ``--requests N``;
``--concurrency N`` requests in flight at once (default 1).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS, build_corpus_db, hours, replicate  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.search import search  # noqa: E402
from tests.bot.harness import running_bot  # noqa: E402
from tests.slack_api import SlackApi, slash_command  # noqa: E402

TARGET_HOURS = 1000
GOAL_P95_MS = 300


def build_database(path: Path) -> None:
    """The real corpus replicated to about TARGET_HOURS (the same builder bench/search.py uses)."""
    with sqlite3.connect(path) as conn:
        have = (
            hours(conn)
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'episodes'").fetchone()
            else 0
        )
    if have >= TARGET_HOURS:
        print(f"reusing {path}: {have:.0f} h", file=sys.stderr)
        return
    base = path.with_name(path.stem + "-base.db")
    asyncio.run(build_corpus_db(base))
    replicate(base, path, TARGET_HOURS)


async def queries(store: Store, n: int) -> list[str]:
    """``n`` distinct two- or three-word queries taken from the transcripts (fixed seed)."""
    rng = random.Random(4)
    rows = await store.fetchall(
        "SELECT text FROM passages WHERE episode_id NOT LIKE '%~%' ORDER BY id"
    )
    words = re.compile(r"[A-Za-z][a-z]{3,}")
    seen: dict[str, None] = {}
    while len(seen) < n:
        tokens = words.findall(rng.choice(rows)["text"])
        if len(tokens) < 4:
            continue
        size = rng.choice((2, 2, 3))
        start = rng.randrange(len(tokens) - size)
        seen[" ".join(tokens[start : start + size]).lower()] = None
    return list(seen)


def figures(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
    return (
        f"{label:<34} p50 {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"
        f"   max {ordered[-1] * 1000:6.1f} ms   (n={len(ordered)})"
    )


async def measure(db: Path, n: int, concurrency: int) -> None:
    async with await Store.open(db) as store:
        # warm-up, the slash commands, and search alone each get their own queries (no cache)
        asked = await queries(store, 2 * n + 10)
        asked, alone = asked[: n + 10], asked[n + 10 :]
        episodes = (await store.fetchone("SELECT count(*) FROM episodes"))[0]
        row = await store.fetchone("SELECT coalesce(sum(duration), 0) / 3600.0 FROM episodes")
        total_hours = row[0]

    async with SlackApi() as slack_api, running_bot(db, slack_api) as bot:
        slots = asyncio.Semaphore(concurrency)

        async def one(i: int, query: str) -> float:
            async with slots:
                key = f"b{i}"
                body = slash_command(query, response_url=slack_api.response_url(key))
                started = time.monotonic()
                status, _ = await bot.send(body)
                assert status == 200, status
                deadline = started + 10
                while True:  # bounded wait for this request's preview
                    mine = [c for c in slack_api.calls_to("response_url") if c.args["key"] == key]
                    if mine:
                        return mine[0].at - started
                    if time.monotonic() > deadline:
                        raise AssertionError(f"no preview for {query!r} within 10 s")
                    await asyncio.sleep(0.001)

        for i, query in enumerate(asked[:10]):  # warm-up: auth.test, caches, JIT of the OS
            await one(-1 - i, query)
        latencies = await asyncio.gather(*(one(i, q) for i, q in enumerate(asked[10:])))
        hits = await bot.store.fetchone(
            "SELECT avg(hits), sum(hits = 0) FROM search_log WHERE id > 10"
        )

    async with await Store.open(db) as store:
        search_only = []
        for query in alone:
            started = time.perf_counter()
            await search(store, query, limit=3)
            search_only.append(time.perf_counter() - started)

    print(
        f"database: {episodes} episodes, {total_hours:.0f} h; {n} distinct queries, "
        f"{concurrency} in flight; {hits[0]:.1f} hits per preview, {hits[1]} with none"
    )
    print(figures("signed request -> preview delivered", latencies))
    print(figures("search alone (storage.search.engine)", search_only))
    p95 = sorted(latencies)[math.ceil(0.95 * len(latencies)) - 1] * 1000
    verdict = "meets" if p95 <= GOAL_P95_MS else "MISSES"
    print(f"goal p95 <= {GOAL_P95_MS} ms: {verdict} ({p95:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="the 1,000 h database (built if missing)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    if not (CORPUS / "raw" / "_podcast").is_dir():
        sys.exit(f"the corpus is not at {CORPUS} (set CORPUS_DIR)")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "1000h.db"
        build_database(db)
        asyncio.run(measure(db, args.requests, max(1, args.concurrency)))


if __name__ == "__main__":
    main()
