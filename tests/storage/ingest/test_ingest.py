"""Ingest: re-ingest, unchanged files, sidecars and flags, whole site folders, worker processes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from storage.catalogue import get_episode, list_episodes
from storage.db import Store
from storage.ingest import ingest_file, ingest_paths
from storage.ingest.formats import ParseError
from storage.ingest.pipeline import IngestReport
from storage.ingest.sources import meta_from_flags
from storage.models import EpisodeMeta
from tests.conftest import (
    CHAPTER_LISTS,
    CORPUS,
    DEVREL,
    FORMATS,
    PEOPLE,
    PODCAST,
    SEED,
    corpus_files,
)

VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:05.000\n<v Ana>Our feature store keeps features fresh.\n\n"
    "00:00:05.000 --> 00:00:09.000\n<v Ana>Training and serving read the same values.\n\n"
    "00:01:00.000 --> 00:01:04.000\n<v Ben>Let's talk about Kubernetes next.\n"
)


async def test_corpus_podcast_folder_ingests_every_episode(corpus_db: Path) -> None:
    async with await Store.open(corpus_db) as store:
        episodes = await list_episodes(store)
        assert len(episodes) == len(corpus_files(PODCAST))  # every file is an episode
        devrel = await get_episode(store, "devrel-open-source-machine-learning")
        assert devrel.guests == ("Hugo Bowne-Anderson",)
        assert devrel.url == "https://www.youtube.com/watch?v=z7BvslwVRbQ"
        assert (devrel.date, devrel.season, devrel.number) == ("2023-06-17", 14, 6)
        # The draft with a stray line before its front matter, and the doubled extension.
        assert await get_episode(
            store, "theme-park-crowd-modeling-to-tesla-full-stack-data-engineering"
        )
        assert await get_episode(store, "hiring-for-data-science-jobs-interview-questions-skills")
        # Season 3 episode 4 appears twice: two episodes, each with its own id.
        twins = await store.fetchall("SELECT id FROM episodes WHERE season = 3 AND number = 4")
        assert len(twins) == 2
        row = await store.fetchone(
            "SELECT p.start, p.speaker FROM passages p WHERE p.episode_id = ? AND"
            " p.text LIKE '%integrate with the Argo scheduler%'",
            ("devrel-open-source-machine-learning",),
        )
        assert row["speaker"] == "Hugo" and 840 < row["start"] < 870


async def test_site_folder_profiles_and_chapter_lists_are_recognised(
    corpus_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(corpus_db, db)
    async with await Store.open(db) as store:
        report = await ingest_paths(store, [CORPUS / "raw"])
    episodes, profiles = len(corpus_files(PODCAST)), len(corpus_files(PEOPLE))
    chapter_lists = len(corpus_files(CHAPTER_LISTS))
    assert not report.failed
    assert len(report.of("unchanged")) == episodes and not report.of("added", "replaced")
    reasons = {o.reason for o in report.of("skipped")}
    assert "guest profiles (they give guests their names)" in reasons
    assert "chapter lists of episodes that have their chapters already" in reasons
    assert len(report.of("skipped")) == profiles + chapter_lists
    # s03e04 is shared by two episodes; their chapter lists still find their own.
    s03e04 = [o for o in report.of("skipped") if "s03e04" in o.path]
    assert sorted(o.episode_id for o in s03e04) == [
        "data-science-interview-and-cv-guide",
        "data-translator-role-and-data-strategy",
    ]
    lines = report.lines()
    assert len(lines) <= 8, lines
    assert any(line.startswith(f"{profiles} files skipped: guest profiles") for line in lines)
    assert any(line.startswith(f"{episodes} files unchanged") for line in lines)
    assert len(report.lines(verbose=True)) == episodes + profiles + chapter_lists


async def test_chapter_list_gives_chapters_to_an_episode_without(
    store: Store, tmp_path: Path, corpus: Path
) -> None:
    source = PODCAST / "devrel-open-source-machine-learning.md"
    text = source.read_text(encoding="utf-8")
    # Without quotableClips and headers the episode has no chapters of its own.
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("- header:"))
    start, end = text.index("quotableClips:"), text.index("\ntranscript:")
    (tmp_path / source.name).write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    chapters = (
        CORPUS / "raw" / "podcast-timestamps" / "s14e06-devrel-open-source-machine-learning.txt"
    )
    if not chapters.exists():
        chapters = next((CORPUS / "raw" / "podcast-timestamps").glob("s14e06-*.txt"))
    report = await ingest_paths(store, [tmp_path / source.name, chapters])
    assert not report.failed
    episode = await get_episode(store, "devrel-open-source-machine-learning")
    assert episode.chapters[0].title == "Podcast Introduction"
    argo = next(c for c in episode.chapters if c.title.startswith("Metaflow Integrations"))
    assert argo.start == 13 * 60 + 52
    row = await store.fetchone("SELECT chapter FROM passages WHERE text LIKE '%Argo scheduler%'")
    assert row["chapter"] == argo.title


async def test_reingest_replaces_atomically_and_unchanged_is_a_noop(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "ep1.vtt"
    path.write_text(VTT, encoding="utf-8")
    first = await ingest_file(store, path)
    assert (first.status, first.episode_id, first.passages) == ("added", "ep1", 2)
    before = await store.fetchone("SELECT ingested_at, source_hash FROM episodes")
    again = await ingest_file(store, path)
    assert again.status == "unchanged" and again.message == "unchanged since it was ingested"
    assert tuple(await store.fetchone("SELECT ingested_at, source_hash FROM episodes")) == tuple(
        before
    )
    path.write_text(VTT.replace("Kubernetes", "dbt models"), encoding="utf-8")
    changed = await ingest_file(store, path)
    assert changed.status == "replaced"
    texts = [r["text"] for r in await store.fetchall("SELECT text FROM passages ORDER BY idx")]
    assert texts[-1] == "Let's talk about dbt models next." and len(texts) == 2
    assert (await store.fetchone("SELECT count(*) AS n FROM episodes"))["n"] == 1
    fts = await store.fetchall(
        "SELECT rowid FROM passages_fts WHERE passages_fts MATCH 'kubernetes'"
    )
    assert fts == []


async def test_sidecar_yaml_gives_metadata_and_chapters(store: Store, tmp_path: Path) -> None:
    tmp_path = tmp_path / "show"
    tmp_path.mkdir()
    (tmp_path / "ep2.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "ep2.yaml").write_text(
        "episode_id: pipeline-2\ntitle: Feature stores in practice\n"
        "url: https://youtu.be/AbCdEfGhIjK\nguests: [Ana Lima]\ndate: 2024-05-02\n"
        "topics: [mlops]\nchapters:\n  - {title: Feature stores, start: 0}\n"
        "  - {title: Kubernetes, start: '0:58'}\n",
        encoding="utf-8",
    )
    report = await ingest_paths(store, [tmp_path])
    assert not report.failed
    [sidecar] = report.of("skipped")
    assert sidecar.message == "episode metadata for the transcript of the same name"
    episode = await get_episode(store, "pipeline-2")
    assert episode.title == "Feature stores in practice"
    assert (episode.guests, episode.date, episode.topics) == (
        ("Ana Lima",),
        "2024-05-02",
        ("mlops",),
    )
    assert [(c.title, c.start) for c in episode.chapters] == [
        ("Feature stores", 0.0),
        ("Kubernetes", 58.0),
    ]
    rows = await store.fetchall("SELECT chapter, speaker, start FROM passages ORDER BY idx")
    assert [tuple(r) for r in rows] == [("Feature stores", "Ana", 1.0), ("Kubernetes", "Ben", 60.0)]
    # Editing the sidecar alone makes the transcript changed.
    (tmp_path / "ep2.yaml").write_text("episode_id: pipeline-2\ntitle: Renamed\n")
    again = await ingest_paths(store, [tmp_path])
    assert [o.status for o in again.outcomes if o.status != "skipped"] == ["replaced"]


async def test_sidecar_json_beside_captions(store: Store, tmp_path: Path) -> None:
    tmp_path = tmp_path / "show"
    tmp_path.mkdir()
    (tmp_path / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:03,000\nHello there.\n")
    (tmp_path / "talk.json").write_text(json.dumps({"title": "Talk", "guest": "Ben Ode"}))
    report = await ingest_paths(store, [tmp_path])
    assert [o.status for o in report.outcomes] == ["skipped", "added"]
    episode = await get_episode(store, "talk")
    assert episode.title == "Talk" and episode.guests == ("Ben Ode",)


async def test_flags_describe_a_bare_transcript(store: Store, corpus: Path) -> None:
    flags = meta_from_flags(
        title="DevRel and open source ML", url="https://www.youtube.com/embed/z7BvslwVRbQ",
        guests=["Hugo Bowne-Anderson"], date="2023-06-17", episode_id="devrel-captions",
    )  # fmt: skip
    outcome = await ingest_file(store, SEED, overrides=flags)
    assert outcome.status == "added" and outcome.episode_id == "devrel-captions"
    episode = await get_episode(store, "devrel-captions")
    assert episode.guests == ("Hugo Bowne-Anderson",) and episode.date == "2023-06-17"
    row = await store.fetchone("SELECT youtube_id FROM episodes")
    assert row["youtube_id"] == "z7BvslwVRbQ"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"date": "2024-02-30"}, "--date '2024-02-30' is not a date; write it as YYYY-MM-DD"),
        ({"date": "yesterday"}, "--date 'yesterday' is not a date"),
        ({"url": "www.example.com/ep1.mp3"}, "(https://www.example.com/ep1.mp3)"),
        ({"url": "ftp://example.com/ep1.mp3"}, "is not a web address"),
        ({"episode_id": "my episode/1"}, "--episode-id 'my episode/1': use letters, digits"),
    ],
)
def test_bad_flags_say_which_flag(flags: dict, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        meta_from_flags(**flags)
    assert message in caught.value.message


async def test_episode_flags_with_many_files_are_refused(store: Store, corpus: Path) -> None:
    with pytest.raises(ValueError, match="describe one episode"):
        await ingest_paths(store, [FORMATS / "srt"], overrides=EpisodeMeta(title="One"))
    assert (await store.fetchone("SELECT count(*) AS n FROM episodes"))["n"] == 0


async def test_profiles_after_episodes_name_the_guests(store: Store, corpus: Path) -> None:
    await ingest_paths(store, [DEVREL])
    assert (await get_episode(store, "devrel-open-source-machine-learning")).guests == (
        "hugobowneanderson",
    )
    await ingest_paths(store, [PEOPLE / "hugobowneanderson.md"])
    assert (await get_episode(store, "devrel-open-source-machine-learning")).guests == (
        "Hugo Bowne-Anderson",
    )


async def test_every_sample_format_file_and_the_seed_ingest(store: Store, corpus: Path) -> None:
    report = await ingest_paths(store, [FORMATS, SEED])
    assert not report.failed, report.lines()
    # Three talks come in two formats under one name: both kept, the second under its format.
    assert len(report.of("added")) == 14
    renamed = sorted(o.episode_id for o in report.of("added") if "stored as" in (o.message or ""))
    assert renamed == [
        "000-tptm-introducing-the-show-vtt",
        "092-006-pythonbytes-crossover-vtt",
        "37c3-joscha-bach-synthetic-sentience-whisper-json",
    ]
    again = await ingest_paths(store, [FORMATS, SEED])
    assert len(again.of("unchanged")) == 14 and not again.of("added", "replaced", "failed")
    repr_note = next(o for o in report.outcomes if o.path.endswith("podcast_33_transcript.json"))
    assert "Python repr" in repr_note.message


async def test_worker_processes_give_the_same_database(tmp_path: Path, corpus: Path) -> None:
    files = sorted(PODCAST.glob("a*.md"))[:8] + sorted(FORMATS.rglob("*.vtt"))
    assert len(files) >= 10
    dumps = []
    for workers in (0, 2):
        db = tmp_path / f"w{workers}.db"
        async with await Store.open(db) as store:
            report = await ingest_paths(store, files, workers=workers)
            assert len(report.of("added")) == len(files)
        with sqlite3.connect(db) as conn:
            dumps.append(
                conn.execute(
                    "SELECT episode_id, idx, start, end, speaker, chapter, text FROM passages"
                    " ORDER BY episode_id, idx"
                ).fetchall()
            )
    assert dumps[0] == dumps[1] and len(dumps[0]) > 500


def test_summary_line_counts() -> None:
    from storage.ingest.pipeline import FileOutcome

    report = IngestReport(
        [
            FileOutcome("a.md", "added", "a", "A", passages=10, seconds=1800),
            FileOutcome("b.md", "replaced", "b", "B", passages=5, seconds=5400),
            FileOutcome("c.md", "unchanged", "c"),
            FileOutcome("d.txt", "skipped", message="not a transcript (.txt)"),
            FileOutcome("e.vtt", "failed", message="file is empty; nothing to ingest"),
        ],
        elapsed=1.234,
    )
    assert report.summary() == (
        "2 episodes ingested, 15 passages, 2.0 h of audio, 1.2 s, 1 unchanged, 1 skipped, "
        "1 files failed"
    )
    assert report.lines()[0] == "e.vtt: file is empty; nothing to ingest"


async def test_demo_examples_ingest_and_answer_feature_store(store: Store) -> None:
    """What `make run` loads: our own two-episode show, in two formats."""
    from storage.search import search

    examples = Path(__file__).resolve().parents[3] / "examples"
    report = await ingest_paths(store, [examples])
    assert not report.failed and len(report.of("added")) == 2
    first = await get_episode(store, "01-feature-stores-without-the-hype")
    assert first.guests == ("Priya Raman",) and first.date == "2025-03-04"
    assert first.url.endswith("01-feature-stores.mp3") and len(first.chapters) == 4
    second = await get_episode(store, "data-pipeline-02-kubernetes-dbt")
    assert (
        second.guests == ("Tomás Okafor",) and second.title == "Kubernetes and dbt for Data Teams"
    )
    assert [c.title for c in second.chapters][1] == "Why data teams run on Kubernetes"
    hit = (await search(store, "feature store", limit=3)).hits[0]
    assert hit.episode_id == first.id and "feature store" in hit.quote.lower()
    assert hit.url.startswith("https://example.com/") and "#t=" in hit.url
