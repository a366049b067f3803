"""Caption tracks in the store: an edited episode and its captions are one episode, timed by the
captions, whichever file is ingested first (storage.timing.tracks)."""

from __future__ import annotations

import statistics
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from storage.db import Store
from storage.ingest import ingest_file, ingest_paths
from storage.ingest.formats import captions
from storage.models import EpisodeMeta
from storage.search import search
from storage.timing.align import phrase_matches
from storage.timing.passages import segment_words, word_times
from storage.timing.tracks import episode_word_times, pack_times, passage_word_times, unpack_times
from tests.conftest import DEVREL, PODCAST, SEED

DEVREL_ID = "devrel-open-source-machine-learning"
URL = EpisodeMeta(url="https://www.youtube.com/watch?v=z7BvslwVRbQ")
BOTH_ORDERS = pytest.mark.parametrize(
    "captions_first", [False, True], ids=["edited-first", "captions-first"]
)


async def ingest_pair(store: Store, captions_first: bool, link: EpisodeMeta = URL) -> list:
    order = [(SEED, link), (DEVREL, None)]
    if not captions_first:
        order.reverse()
    return [await ingest_file(store, path, overrides=meta) for path, meta in order]


async def stored_state(store: Store) -> dict:
    episodes = await store.fetchall("SELECT id, kind, timing FROM episodes ORDER BY id")
    passages = await store.fetchall(
        "SELECT idx, start, end, text, word_start, word_end FROM passages"
        " WHERE episode_id = ? ORDER BY idx",
        (DEVREL_ID,),
    )
    return {
        "episodes": [tuple(r) for r in episodes],
        "passages": [tuple(r) for r in passages],
        "times": await episode_word_times(store, DEVREL_ID),
    }


def test_times_pack_small_and_round_trip_to_the_centisecond() -> None:
    times = [0.0, 0.333, 1.5, 1.5, 1.2, 3600.019, 86399.99]
    assert unpack_times(pack_times(times)) == [0.0, 0.33, 1.5, 1.5, 1.2, 3600.02, 86399.99]
    steady = [k * 0.4 for k in range(10_000)]
    assert len(pack_times(steady)) < 2 * len(steady)


@BOTH_ORDERS
async def test_pair_is_one_episode_timed_by_the_captions(
    store: Store, corpus: Path, captions_first: bool
) -> None:
    outcomes = await ingest_pair(store, captions_first)
    assert not [o for o in outcomes if o.status == "failed"], outcomes
    state = await stored_state(store)
    assert state["episodes"] == [(DEVREL_ID, "edited", "captions-aligned")]
    if captions_first:
        assert [o.status for o in outcomes] == ["added", "added"]
        assert "times from captions 000-65fe3dfcb0de18ef" in outcomes[1].message
    else:
        assert [o.status for o in outcomes] == ["added", "aligned"]
        assert outcomes[1].episode_id == DEVREL_ID and "re-timed" in outcomes[1].message
    # Quotes keep the edited text (punctuation, speakers); nothing of the captions is searchable.
    rows = await store.fetchall("SELECT DISTINCT speaker FROM passages")
    assert {r["speaker"] for r in rows} >= {"Hugo", "Alexey"}
    leftovers = await store.fetchone("SELECT count(*) AS n FROM passages WHERE speaker IS NULL")
    assert leftovers["n"] == 0
    track = await store.fetchone("SELECT id, youtube_id, episode_id, coverage FROM caption_tracks")
    assert tuple(track)[:3] == ("000-65fe3dfcb0de18ef", "z7BvslwVRbQ", DEVREL_ID)
    assert track["coverage"] > 0.85


async def test_both_orders_store_the_same_episode(tmp_path: Path, corpus: Path) -> None:
    states = []
    for captions_first in (False, True):
        async with await Store.open(tmp_path / f"{captions_first}.db") as store:
            await ingest_pair(store, captions_first)
            states.append(await stored_state(store))
    assert states[0] == states[1]


@BOTH_ORDERS
async def test_stored_starts_are_within_seconds_of_the_captions(
    store: Store, corpus: Path, captions_first: bool
) -> None:
    """The issue's bar on the real pair: caption phrases found in the edited text; the stored
    start of the passage containing them (the time a quote starting at those words gets, and
    for passages that open with a caption phrase, the passage start itself) is within 3 s of
    the caption time at the median and 10 s at the 90th percentile."""
    await ingest_pair(store, captions_first)
    caps = captions.parse(SEED.read_text(encoding="utf-8"), SEED).segments
    cap_per_seg = segment_words(caps)
    cap_words = [w for ws in cap_per_seg for w in ws]
    cap_times = word_times(caps, "captions", cap_per_seg)
    rows = await store.fetchall(
        "SELECT id, start, text, word_start, word_end FROM passages WHERE episode_id = ?",
        (DEVREL_ID,),
    )
    times = await episode_word_times(store, DEVREL_ID)
    words = [w for r in sorted(rows, key=lambda r: r["word_start"]) for w in r["text"].split()]
    assert len(words) == len(times)

    found = phrase_matches([seg.text.split() for seg in caps], words)
    assert len(found) > 300
    quote_errors = sorted(abs(times[w] - caps[k].start) for k, w in found)
    by_word = {}
    for r in rows:
        by_word.update(dict.fromkeys(range(r["word_start"], r["word_end"]), r))
    containing = [by_word[w] for _, w in found]
    assert all(r["start"] <= times[w] + 0.01 for r, (_, w) in zip(containing, found, strict=True))
    openings = phrase_matches([r["text"].split()[:5] for r in rows], cap_words)
    assert len(openings) > 60
    passage_errors = sorted(abs(rows[k]["start"] - cap_times[j]) for k, j in openings)
    for errors in (quote_errors, passage_errors):
        assert statistics.median(errors) <= 3.0
        assert errors[int(0.9 * len(errors))] <= 10.0


@BOTH_ORDERS
async def test_argo_scheduler_is_found_at_the_second_it_is_said(
    store: Store, corpus: Path, captions_first: bool
) -> None:
    """`14:22 the Argo scheduler so when you want to` sits in a paragraph stamped 13:52."""
    await ingest_pair(store, captions_first)
    result = await search(store, "Argo scheduler", limit=3)
    assert result.hits and result.hits[0].episode_id == DEVREL_ID
    assert len({h.passage_id for h in result.hits}) == len(result.hits)
    assert all(h.episode_id == DEVREL_ID for h in result.hits)  # no caption-only twin
    hit = result.hits[0]
    words = (await store.fetchone("SELECT text FROM passages WHERE id = ?", (hit.passage_id,)))[
        "text"
    ].split()
    at = next(k for k in range(len(words) - 1) if words[k : k + 2] == ["Argo", "scheduler,"])
    spoken = (await passage_word_times(store, [hit.passage_id]))[hit.passage_id]
    assert len(spoken) == len(words)
    assert 14 * 60 + 20 <= spoken[at] <= 14 * 60 + 25
    assert 14 * 60 + 10 <= hit.start <= spoken[at]  # never before the quote's own sentence
    link = int(parse_qs(urlsplit(hit.url).query)["t"][0].rstrip("s"))
    assert link >= 14 * 60 + 10  # not 13:52, the paragraph's stamp


async def test_argo_scheduler_link_lands_between_14_20_and_14_25(
    store: Store, corpus: Path
) -> None:
    await ingest_pair(store, captions_first=True)
    hit = (await search(store, "Argo scheduler", limit=3)).hits[0]
    link = int(parse_qs(urlsplit(hit.url).query)["t"][0].rstrip("s"))
    assert 14 * 60 + 20 <= link <= 14 * 60 + 25


async def test_reingesting_either_file_changes_nothing(store: Store, corpus: Path) -> None:
    await ingest_pair(store, captions_first=True)
    before = await stored_state(store)
    again = [await ingest_file(store, SEED, overrides=URL), await ingest_file(store, DEVREL)]
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert await stored_state(store) == before


async def test_changed_edited_transcript_is_realigned(
    store: Store, corpus: Path, tmp_path: Path
) -> None:
    await ingest_pair(store, captions_first=False)
    edited = tmp_path / DEVREL.name
    edited.write_text(
        DEVREL.read_text(encoding="utf-8").replace("Argo scheduler", "Argo Workflows scheduler"),
        encoding="utf-8",
    )
    outcome = await ingest_file(store, edited)
    assert outcome.status == "replaced" and "times from captions" in outcome.message
    state = await stored_state(store)
    assert state["episodes"] == [(DEVREL_ID, "edited", "captions-aligned")]
    row = await store.fetchone(
        "SELECT id, start FROM passages WHERE text LIKE '%Argo Workflows scheduler%'"
    )
    spoken = (await passage_word_times(store, [row["id"]]))[row["id"]]
    words = (await store.fetchone("SELECT text FROM passages WHERE id = ?", (row["id"],)))[
        "text"
    ].split()
    assert 860 <= spoken[words.index("Workflows")] <= 866


@BOTH_ORDERS
async def test_episode_id_links_captions_without_a_youtube_id(
    store: Store, corpus: Path, captions_first: bool
) -> None:
    outcomes = await ingest_pair(store, captions_first, link=EpisodeMeta(id=DEVREL_ID))
    assert [o.episode_id for o in outcomes] == [DEVREL_ID, DEVREL_ID]
    state = await stored_state(store)
    assert state["episodes"] == [(DEVREL_ID, "edited", "captions-aligned")]
    again = await ingest_file(store, SEED, overrides=EpisodeMeta(id=DEVREL_ID))
    assert again.status == "unchanged"


@pytest.mark.parametrize("link", ["episode-id", "youtube-id"])
async def test_captions_linked_to_the_wrong_episode_fail_and_store_nothing(
    store: Store, corpus: Path, tmp_path: Path, link: str
) -> None:
    source = PODCAST / "ab-testing-and-product-experimentation.md"
    first = await ingest_file(store, source)
    before = await store.fetchall("SELECT id, kind, timing, source_hash FROM episodes")
    meta = (
        EpisodeMeta(id=first.episode_id)
        if link == "episode-id"
        else EpisodeMeta(url="https://youtu.be/0Gqx1LtqRZU")
    )
    outcome = await ingest_file(store, SEED, overrides=meta)
    assert outcome.status == "failed"
    assert f"do not match episode {first.episode_id}" in outcome.message
    assert "check --episode-id, --url or the sidecar" in outcome.message
    assert [tuple(r) for r in await store.fetchall(
        "SELECT id, kind, timing, source_hash FROM episodes"
    )] == [tuple(r) for r in before]  # fmt: skip
    assert (await store.fetchone("SELECT count(*) AS n FROM caption_tracks"))["n"] == 0


async def test_captions_of_another_recording_are_not_absorbed_when_it_arrives_later(
    store: Store, corpus: Path, tmp_path: Path
) -> None:
    # An edited file that claims the seed's YouTube id but holds another episode's words.
    source = PODCAST / "ab-testing-and-product-experimentation.md"
    mislabelled = tmp_path / source.name
    mislabelled.write_text(
        source.read_text(encoding="utf-8").replace("0Gqx1LtqRZU", "z7BvslwVRbQ"), encoding="utf-8"
    )
    await ingest_file(store, SEED, overrides=URL)
    outcome = await ingest_file(store, mislabelled)
    assert "do not match this transcript" in outcome.message
    rows = await store.fetchall("SELECT id, kind, timing FROM episodes ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("000-65fe3dfcb0de18ef", "captions", "as-given"),
        ("ab-testing-and-product-experimentation", "edited", "interpolated"),
    ]


async def test_every_episode_has_word_times_matching_its_passages(
    store: Store, corpus: Path
) -> None:
    """Without captions the word times are derived from the segments as ingest timed the
    passages; with captions they are stored. Either way passage starts are their first word's."""
    await ingest_pair(store, captions_first=False)
    report = await ingest_paths(store, [PODCAST / "ab-testing-and-product-experimentation.md"])
    other = report.outcomes[0].episode_id
    stored = await store.fetchall("SELECT episode_id FROM episode_word_times")
    assert [r["episode_id"] for r in stored] == [DEVREL_ID]
    for episode_id in (DEVREL_ID, other):
        times = await episode_word_times(store, episode_id)
        rows = await store.fetchall(
            "SELECT id, start, text, word_start, word_end FROM passages WHERE episode_id = ?",
            (episode_id,),
        )
        assert times and max(r["word_end"] for r in rows) == len(times)
        spoken = await passage_word_times(store, [r["id"] for r in rows])
        for r in rows:
            assert len(spoken[r["id"]]) == len(r["text"].split())
            assert spoken[r["id"]][0] == pytest.approx(r["start"], abs=0.01)
    assert await episode_word_times(store, other) == await episode_word_times(store, other)
    assert await episode_word_times(store, "no-such-episode") == []
    assert await passage_word_times(store, []) == {}
