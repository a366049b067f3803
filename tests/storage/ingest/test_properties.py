"""Property-based tests (hypothesis) of every transcript parser, the sidecar reader and the
ingest path: whatever a file holds, the answer is a transcript with possible times, or a
ParseError (a clean ``FILE:LINE`` failure), never another exception.

Inputs are built the way each format is written, with the values that broke ingest before
(huge integers, NaN, Infinity, 1e400, negative times, aliases, deep nesting) mixed in, plus
arbitrary text. The profile in tests/conftest.py bounds and fixes the examples.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.db import Store
from storage.ingest import FORMATS, Outcome, ParseError, ingest_file
from storage.ingest.formats import MAX_EPISODE_SECONDS, NotATranscript
from storage.ingest.sources import load_mapping, meta_from_mapping
from tests.conftest import examples
from tests.storage.ingest.test_bad_input import counts

# Numbers a file may hold where seconds or counts are expected, sensible or not.
NUMBERS = st.one_of(
    st.floats(min_value=0, max_value=7200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 86400, 86401, 10**20, -1, 2**63, 1e400, -1e400]),
)
VALUES = st.one_of(
    NUMBERS, st.text(max_size=20), st.none(), st.booleans(),
    st.sampled_from(["1:02:03", "99:99", "PT1H2M", "1e400", "nan", "-5", "٣"]),
)  # fmt: skip
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40)


def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


JSON_VALUES = st.recursive(
    VALUES.filter(lambda v: not (isinstance(v, int) and abs(v) > 10**18)), containers,
    max_leaves=20,
)  # fmt: skip


def clock(value: float | int) -> str:
    """A value as a cue clock, mostly well-formed, sometimes not."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    v = abs(value) % (10**7)
    ms = int(v * 1000) % 1000
    v = int(v)
    return f"{v // 3600:02d}:{v // 60 % 60:02d}:{v % 60:02d}.{ms:03d}"


@st.composite
def vtt(draw) -> str:  # noqa: ANN001
    cues = []
    for start, end, words in draw(st.lists(st.tuples(NUMBERS, NUMBERS, WORDS), max_size=6)):
        voice = draw(st.sampled_from(["", "<v Ana Lima>", "- ", "Dan: ", "<c>", "NOTE "]))
        cues.append(f"{clock(start)} --> {clock(end)}\n{voice}{words}")
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


@st.composite
def srt(draw) -> str:  # noqa: ANN001
    blocks = []
    for k, (start, end, words) in enumerate(
        draw(st.lists(st.tuples(NUMBERS, NUMBERS, WORDS), max_size=6)), 1
    ):
        times = f"{clock(start)} --> {clock(end)}".replace(".", ",")
        blocks.append(f"{k}\n{times}\n{words}")
    return "\n\n".join(blocks) + "\n"


@st.composite
def captions(draw) -> str:  # noqa: ANN001
    lines = []
    for value, words in draw(st.lists(st.tuples(NUMBERS, WORDS), min_size=1, max_size=8)):
        stamp = clock(value)[3:8] if draw(st.booleans()) else clock(value)[:8]
        lines.append(f"{stamp} {words}")
    return "\n".join(lines) + "\n"


def cue_items(keys: tuple[str, ...]):  # noqa: ANN201
    return st.lists(
        st.fixed_dictionaries({k: VALUES for k in keys}, optional={"text": WORDS}), max_size=6
    )


def dumps(data: object) -> str:
    return json.dumps(data, allow_nan=True)  # NaN and Infinity as JavaScript writes them


youtube = cue_items(("start", "duration")).map(dumps)
whisper = cue_items(("start", "end")).map(lambda items: dumps({"segments": items}))


@st.composite
def markdown(draw) -> str:  # noqa: ANN001
    fields = draw(
        st.dictionaries(
            st.sampled_from(["title", "season", "episode", "duration", "topics", "guests",
                             "dateadded", "id", "quotableClips"]),
            VALUES, max_size=5,
        )
    )  # fmt: skip
    items = draw(
        st.lists(
            st.fixed_dictionaries(
                {"line": WORDS}, optional={"sec": VALUES, "who": VALUES, "time": VALUES}
            ),
            max_size=5,
        )
    )
    # JSON is YAML: every value above written so YAML reads it back as the same value.
    lines = [f"{k}: {dumps(v)}" for k, v in fields.items()]
    lines.append("transcript: " + dumps(items))
    extra = draw(st.sampled_from(["", "x: &a [1, 2]\ny: *a\n", "z: " + "[" * 1200, "!!python"]))
    return "---\n" + "\n".join(lines) + "\n" + extra + "\n---\n"


FORMAT_TEXTS = {
    "vtt": vtt(),
    "srt": srt(),
    "captions": captions(),
    "youtube-json": youtube,
    "whisper-json": whisper,
    "markdown": markdown(),
}
SUFFIX = {"vtt": ".vtt", "srt": ".srt", "captions": ".txt", "youtube-json": ".json",
          "whisper-json": ".json", "markdown": ".md"}  # fmt: skip


def check_parse(name: str, text: str) -> None:
    try:
        transcript = FORMATS[name].parse(text, Path(f"episode{SUFFIX[name]}"))
    except (ParseError, NotATranscript):
        return
    for seg in transcript.segments:
        assert 0 <= seg.start <= MAX_EPISODE_SECONDS
        assert seg.end is None or 0 <= seg.end <= MAX_EPISODE_SECONDS
    for chapter in transcript.meta.chapters:
        assert 0 <= chapter.start <= MAX_EPISODE_SECONDS
    for number in (transcript.meta.season, transcript.meta.number):
        assert number is None or 0 <= number <= 10**6
    duration = transcript.meta.duration
    assert duration is None or 0 <= duration <= MAX_EPISODE_SECONDS


def any_format():  # noqa: ANN201
    return st.sampled_from(sorted(FORMAT_TEXTS)).flatmap(
        lambda name: st.tuples(st.just(name), FORMAT_TEXTS[name] | WORDS)
    )


@settings(max_examples=examples(300))
@given(any_format())
def test_every_parser_returns_possible_times_or_a_parse_error(case: tuple[str, str]) -> None:
    check_parse(*case)


@settings(max_examples=examples(100))
@given(st.dictionaries(
    st.sampled_from(["title", "url", "guests", "date", "episode_id", "chapters", "duration",
                     "season", "episode", "topics", "links", "youtube_id", "description"]),
    JSON_VALUES | st.lists(st.fixed_dictionaries({"title": WORDS, "start": VALUES}), max_size=3),
    max_size=6,
))  # fmt: skip
def test_sidecar_fields_give_metadata_or_a_parse_error(data: dict) -> None:
    try:
        meta = meta_from_mapping(data)
    except ParseError:
        return
    assert all(0 <= c.start <= MAX_EPISODE_SECONDS for c in meta.chapters)
    assert meta.duration is None or 0 <= meta.duration <= MAX_EPISODE_SECONDS
    assert meta.season is None or 0 <= meta.season <= 10**6


@settings(max_examples=examples(60))
@given(st.one_of(JSON_VALUES.map(dumps), markdown().map(lambda t: t.strip("-\n")), WORDS),
       st.sampled_from([".json", ".yaml"]))  # fmt: skip
def test_sidecar_files_read_as_a_mapping_or_a_parse_error(
    tmp_path_factory, text: str, suffix: str
) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("sidecar") / f"talk{suffix}"
    path.write_text(text)
    try:
        data = load_mapping(path)
    except ParseError:
        return
    assert data is None or isinstance(data, dict)


def test_ingest_stores_a_file_whole_or_fails_it_cleanly(tmp_path: Path) -> None:
    """Any file through ``ingest_file`` into a real SQLite file: stored, skipped or a clean
    failure with a message, never an exception, and a failure leaves no rows behind."""
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(Store.open(tmp_path / "e.db"))
    seen: set[str] = set()

    @settings(max_examples=examples(80))
    @given(any_format(), st.none() | JSON_VALUES.filter(lambda v: isinstance(v, dict)))
    def check(case: tuple[str, str], sidecar: dict | None) -> None:
        name, text = case
        path = tmp_path / f"ep{len(seen)}{SUFFIX[name]}"
        seen.add(path.name)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        if sidecar is not None:
            path.with_suffix(".yaml").write_text(dumps(sidecar))
        before = loop.run_until_complete(counts(store))
        outcome = loop.run_until_complete(ingest_file(store, path))
        after = loop.run_until_complete(counts(store))
        assert outcome.status in (Outcome.ADDED, Outcome.FAILED, Outcome.SKIPPED)
        if outcome.status == Outcome.ADDED:
            # The last passage may run a moment past its start time: finite and within a day.
            assert outcome.passages > 0 and 0 <= outcome.seconds <= MAX_EPISODE_SECONDS + 60
            assert after["episodes"] == before["episodes"] + 1
        else:
            assert outcome.message, outcome
            assert "this is a bug" not in outcome.message, outcome.describe()
            assert after == before

    try:
        check()
    finally:
        loop.run_until_complete(store.close())
        loop.close()
    with sqlite3.connect(tmp_path / "e.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
