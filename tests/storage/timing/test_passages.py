"""Passages on real files: merged captions, split paragraphs, breaks, interpolated starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.ingest.pipeline import parse_file
from storage.ingest.sources import read_text
from storage.models import Segment, Transcript
from storage.timing.passages import (
    MAX_PASSAGE_SECONDS,
    MAX_WORDS,
    build_passages,
    segment_words,
    word_times,
)
from tests.conftest import DEVREL, FORMATS, PODCAST, SEED


def parse(path: Path) -> Transcript:
    return parse_file(path, read_text(path)[0], None)


def stream(t: Transcript) -> list[str]:
    return [w for ws in segment_words(t.segments) for w in ws]


def owners(t: Transcript) -> list[int]:
    """The segment each word of the stream comes from."""
    return [i for i, ws in enumerate(segment_words(t.segments)) for _ in ws]


@pytest.mark.parametrize(
    "path",
    [SEED, DEVREL, FORMATS / "srt" / "1_0.srt", FORMATS / "vtt" / "467-pycon-data-sci-panel.vtt"],
    ids=["seed", "devrel", "srt", "vtt"],
)
def test_passages_tile_the_word_stream(corpus: Path, path: Path) -> None:
    t = parse(path)
    words = stream(t)
    passages = build_passages(t.segments, t.kind)
    assert passages[0].word_start == 0 and passages[-1].word_end == len(words)
    for a, b in zip(passages, passages[1:], strict=False):
        assert a.word_end == b.word_start
    for p in passages:
        assert p.text.split() == words[p.word_start : p.word_end]
        assert p.end >= p.start and len(p.text.split()) <= MAX_WORDS


def test_caption_fragments_merge_into_10_to_40_second_passages(corpus: Path) -> None:
    t = parse(SEED)  # 1,577 fragments of about 2 s, no punctuation, no speakers
    passages = build_passages(t.segments, t.kind)
    spans = [p.end - p.start for p in passages]
    assert len(passages) < len(t.segments) / 6
    assert max(spans) <= MAX_PASSAGE_SECONDS
    assert sum(10 <= s <= 40 for s in spans) >= 0.95 * len(spans)


def test_passages_break_at_speaker_changes(corpus: Path) -> None:
    t = parse(FORMATS / "srt" / "1_0.srt")
    of = owners(t)
    for p in build_passages(t.segments, t.kind):
        speakers = {t.segments[of[k]].speaker for k in range(p.word_start, p.word_end)}
        assert speakers == {p.speaker}
    assert build_passages(t.segments, t.kind)[0].text == "Hey, I'm Bekah."


def test_passages_break_at_chapters_and_carry_them(corpus: Path) -> None:
    t = parse(DEVREL)
    of = owners(t)
    passages = build_passages(t.segments, t.kind)
    for p in passages:
        chapters = {t.segments[of[k]].chapter for k in range(p.word_start, p.word_end)}
        assert chapters == {p.chapter}
    argo = next(p for p in passages if "Argo scheduler" in p.text)
    assert argo.chapter == "Metaflow Integrations: AWS, Kubernetes, Argo & ML Interoperability"
    assert argo.speaker == "Hugo"


def test_long_paragraph_split_into_sentences_with_interpolated_starts(corpus: Path) -> None:
    t = parse(DEVREL)
    # The Argo paragraph is stamped 13:52 (832 s) and runs about 80 words.
    passages = build_passages(t.segments, t.kind)
    paragraph = [p for p in passages if p.speaker == "Hugo" and 832 <= p.start < 880]
    assert len(paragraph) == 2
    first, second = paragraph
    assert first.start == 832 and first.text.startswith("At the moment, our main product")
    assert "Argo scheduler" in second.text and second.text[0].isupper()
    # The later sentences get a later start, not the paragraph's 832 s.
    assert 840 < second.start < 870
    assert first.text.endswith(".")


def test_sentences_are_kept_whole_and_cuts_balanced() -> None:
    sentence = "We built the feature store on Postgres first and then moved to Redis later."
    text = " ".join([sentence] * 9)  # 126 words, one speaker, one paragraph
    passages = build_passages([Segment(100.0, None, "Ana", text)], "edited")
    assert sorted(len(p.text.split()) for p in passages) == [56, 70]
    assert all(p.text.endswith("later.") for p in passages)
    assert passages[0].start == 100.0 and passages[1].start > 120


def test_short_answer_stays_one_passage() -> None:
    text = "Yes. " + "Feature stores keep training and serving features in sync. " * 5
    passages = build_passages([Segment(0.0, None, "Ana", text.strip())], "edited")
    assert len(passages) == 1


def test_captions_break_at_long_pauses() -> None:
    segs = [
        Segment(float(i * 2), float(i * 2 + 2), None, "one two three four five") for i in range(6)
    ]
    segs += [
        Segment(30.0 + i * 2, 32.0 + i * 2, None, "six seven eight nine ten") for i in range(6)
    ]
    passages = build_passages(segs, "captions")
    assert [p.start for p in passages] == [0.0, 30.0]
    assert passages[0].end == 12.0  # the last cue's end, not the next passage's start


def test_unnamed_speaker_change_marks_break_captions() -> None:
    segs = [
        Segment(0.0, 2.0, None, "so what is a feature store"),
        Segment(2.0, 4.0, None, "- it is where features live"),
        Segment(4.0, 6.0, None, "for training and serving"),
    ]
    passages = build_passages(segs, "captions")
    assert [p.text for p in passages] == [
        "so what is a feature store",
        "it is where features live for training and serving",
    ]


def test_given_word_times_override_the_interpolation(corpus: Path) -> None:
    t = parse(DEVREL)
    own = word_times(t.segments, t.kind)
    shifted = [x + 7.0 for x in own]
    default = build_passages(t.segments, t.kind)
    moved = build_passages(t.segments, t.kind, times=shifted)
    assert [p.text for p in moved] == [p.text for p in default]
    assert moved[10].start == pytest.approx(default[10].start + 7.0)


def test_shared_timestamps_spread_over_the_gap_to_the_next(corpus: Path) -> None:
    # Two paragraphs of Jakob both stamped 1:40 (SOURCE.md example 2).
    t = parse(PODCAST / "ab-testing-and-product-experimentation.md")
    passages = build_passages(t.segments, t.kind)
    king = next(p for p in passages if "opening at King" in p.text)
    assert king.speaker == "Jakob" and king.start > 100
