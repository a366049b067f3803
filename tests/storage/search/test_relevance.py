"""Recall floors on the labelled relevance set (tests/storage/search/relevance.yaml, real corpus).

``python bench/relevance.py --misses`` prints the full table and what was missed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from storage.db import Store
from tests.conftest import SEED
from tests.storage.search.relevance import (
    CAPTIONS_ONLY,
    KINDS,
    by_kind,
    evaluate,
    load_cases,
    misses,
    relevance_db,
)

# recall@3 that each kind must keep (the goals: 0.9 overall, 0.8 for typos and
# speech-recognition errors; every "nothing" query empty). The second-pass kinds (issue 14) are
# held at what search achieves on them, so a change can only keep or raise them.
FLOORS = {
    "all": 0.98, "phrase": 0.9, "keyword": 0.9, "question": 0.8, "typo": 0.8, "asr": 0.8,
    "episode": 0.9, "typo-long": 1.0, "asr-split": 1.0, "asr-soundalike": 0.9,
    "captions": 0.95, "guest-question": 1.0,
}  # fmt: skip


@pytest.fixture(scope="session")
def relevance_store_path(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("search") / "search.db"
    return asyncio.run(relevance_db(corpus_db, SEED, target))


def test_relevance_set_is_large_and_covers_every_kind() -> None:
    cases = load_cases()
    assert len(cases) >= 150
    assert {c.kind for c in cases} == set(KINDS)
    assert len({c.query for c in cases}) == len(cases)
    per_kind = Counter(c.kind for c in cases)
    assert per_kind["asr-split"] + per_kind["asr-soundalike"] >= 15
    assert min(per_kind["typo-long"], per_kind["captions"], per_kind["guest-question"]) >= 15
    only = {episode_id for _, episode_id, _ in CAPTIONS_ONLY}
    from_captions = [c for c in cases if c.expect and {e.episode for e in c.expect} <= only]
    assert len(from_captions) >= 20
    assert per_kind["guest-question"] >= 20


async def test_recall_at_3_floors(relevance_store_path: Path) -> None:
    async with await Store.open(relevance_store_path) as store:
        outcomes = await evaluate(store, load_cases())
    per_kind = by_kind(outcomes)
    missed = "\n".join(misses(outcomes))
    for kind, floor in FLOORS.items():
        assert per_kind[kind].r3 >= floor, f"{kind}: recall@3 {per_kind[kind].r3:.2f}\n{missed}"
    found_something = [o for o in outcomes if o.case.kind == "nothing" and o.hits]
    assert not found_something, missed
    for outcome in outcomes:
        assert all(len(h.quote) <= 301 for h in outcome.hits), outcome.case.query
