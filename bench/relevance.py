"""Search relevance on the labelled set: recall@1/3/10 and MRR per kind of query.

Run: ``python bench/relevance.py`` (reads ``../shared/corpus``, or ``CORPUS_DIR``).

It ingests the 200 corpus episodes with their guest names and the devrel seed captions into a
fresh database (``--db FILE`` keeps or reuses it), runs every query of
``tests/storage/search/relevance.yaml`` through ``storage.search`` (10 hits each) and prints,
per kind, the share of queries whose first relevant hit is within the top 1, 3 and 10, and the mean
reciprocal rank; "nothing" queries count as passed when they return no hits. ``--misses`` lists
the queries not answered within the top 3.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS, build_corpus_db  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.storage.search.relevance import (  # noqa: E402
    add_captions_only,
    by_kind,
    evaluate,
    load_cases,
    misses,
    table,
)


async def run(db: Path, show_misses: bool) -> None:
    await build_corpus_db(db)
    cases = load_cases()
    async with await Store.open(db) as store:
        await add_captions_only(store, CORPUS)
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
