"""The benchmarks' base database: the real corpus (and the devrel seed captions), built once."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Store, ingest_paths  # noqa: E402
from tests.storage.relevance import SEED_META  # noqa: E402

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
SEED = CORPUS / "seed" / "000_65fe3dfcb0de18ef.txt"


async def build_corpus_db(path: Path) -> None:
    """Ingest the 200 episodes with guest names, then the seed captions; reuse a built file."""
    async with await Store.open(path) as store:
        if (await store.fetchone("SELECT count(*) FROM episodes"))[0] >= 200:
            print(f"reusing {path}", file=sys.stderr)
            return
        started = time.perf_counter()
        for paths, overrides in (
            ([CORPUS / "raw" / "_people", CORPUS / "raw" / "_podcast"], None),
            ([SEED], SEED_META),
        ):
            report = await ingest_paths(store, paths, overrides=overrides)
            if report.failed:
                raise SystemExit(f"ingest failed: {[o.describe() for o in report.failed]}")
        print(f"ingested the corpus in {time.perf_counter() - started:.0f} s", file=sys.stderr)
