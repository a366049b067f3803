"""How far passage and quote starts are from the second the words are spoken, before and after
aligning the edited transcript to its captions, and how long the alignment takes.

Run: ``python bench/alignment.py`` (reads ``../shared/corpus``, or ``CORPUS_DIR``).

Yardsticks (independent of the aligner, see ``storage.timing.align.phrase_matches``):
- quote starts: caption lines of 5+ words found exactly once in the edited text; the time the
  store gives the edited word where the line starts, against the caption line's time;
- passage starts: passages whose first 5 words occur exactly once in the captions; the
  passage's stored start against the caption time of those words.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Store  # noqa: E402
from storage.ingest import ingest_file  # noqa: E402
from storage.ingest.formats import captions, markdown  # noqa: E402
from storage.models import EpisodeMeta  # noqa: E402
from storage.timing.align import align, phrase_matches  # noqa: E402
from storage.timing.passages import build_passages, segment_words, word_times  # noqa: E402
from storage.timing.tracks import episode_word_times  # noqa: E402

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
EDITED = CORPUS / "raw" / "_podcast" / "devrel-open-source-machine-learning.md"
CAPTIONS = CORPUS / "seed" / "000_65fe3dfcb0de18ef.txt"
URL = "https://www.youtube.com/watch?v=z7BvslwVRbQ"


def distribution(errors: list[float]) -> str:
    ordered = sorted(errors)
    p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return (
        f"median {statistics.median(ordered):6.2f} s   p90 {p90:6.2f} s   "
        f"max {ordered[-1]:6.2f} s   (n={len(ordered)})"
    )


async def stored(order: list[Path]) -> tuple[list[float], list[tuple[int, float]], float]:
    """Ingest the pair in ``order``; the edited episode's stored word times, passage starts,
    and the seconds the second file's ingest took (alignment included)."""
    with tempfile.TemporaryDirectory() as tmp:
        async with await Store.open(Path(tmp) / "bench.db") as store:
            took = 0.0
            for path in order:
                meta = EpisodeMeta(url=URL) if path == CAPTIONS else None
                started = time.perf_counter()
                outcome = await ingest_file(store, path, overrides=meta)
                took = time.perf_counter() - started
                assert outcome.status in ("added", "aligned"), outcome
            times = await episode_word_times(store, "devrel-open-source-machine-learning")
            rows = await store.fetchall(
                "SELECT word_start, start FROM passages WHERE episode_id = ? ORDER BY idx",
                ("devrel-open-source-machine-learning",),
            )
            episodes = await store.fetchall("SELECT id, timing FROM episodes")
            assert [tuple(r) for r in episodes] == [
                ("devrel-open-source-machine-learning", "captions-aligned")
            ], episodes
    return times, [(r["word_start"], r["start"]) for r in rows], took


def main() -> int:
    if not EDITED.is_file() or not CAPTIONS.is_file():
        print(f"corpus not found at {CORPUS} (set CORPUS_DIR)", file=sys.stderr)
        return 1
    edited = markdown.parse(EDITED.read_text(encoding="utf-8"), EDITED)
    caps = captions.parse(CAPTIONS.read_text(encoding="utf-8"), CAPTIONS)
    edited_per_seg = segment_words(edited.segments)
    edited_words = [w for ws in edited_per_seg for w in ws]
    cap_per_seg = segment_words(caps.segments)
    cap_words = [w for ws in cap_per_seg for w in ws]
    cap_times = word_times(caps.segments, "captions", cap_per_seg)

    runs = []
    for _ in range(7):
        started = time.perf_counter()
        result = align(edited_words, cap_words, cap_times)
        runs.append(time.perf_counter() - started)

    paragraph = [s.start for s, ws in zip(edited.segments, edited_per_seg, strict=True) for _ in ws]
    interpolated = word_times(edited.segments, "edited", edited_per_seg)
    passages = build_passages(edited.segments, "edited")
    stored_times, stored_passages, _ = asyncio.run(stored([EDITED, CAPTIONS]))
    other_times, other_passages, _ = asyncio.run(stored([CAPTIONS, EDITED]))
    assert (stored_times, stored_passages) == (other_times, other_passages), "order matters"
    _, _, attach = asyncio.run(stored([EDITED, CAPTIONS]))

    quotes = phrase_matches([seg.text.split() for seg in caps.segments], edited_words)
    openings = phrase_matches([p.text.split()[:5] for p in passages], cap_words)
    truth = {k: cap_times[j] for k, j in openings}
    stored_start = dict(stored_passages)

    print(f"Episode: {EDITED.name} ({len(edited_words)} words) + captions {CAPTIONS.name}")
    print(f"({len(cap_words)} words); {result.coverage:.1%} of edited words found in the captions.")
    print(f"\nQuote starts ({len(quotes)} caption lines found once in the edited text):")
    for label, times in (
        ("paragraph sec (as given)", paragraph),
        ("interpolated (no captions)", interpolated),
        ("captions-aligned (stored)", stored_times),
    ):
        errors = [abs(times[w] - caps.segments[k].start) for k, w in quotes]
        print(f"  {label:28} {distribution(errors)}")
    # Harder: every 5th of those lines is cut from the captions before aligning, so its words
    # can only be placed by interpolation between the matched words around them.
    held = {k for k, _ in quotes[::5]}
    kept = [seg for i, seg in enumerate(caps.segments) if i not in held]
    kept_per_seg = segment_words(kept)
    blind = align(
        edited_words,
        [w for ws in kept_per_seg for w in ws],
        word_times(kept, "captions", kept_per_seg),
    )
    errors = [abs(blind.times[w] - caps.segments[k].start) for k, w in quotes if k in held]
    print(f"  {'aligned, line cut from caps':28} {distribution(errors)}")
    print(
        f"\nPassage starts ({len(openings)} passages whose first 5 words occur once "
        "in the captions):"
    )
    for label, start_of in (
        ("paragraph sec (as given)", lambda p: paragraph[p.word_start]),
        ("interpolated (no captions)", lambda p: p.start),
        ("captions-aligned (stored)", lambda p: stored_start[p.word_start]),
    ):
        errors = [abs(start_of(passages[k]) - truth[k]) for k in truth]
        print(f"  {label:28} {distribution(errors)}")
    print(
        f"\nAlignment of the episode: median {statistics.median(runs) * 1000:.0f} ms over "
        f"{len(runs)} runs (best {min(runs) * 1000:.0f} ms); ingesting the captions file "
        f"against the stored episode, alignment and re-timing included: {attach * 1000:.0f} ms."
    )
    print("Both ingest orders store identical word times and passage starts.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
