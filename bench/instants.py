"""What issue 15's change costs: upgrading a busy database's timestamps (migration 0009) and
building a digest, which now first waits for writes under way (``Store.settle``).

Run: ``python bench/instants.py [--rows N] [--runs N]``. The file is made in a temporary folder
at the schema before 0009, with N Slack events and N searches stamped to the second, as an
earlier version wrote them (a year and a half of a busy workspace at the default 200,000).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import storage.db.store  # noqa: E402
from storage.activity import build_digest  # noqa: E402
from storage.db import Store  # noqa: E402

MIGRATION = "0009_instants_microseconds"


async def old_file(path: Path, rows: int) -> None:
    """A database at the schema before 0009, its rows stamped to the second."""
    everything = storage.db.store.MIGRATIONS[:]
    names = [m.name for m in everything]
    storage.db.store.MIGRATIONS[:] = everything[: names.index(MIGRATION)]
    try:
        async with await Store.open(path) as store:
            start = datetime(2025, 6, 1, tzinfo=UTC)
            stamps = [
                (start + timedelta(minutes=i)).isoformat(timespec="seconds") for i in range(rows)
            ]
            async with store.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO events_seen(event_id, seen_at) VALUES (?, ?)",
                    [(f"Ev{i:08d}", s) for i, s in enumerate(stamps)],
                )
                await conn.executemany(
                    "INSERT INTO search_log(at, user_id, query, hits, source)"
                    " VALUES (?, 'U1', 'feature store', 3, 'slash')",
                    [(s,) for s in stamps],
                )
    finally:
        storage.db.store.MIGRATIONS[:] = everything


async def main(rows: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "old.db"
        await old_file(path, rows)
        started = time.perf_counter()
        async with await Store.open(path) as store:
            upgrade = time.perf_counter() - started
            assert (await store.applied_migrations())[-1] == MIGRATION
            now = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=rows)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                digest = await build_digest(store, now=now)
                times.append(time.perf_counter() - t)
    print(f"migration 0009 on {rows:,} events + {rows:,} searches: {upgrade:.2f} s")
    print(
        f"build_digest over a week of {digest.searches:,} searches, {runs} runs: "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="events and searches each")
    parser.add_argument("--runs", type=int, default=5, help="digests built")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.runs))
