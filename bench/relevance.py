"""Search relevance on the labelled set: recall@1/3/10 and MRR per kind of query.

Run: ``python bench/relevance.py`` (reads ``../shared/corpus``, or ``CORPUS_DIR``).

It ingests the 200 corpus episodes with their guest names and the devrel seed captions into a
fresh database (``--db FILE`` keeps or reuses it), runs every query of
``tests/storage/relevance.yaml`` through ``storage.search`` (10 hits each) and prints, per kind,
the share of queries whose first relevant hit is within the top 1, 3 and 10, and the mean
reciprocal rank; "nothing" queries count as passed when they return no hits. ``--misses`` lists
the queries not answered within the top 3.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Store, ingest_paths  # noqa: E402
from tests.storage.relevance import (  # noqa: E402
    SEED_META,
    by_kind,
    evaluate,
    load_cases,
    misses,
    table,
)

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
SEED = CORPUS / "seed" / "000_65fe3dfcb0de18ef.txt"


async def build(db: Path) -> None:
    async with await Store.open(db) as store:
        row = await store.fetchone("SELECT count(*) FROM episodes")
        if row[0] >= 200:
            print(f"reusing {db}", file=sys.stderr)
            return
        started = time.perf_counter()
        report = await ingest_paths(
            store, [CORPUS / "raw" / "_people", CORPUS / "raw" / "_podcast"]
        )
        if report.failed:
            raise SystemExit(f"ingest failed: {[o.describe() for o in report.failed]}")
        seed = await ingest_paths(store, [SEED], overrides=SEED_META)
        if seed.failed:
            raise SystemExit(f"seed ingest failed: {[o.describe() for o in seed.failed]}")
        print(f"built {db} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


async def run(db: Path, show_misses: bool) -> None:
    await build(db)
    cases = load_cases()
    async with await Store.open(db) as store:
        started = time.perf_counter()
        outcomes = await evaluate(store, cases)
        took = time.perf_counter() - started
    print(f"{len(cases)} labelled queries over {CORPUS} ({took:.1f} s)\n")
    print(table(outcomes))
    overall = by_kind(outcomes)["all"]
    print(f"\noverall recall@3 {overall.r3:.2f} (goal 0.90)")
    if show_misses:
        lines = misses(outcomes)
        print("\nnot answered in the top 3:" if lines else "\nevery query answered in the top 3")
        for line in lines:
            print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database to build or reuse")
    parser.add_argument("--misses", action="store_true", help="list queries missed at 3")
    args = parser.parse_args()
    if not (CORPUS / "raw" / "_podcast").is_dir():
        raise SystemExit(f"the corpus is not at {CORPUS} (set CORPUS_DIR)")
    if args.db:
        asyncio.run(run(args.db, args.misses))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp) / "relevance.db", args.misses))


if __name__ == "__main__":
    main()
