"""Episode Markdown on the real DataTalks.Club files."""

from __future__ import annotations

from pathlib import Path

from storage import get_episode, ingest_paths
from storage.formats.markdown import parse
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
