"""How fast the whole corpus goes in, and how big the database gets.

Run: ``python bench/ingest.py [PATH ...] [--runs N] [--workers N]`` (default: the full site
folder ``../shared/corpus/raw``, or ``$CORPUS_DIR/raw``). Each run ingests into a fresh database
file, as ``python -m bot ingest`` does. Prints, for the best and the median run:

- hours of audio ingested per second, and seconds for the whole corpus;
- passages per hour of audio;
- database bytes per hour of audio;
- database size / transcript text size, where the text is the transcripts' words as given
  (the UTF-8 bytes of every segment, what a reader would call the transcript), and, for
  comparison, database size / size of the transcript files.

Goal (issue 2), on 2 cores: the 200-episode corpus in under 5 s, the database under 4x the
transcript text.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Store  # noqa: E402
from storage.ingest import ingest_paths  # noqa: E402
from storage.segments import unpack as unpack_segments  # noqa: E402

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))


def cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its (finished) worker processes."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


async def one_run(paths: list[Path], db: Path, workers: int | None) -> dict:
    cpu_before = cpu()
    started = time.perf_counter()
    async with await Store.open(db) as store:
        report = await ingest_paths(store, paths, workers=workers)
    seconds = time.perf_counter() - started
    cpu_after = cpu()
    if report.failed:
        raise SystemExit("\n".join(o.describe() for o in report.failed))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        episodes, audio = conn.execute("SELECT count(*), sum(duration) FROM episodes").fetchone()
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        text = sum(
            len(seg.text.encode())
            for (blob,) in conn.execute("SELECT data FROM episode_segments")
            for seg in unpack_segments(blob)
        )
        sources = [r[0] for r in conn.execute("SELECT DISTINCT source_path FROM episodes")]
        tables = conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8"
        ).fetchall()
    return {
        "seconds": seconds,
        "cpu_main": cpu_after[0] - cpu_before[0],
        "cpu_workers": cpu_after[1] - cpu_before[1],
        "episodes": episodes,
        "hours": audio / 3600,
        "passages": passages,
        "db": db.stat().st_size,
        "text": text,
        "files": sum(Path(p).stat().st_size for p in sources),
        "tables": tables,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[CORPUS / "raw"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise SystemExit(f"not found: {', '.join(map(str, missing))} (set CORPUS_DIR)")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            db = Path(tmp) / f"run{k}.db"
            runs.append(asyncio.run(one_run(args.paths, db, args.workers)))
            print(f"run {k + 1}: {runs[-1]['seconds']:.2f} s", file=sys.stderr)
    best = min(runs, key=lambda r: r["seconds"])
    median = statistics.median(r["seconds"] for r in runs)
    mb = 1024 * 1024
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"corpus: {', '.join(map(str, args.paths))}")
    print(
        f"{best['episodes']} episodes, {best['hours']:.1f} h of audio, {best['passages']} "
        f"passages; {cores} cores, {args.runs} runs"
    )
    print(f"time:                      {best['seconds']:.2f} s best, {median:.2f} s median")
    print(
        f"CPU (best run):            {best['cpu_main']:.2f} s writer process, "
        f"{best['cpu_workers']:.2f} s parsing workers (on a busy machine, compare these)"
    )
    print(f"hours of audio per second: {best['hours'] / best['seconds']:.1f} (best run)")
    print(f"passages per hour:         {best['passages'] / best['hours']:.0f}")
    print(f"database bytes per hour:   {best['db'] / best['hours'] / mb:.2f} MB")
    print(
        f"database / transcript text: {best['db'] / mb:.1f} MB / {best['text'] / mb:.1f} MB"
        f" = {best['db'] / best['text']:.2f}x"
    )
    print(
        f"database / transcript files: {best['db'] / mb:.1f} MB / {best['files'] / mb:.1f} MB"
        f" = {best['db'] / best['files']:.2f}x"
    )
    print("largest tables: " + ", ".join(f"{n} {size / mb:.1f} MB" for n, size in best["tables"]))


if __name__ == "__main__":  # worker processes re-import this file on some platforms
    main()
