"""Searches while the catalogue changes: 10 searches a second during repeated full re-ingests.

Run: ``python bench/live.py [--rounds N] [--rate R] [--hours H] [--check N]`` (reads
``../shared/corpus``, or ``CORPUS_DIR``).

The corpus's episode files and guest profiles are copied to a temporary folder and ingested into
a fresh database (``--hours H``: then replicated to about H hours of audio, as bench/search.py
does, so the catalogue is bigger than the files re-ingested). The database is opened the way
``serve`` opens it and its search cache built. Then, ``--rounds`` times, every episode file gets
one new word appended to one transcript line (a different made-up word per file and round), and
another PROCESS (``python -m bot ingest``) re-ingests the folder, so every episode is replaced
while this process searches at ``--rate`` a second (open loop: each search starts on its own
schedule, however long the earlier ones take; at most ``rate x 900`` searches in all).

Printed: searches made, errors and "busy" answers, p50/p95/max latency (from each search's
scheduled start to its result) during the ingests, and, right after each round's ingest ends,
how many of ``--check`` of that round's new words a search finds (each word only exists in one
episode, so a hit must come from the re-ingested text).

Goal (issue 10): 0 errors or busy answers, p95 <= 1 s and every new word found on the 200-episode
corpus; 0 errors and p95 <= 2 s at 1,000 h.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS, replicate  # noqa: E402
from storage.db import FailureKind, Store, failure_kind  # noqa: E402
from storage.search import search, search_cache  # noqa: E402

QUERIES = (
    "argo scheduler", "feature store", "kubernetes", "what is devrel?", "a/b testing",
    "guest:hugo devrel", "data engineering career", "mlops", "how to get a first data job",
    "metaflow -dask", '"data mesh"', "recommender systems", "after:2023-01-01 llm",
    "power analysis", "dbt", "speaker:alexey interview",
)  # fmt: skip
LINE = re.compile(r"^(\s*- line: )([^'\"|>].*)$")
MAX_SEARCHES_PER_RATE = 900  # at most rate x 900 searches: the loop always ends


def new_word(round_no: int, file_no: int) -> str:
    """A made-up word no transcript has, letters only (the tokenizer keeps it whole)."""
    n, letters = round_no * 1000 + file_no, ""
    while True:
        n, r = divmod(n, 26)
        letters += chr(ord("a") + r)
        if n == 0:
            break
    return "zqlive" + letters


def change_files(folder: Path, round_no: int) -> dict[str, str]:
    """Append a new word to the first plain transcript line of each episode file.

    Returns {word: file stem}.
    """
    words = {}
    for file_no, path in enumerate(sorted(folder.glob("*.md"))):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, line in enumerate(lines):
            m = LINE.match(line.rstrip("\n"))
            if m:
                word = new_word(round_no, file_no)
                lines[i] = line.rstrip("\n") + f" {word}\n"
                words[word] = path.stem
                break
        path.write_text("".join(lines), encoding="utf-8")
    return words


def ingest(db: Path, folders: list[Path]) -> tuple[float, str]:
    """``python -m bot ingest`` in a process of its own; (seconds, its summary line)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", *map(str, folders), "--db", str(db), "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}):\n{done.stderr[-2000:]}")
    lines = (done.stdout + done.stderr).strip().splitlines()
    return time.perf_counter() - started, lines[-1] if lines else ""


class Searches:
    """Searches at a fixed rate until stopped; latencies and failures while ``recording``."""

    def __init__(self, store: Store, rate: float):
        self.store, self.rate = store, rate
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.busy = 0
        self.made = 0
        self.recording = False

    async def one(self, query: str, due: float) -> None:
        try:
            await search(self.store, query, limit=5)
        except Exception as exc:  # noqa: BLE001 - counted and printed, the run goes on
            if failure_kind(exc) is FailureKind.BUSY:
                self.busy += 1
            else:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        if self.recording:
            self.latencies.append(time.perf_counter() - due)

    async def run(self, stop: asyncio.Event) -> None:
        rng = random.Random(10)
        tasks: set[asyncio.Task] = set()
        start = time.perf_counter()
        limit = int(self.rate * MAX_SEARCHES_PER_RATE)
        while not stop.is_set() and self.made < limit:
            due = start + self.made / self.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(self.one(rng.choice(QUERIES), due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self.made += 1
        await asyncio.gather(*tasks)


async def found(store: Store, words: dict[str, str], check: int) -> tuple[int, int]:
    sample = sorted(words)[:check]
    hits = 0
    for word in sample:
        result = await search(store, word, limit=3)
        hits += any(h.episode_id == words[word] for h in result.hits)
    return hits, len(sample)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="full re-ingests (default 3)")
    parser.add_argument("--rate", type=float, default=10.0, help="searches a second (default 10)")
    parser.add_argument("--hours", type=float, default=0, help="replicate to about H hours")
    parser.add_argument("--check", type=int, default=20, help="new words searched per round")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        folder = Path(tmp) / "corpus"
        episodes, people = folder / "_podcast", folder / "_people"
        shutil.copytree(CORPUS / "raw" / "_podcast", episodes)
        shutil.copytree(CORPUS / "raw" / "_people", people)
        db = Path(tmp) / "live.db"
        took, summary = ingest(db, [people, episodes])
        print(f"first ingest: {took:.1f} s ({summary})")
        if args.hours:
            base = Path(tmp) / "base.db"
            shutil.move(db, base)
            replicate(base, db, args.hours)

        async with await Store.open(db, create=False) as store:  # as serve opens it
            await search_cache(store)
            count = (await store.fetchone("SELECT count(*) FROM episodes"))[0]
            hours_ = (await store.fetchone("SELECT sum(duration) / 3600.0 FROM episodes"))[0]
            one, five, _ = os.getloadavg()
            print(
                f"catalogue: {count} episodes, {hours_:,.0f} h; searching at {args.rate:g}/s;"
                f" load average {one:.1f} (5 min: {five:.1f}) on {os.cpu_count()} cores"
            )
            searches, stop = Searches(store, args.rate), asyncio.Event()
            runner = asyncio.create_task(searches.run(stop))
            rounds = []
            for round_no in range(1, args.rounds + 1):
                words = change_files(episodes, round_no)
                searches.recording = True
                took, summary = await asyncio.to_thread(ingest, db, [people, episodes])
                searches.recording = False
                hits, tried = await found(store, words, args.check)
                rounds.append((round_no, len(words), took, hits, tried))
                print(
                    f"round {round_no}: {len(words)} files changed, re-ingested in {took:.1f} s;"
                    f" new words found right after: {hits}/{tried}  ({summary})"
                )
            stop.set()
            await runner

    lat = sorted(searches.latencies)
    print(f"searches: {searches.made} made, {len(lat)} timed during the ingests")
    print(f"errors: {len(searches.errors)}, busy answers: {searches.busy}")
    for line in sorted(set(searches.errors))[:5]:
        print(f"  {line[:200]}")
    if lat:
        print(
            f"latency during ingests: p50 {pct(lat, 50) * 1000:.0f} ms, "
            f"p95 {pct(lat, 95) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
        )
    all_found = all(hits == tried for _, _, _, hits, tried in rounds)
    print(f"every round's new words found: {'yes' if all_found else 'no'}")
    one, five, _ = os.getloadavg()
    print(
        f"machine at the end: load average {one:.1f} (5 min: {five:.1f}) on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    asyncio.run(main())
