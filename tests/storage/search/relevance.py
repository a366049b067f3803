"""The labelled relevance set (relevance.yaml): loading it, judging hits, recall@k and MRR.

Shared by the recall test (tests/storage/search/test_relevance.py) and bench/relevance.py.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from storage.db import Store, refresh_search_vocabulary
from storage.ingest import ingest_file
from storage.models import EpisodeMeta, Hit
from storage.search import search

HERE = Path(__file__).resolve().parent
CASES = HERE / "relevance.yaml"
KINDS = (
    "phrase", "keyword", "question", "typo", "typo-long", "asr", "asr-split", "asr-soundalike",
    "captions", "guest-question", "episode", "nothing",
)  # fmt: skip
DEPTH = 10
SEED_META = EpisodeMeta(id="devrel-captions", url="https://www.youtube.com/watch?v=z7BvslwVRbQ")
# Captions-only episodes (no edited transcript to take quotes or times from): the seed captions
# stored alone, and the format samples. Their ids are what relevance.yaml's labels name.
CAPTIONS_ONLY = (
    ("seed/000_65fe3dfcb0de18ef.txt", "devrel-captions", "DevRel captions (auto-captions only)"),
    ("formats/youtube-json/youtube_transcript.json", "deepseek-r1-garage", "DeepSeek R1"),
    ("formats/vtt/467-pycon-data-sci-panel.vtt", "pycon-data-science-panel", "PyCon panel"),
    ("formats/vtt/092-006-pythonbytes-crossover.vtt", "pythonbytes-crossover", "Crossover"),
    ("formats/srt/8_3.srt", "virtual-coffee-8-3", "Virtual Coffee 8.3"),
    ("formats/srt/37c3-Joscha_Bach-Synthetic_Sentience.srt", "synthetic-sentience", "37c3"),
    ("formats/whisper-json/9-Alignment-w-Benjamin-Bratton_.json", "alignment-bratton", "Bratton"),
)


@dataclass(frozen=True)
class Expect:
    episode: str
    at: tuple[float, float] | None = None

    def accepts(self, hit: Hit) -> bool:
        if hit.episode_id != self.episode:
            return False
        return self.at is None or self.at[0] <= hit.start <= self.at[1]


@dataclass(frozen=True)
class Case:
    query: str
    kind: str
    expect: tuple[Expect, ...]
    note: str = ""

    def relevant(self, hit: Hit) -> bool:
        return any(e.accepts(hit) for e in self.expect)


@dataclass(frozen=True)
class Outcome:
    case: Case
    rank: int | None  # 1-based rank of the first relevant hit within DEPTH, else None
    hits: tuple[Hit, ...]

    @property
    def passed_nothing(self) -> bool:
        return self.case.kind == "nothing" and not self.hits


@dataclass(frozen=True)
class Metrics:
    n: int
    r1: float
    r3: float
    r10: float
    mrr: float


def load_cases(path: Path = CASES) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for item in data:
        kind = item["kind"]
        if kind not in KINDS:
            raise ValueError(f"{path}: unknown kind {kind!r} for {item['query']!r}")
        expect = tuple(
            Expect(e["episode"], tuple(e["at"]) if e.get("at") else None)
            for e in item.get("expect") or ()
        )
        if (kind == "nothing") != (not expect):
            raise ValueError(f"{path}: {item['query']!r}: only 'nothing' cases expect nothing")
        cases.append(Case(item["query"], kind, expect, item.get("note", "")))
    return cases


async def evaluate(store: Store, cases: list[Case]) -> list[Outcome]:
    outcomes = []
    for case in cases:
        result = await search(store, case.query, limit=DEPTH)
        rank = next((i + 1 for i, h in enumerate(result.hits) if case.relevant(h)), None)
        outcomes.append(Outcome(case, rank, result.hits))
    return outcomes


def metrics(outcomes: list[Outcome]) -> Metrics:
    n = len(outcomes)
    if not n:
        return Metrics(0, 0.0, 0.0, 0.0, 0.0)

    def recall(k: int) -> float:
        return sum(1 for o in outcomes if o.rank is not None and o.rank <= k) / n

    mrr = sum(1 / o.rank for o in outcomes if o.rank) / n
    return Metrics(n, recall(1), recall(3), recall(10), mrr)


def by_kind(outcomes: list[Outcome]) -> dict[str, Metrics]:
    """Metrics per kind of query that should find something, and over all of them."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.case.kind != "nothing":
            groups[o.case.kind].append(o)
    out = {kind: metrics(groups[kind]) for kind in KINDS if kind in groups}
    out["all"] = metrics([o for o in outcomes if o.case.kind != "nothing"])
    return out


def table(outcomes: list[Outcome]) -> str:
    rows = ["kind             queries  recall@1  recall@3  recall@10   MRR"]
    for kind, m in by_kind(outcomes).items():
        rows.append(
            f"{kind:<16} {m.n:>7}  {m.r1:>8.2f}  {m.r3:>8.2f}  {m.r10:>9.2f}  {m.mrr:>5.2f}"
        )
    nothing = [o for o in outcomes if o.case.kind == "nothing"]
    if nothing:
        empty = sum(1 for o in nothing if o.passed_nothing)
        rows.append(f"nothing          {len(nothing):>7}  empty: {empty}/{len(nothing)}")
    return "\n".join(rows)


def misses(outcomes: list[Outcome], k: int = 3) -> list[str]:
    """One line per case not answered within the top ``k`` (or not empty when it should be)."""
    out = []
    for o in outcomes:
        if o.case.kind == "nothing":
            if o.hits:
                h = o.hits[0]
                out.append(f"[nothing] {o.case.query!r} -> {h.episode_id} @{h.start:.0f}")
        elif o.rank is None or o.rank > k:
            got = ", ".join(f"{h.episode_id}@{h.start:.0f}" for h in o.hits[:k]) or "no hits"
            out.append(f"[{o.case.kind}] {o.case.query!r} rank={o.rank} -> {got}")
    return out


_built: dict[Path, Path] = {}


async def add_captions_only(store: Store, corpus: Path) -> None:
    """Ingest the captions-only episodes of :data:`CAPTIONS_ONLY` (unchanged files are skipped)."""
    for rel, episode_id, title in CAPTIONS_ONLY:
        meta = EpisodeMeta(id=episode_id, title=title)
        outcome = await ingest_file(store, corpus / rel, overrides=meta)
        assert outcome.status != "failed", outcome.describe()
    await refresh_search_vocabulary(store)  # as an ingest run does at its end


async def relevance_db(corpus_db: Path, seed: Path, target: Path) -> Path:
    """A copy of the ingested corpus plus the devrel seed captions (as a captioned pair), and the
    captions-only episodes (the seed again, on its own, and the format samples)."""
    if corpus_db in _built and _built[corpus_db].exists():
        return _built[corpus_db]
    shutil.copy(corpus_db, target)
    async with await Store.open(target) as store:
        outcome = await ingest_file(store, seed, overrides=SEED_META)
        assert outcome.status != "failed", outcome.describe()
        await add_captions_only(store, seed.parents[1])
    _built[corpus_db] = target
    return target
