"""How far a captions-only episode's quote starts from the second its first matched word is
spoken: |quote start - start of the caption line holding the word|, median and p90.

Run: ``python bench/captions_quotes.py [--words 40]`` (reads ``../shared/corpus``, or
``CORPUS_DIR``). Goal: median <= 2 s, p90 <= 5 s.

Yardstick (independent of search): for each captions-only episode of the relevance set (the
seed captions stored alone, and the vtt/srt/whisper-json/youtube-json samples), words of six
letters or more that occur on exactly one caption line of the file, spread over the episode.
Each is searched as ``episode:<id> <word>``; the top hit, when its quote holds the word, is
measured against that line's start as the file gives it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CORPUS  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.ingest.pipeline import parse_file  # noqa: E402
from storage.search import search  # noqa: E402
from storage.search.query import STOP_WORDS  # noqa: E402
from tests.storage.search.relevance import CAPTIONS_ONLY, add_captions_only  # noqa: E402

WORD = re.compile(r"[a-z]{6,}")


def probes(path: Path, per_episode: int) -> list[tuple[str, float]]:
    """(word, line start) for words on exactly one caption line, evenly spread."""
    segments = parse_file(path, path.read_bytes().decode("utf-8", "replace"), None).segments
    lines = [(s.start, set(WORD.findall(s.text.lower()))) for s in segments]
    count = Counter(w for _, words in lines for w in words)
    found = [
        (w, start)
        for start, words in lines
        for w in sorted(words)
        if count[w] == 1 and w not in STOP_WORDS
    ]
    step = max(1, len(found) // per_episode)
    return found[::step][:per_episode]


def spread(errors: list[float]) -> str:
    ordered = sorted(errors)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return f"median {statistics.median(ordered):5.2f} s   p90 {p90:5.2f} s   (n={len(ordered)})"


async def run(db: Path, per_episode: int) -> None:
    everything: list[float] = []
    async with await Store.open(db) as store:
        await add_captions_only(store, CORPUS)
        for rel, episode_id, _ in CAPTIONS_ONLY:
            errors, missed = [], 0
            for word, line_start in probes(CORPUS / rel, per_episode):
                result = await search(store, f"episode:{episode_id} {word}", limit=1)
                hit = result.hits[0] if result.hits else None
                if hit is None or word not in hit.quote.lower():
                    missed += 1
                    continue
                errors.append(abs(hit.start - line_start))
            everything += errors
            if errors:
                print(f"  {episode_id:26} {spread(errors)}   not found: {missed}")
    print(f"\n  {'all captions-only':26} {spread(everything)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=40, help="probe words per episode")
    args = parser.parse_args()
    if not (CORPUS / "seed").is_dir():
        raise SystemExit(f"the corpus is not at {CORPUS} (set CORPUS_DIR)")
    print("|quote start - spoken second| of the first matched word, captions-only episodes:")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp) / "captions.db", args.words))


if __name__ == "__main__":
    main()
