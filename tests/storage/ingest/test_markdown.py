"""Episode Markdown on the real DataTalks.Club files."""

from __future__ import annotations

from pathlib import Path

from storage.catalogue import get_episode
from storage.ingest import ingest_paths
from storage.ingest.formats.markdown import parse
from tests.conftest import DEVREL, PEOPLE, PODCAST


def test_devrel_episode_metadata_and_known_paragraph(corpus: Path) -> None:
    t = parse(DEVREL.read_text(encoding="utf-8"), DEVREL)
    assert t.meta.id == "devrel-open-source-machine-learning"
    assert t.meta.youtube_id == "z7BvslwVRbQ"
    assert t.meta.season == 14 and t.meta.number == 6
    assert t.meta.guest_ids == ("hugobowneanderson",)
    assert t.meta.date == "2023-06-17"
    assert t.meta.duration == 57 * 60 + 52
    argo = next(s for s in t.segments if "Argo scheduler" in s.text)
    assert argo.start == 832 and argo.speaker == "Hugo"
    assert argo.chapter.startswith("Metaflow Integrations")


def test_stray_line_before_front_matter(corpus: Path) -> None:
    path = PODCAST / "_theme-park-crowd-modeling-to-tesla-full-stack-data-engineering.md"
    t = parse(path.read_text(encoding="utf-8"), path)
    assert t.meta.id == "theme-park-crowd-modeling-to-tesla-full-stack-data-engineering"
    assert len(t.segments) > 50


def test_speaker_field_holding_text_keeps_the_words(corpus: Path) -> None:
    path = PODCAST / "data-freelancing-career-strategy-market-demand-and-client-acquisition.md"
    t = parse(path.read_text(encoding="utf-8"), path)
    seg = next(s for s in t.segments if "These umbrella terms" in s.text)
    assert seg.speaker == "Alexey" and seg.start == 1232


async def test_guest_names_resolved_through_people(store, corpus: Path) -> None:
    report = await ingest_paths(store, [PEOPLE, DEVREL])
    assert not report.failed
    episode = await get_episode(store, "devrel-open-source-machine-learning")
    assert episode.guests == ("Hugo Bowne-Anderson",)
    assert episode.chapters[0].title == "Podcast Introduction"


def parse_corpus(name: str):
    path = PODCAST / name
    return parse(path.read_text(encoding="utf-8"), path)


def test_entry_without_sec_continues_from_the_previous(corpus: Path) -> None:
    t = parse_corpus("analytics-engineer-skills-tools.md")
    seg = next(s for s in t.segments if s.text.startswith("In the case of the data engineers"))
    assert seg.speaker == "Victoria" and seg.start == 891


def test_duplicate_entries_without_speaker_and_time_are_dropped(corpus: Path) -> None:
    t = parse_corpus("data-interview-behavioral-and-portfolio-prep-guide.md")
    book = [s for s in t.segments if s.text.startswith("As we already know, Nick is an author")]
    assert len(book) == 1
    assert book[0].speaker == "Alexey" and book[0].start == 169
    assert all(s.speaker for s in t.segments[:20])


def test_timestamps_going_backwards_are_kept_as_given(corpus: Path) -> None:
    t = parse_corpus("production-ml-pipelines-with-aws-and-kafka.md")
    steps = [b.start - a.start for a, b in zip(t.segments, t.segments[1:], strict=False)]
    assert min(steps) <= -1000  # the file's own slip; sec is kept, nothing fails


def test_malformed_and_unquoted_time_use_sec(corpus: Path) -> None:
    # time: 37:567 (unquoted, impossible) and time: '9:\n46' (split over lines): sec wins.
    t = parse_corpus("learning-machine-learning-self-taught-bioinformatics.md")
    assert (
        next(s for s in t.segments if s.text.startswith("I set the deadlines myself")).start == 2787
    )
    t = parse_corpus("open-source-ml-tools-strategy-and-business-models.md")
    legal = next(s for s in t.segments if s.text.startswith("Also, the legal aspect."))
    assert legal.start == 586 and legal.speaker == "Vincent"
    # time: 0:33 unquoted is base-60 33 to YAML 1.1; sec says 33 too.
    t = parse_corpus("building-agentic-ai-engineering-tooling-retrieval-evaluation.md")
    assert next(s for s in t.segments if s.text.startswith("DataTalks.Club. Anyways")).start == 33


def test_doubled_extension_and_draft_underscore_ids(corpus: Path) -> None:
    t = parse_corpus("hiring-for-data-science-jobs-interview-questions-skills.md.md")
    assert t.meta.id == "hiring-for-data-science-jobs-interview-questions-skills"
    assert parse_corpus("_s12e08.md").meta.id == "s12e08"


def test_bracket_annotations_stay_in_segments_not_in_passages(corpus: Path) -> None:
    from storage.timing.passages import build_passages

    t = parse_corpus("devrel-open-source-machine-learning.md")
    assert any("[" in s.text for s in t.segments)
    assert not any(
        "[laughs]" in p.text or "[chuckles]" in p.text for p in build_passages(t.segments, t.kind)
    )


def test_page_without_transcript_is_not_an_episode(tmp_path: Path) -> None:
    import pytest

    from storage.ingest.formats import NotATranscript

    page = tmp_path / "about.md"
    page.write_text("---\ntitle: About us\nlayout: page\n---\nWe make a podcast.\n")
    with pytest.raises(NotATranscript, match="no 'transcript:' list"):
        parse(page.read_text(), page)


def test_a_line_holding_only_a_name_names_the_next_speaker(corpus: Path) -> None:
    # '- line: Dan' (who: Alexey), then Dan's answer filed under Alexey.
    t = parse_corpus("machine-learning-decision-optimization.md")
    answer = next(s for s in t.segments if s.text.startswith("Exactly. Accuracy is only a tool."))
    assert answer.speaker == "Dan" and answer.start == 2705
    assert not any(s.text == "Dan" for s in t.segments)


def test_speaker_written_as_a_label_keeps_the_name(corpus: Path) -> None:
    path = PODCAST / "mlops-kubeflow-model-monitoring.md"
    t = parse(path.read_text(encoding="utf-8"), path)
    seg = next(
        s for s in t.segments if s.text.startswith("Sure. I'm an engineer with a background")
    )
    assert seg.speaker == "Theo" and seg.start == 210
    assert not any(s.speaker and s.speaker.endswith(":") for s in t.segments)
