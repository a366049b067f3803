"""Search's caches: the vocabulary persisted by ingest, and rebuilds off the serving loop
(one per ingest run, the last cache answering meanwhile)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path

import pytest

from storage.db import Store, read_search_vocabulary, refresh_search_vocabulary, search_signature
from storage.ingest import ingest_file, ingest_paths
from storage.models import EpisodeMeta
from storage.search import current as search_current
from storage.search import index as search_index
from storage.search import search, search_cache, wait_for_search_cache
from storage.search import snapshot as search_snapshot

WORD = "zorbification"


def _captions(folder: Path, name: str, word: str) -> Path:
    path = folder / f"{name}.txt"
    path.write_text(f"0:00 today we talk about {word} pipelines\n0:05 {word} is new to us\n")
    return path


@pytest.fixture
def copy_db(corpus_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy.db"
    shutil.copy(corpus_db, db)
    return db


async def test_ingest_persists_the_vocabulary_search_reads(copy_db: Path, tmp_path: Path) -> None:
    async with await Store.open(copy_db) as store:
        signature = await search_signature(store)
        persisted = await read_search_vocabulary(store, signature)
        assert persisted is not None, "ingest_paths leaves the vocabulary in step"
        index = dict(
            tuple(r) for r in await store.fetchall("SELECT term, doc FROM search_words_vocab")
        )
        assert {w: n for w, _, n in persisted} == index
        stems = {w: s for w, s, _ in persisted}
        assert stems["deploying"] == stems["deployed"] == "deploi"

        # One file on its own (ingest_file) leaves it stale: search reads the index instead.
        await ingest_file(store, _captions(tmp_path, "z", WORD), overrides=EpisodeMeta(id="z"))
        assert await read_search_vocabulary(store, await search_signature(store)) is None
        cache = await wait_for_search_cache(store)
        assert cache.words[WORD] == 1
        # A run refreshes it, stemming only the new words; a second refresh writes nothing.
        assert await refresh_search_vocabulary(store)
        assert not await refresh_search_vocabulary(store)
        persisted = await read_search_vocabulary(store, await search_signature(store))
        assert persisted is not None and (WORD, "zorbif", 1) in persisted


async def test_other_process_ingest_is_found_after_one_background_rebuild(
    copy_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[tuple] = []  # caches made: loaded from the stored snapshot or built
    build = search_current._load_or_build

    async def counted(store: Store, signature: tuple):  # noqa: ANN202
        builds.append(signature)
        return await build(store, signature)

    monkeypatch.setattr(search_current, "_load_or_build", counted)
    folder = tmp_path / "new"
    folder.mkdir()
    for k in range(4):
        _captions(folder, f"ep{k}", f"{WORD}{'x' * k}")
    async with await Store.open(copy_db) as serving, await Store.open(copy_db) as ingesting:
        old = await search_cache(serving)
        assert len(builds) == 1 and not (await search(serving, WORD)).hits

        async def searches_during_ingest() -> list:
            results = []
            for _ in range(40):  # bounded: 40 searches while the files go in
                results.append(await search(serving, "argo scheduler"))
                await asyncio.sleep(0.01)
            return results

        during, report = await asyncio.gather(
            searches_during_ingest(), ingest_paths(ingesting, [folder], workers=0)
        )
        assert len(report.outcomes) == 4 and not report.failed
        # Searches kept answering (from the cache they had) while the data changed.
        assert all(r.hits for r in during)
        # Four committed files, one rebuild once the data settled (not one per file).
        cache = await wait_for_search_cache(serving)
        assert cache is not old and len(builds) == 2
        found = await search(serving, WORD)
        assert found.hits and found.hits[0].episode_id == "ep0"
        assert (await search(serving, WORD + "xxx")).hits[0].episode_id == "ep3"


async def test_a_rebuild_runs_off_the_loop_and_searches_use_the_last_cache(
    copy_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_current, "SETTLE_SECONDS", 0.01)
    async with await Store.open(copy_db) as store:
        old = await search_cache(store)
        await ingest_file(store, _captions(tmp_path, "z", WORD), overrides=EpisodeMeta(id="z"))
        # The search that notices the change answers at once, from the old cache...
        result = await search(store, WORD)
        assert result.hits == () and search_current._state(store).cache is old
        task = search_current._state(store).rebuild
        assert task is not None and not task.done()
        # ...and the loop keeps turning while the new one is built (a build on the loop
        # would be one long tick; timings on a shared machine are left to bench/).
        ticks = 0
        for _ in range(2000):  # bounded: 10 s
            if task.done():
                break
            await asyncio.sleep(0.005)
            ticks += 1
        assert task.done() and ticks >= 3, ticks
        assert (await search(store, WORD)).hits[0].episode_id == "z"


async def test_a_new_inflected_word_is_found_before_the_cache_catches_up(
    copy_db: Path, tmp_path: Path
) -> None:
    # "zorbified" stems to "zorbifi": a word the cache has never seen, whose stem is not the
    # word itself. Found right after the ingest, while searches still use the last cache.
    word = "zorbified"
    async with await Store.open(copy_db) as serving, await Store.open(copy_db) as ingesting:
        await ingest_file(ingesting, _captions(tmp_path, "z", WORD), overrides=EpisodeMeta(id="z"))
        old = await wait_for_search_cache(serving)
        assert "z" in old.episodes and word not in old.words
        await ingest_file(ingesting, _captions(tmp_path, "z", word), overrides=EpisodeMeta(id="z"))
        found = await search(serving, word)
        assert _states_cache(serving) is old, "still the cache from before the ingest"
        assert [h.episode_id for h in found.hits][:1] == ["z"]


def _states_cache(store: Store):  # noqa: ANN202
    return search_current._state(store).cache


async def test_closing_the_store_during_a_rebuild_logs_no_error(
    copy_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serving = await Store.open(copy_db)
    await search_cache(serving)
    async with await Store.open(copy_db) as ingesting:
        await ingest_file(ingesting, _captions(tmp_path, "z", WORD), overrides=EpisodeMeta(id="z"))
    await search(serving, "argo")  # sees the change: a rebuild starts, waiting for quiet
    task = search_current._state(serving).rebuild
    assert task is not None and not task.done()
    await serving.close()  # as serve does when it stops
    await asyncio.wait_for(task, 10)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _snapshot_row(path: Path) -> tuple | None:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT generation, max_passage, format, length(data) FROM search_snapshot"
        ).fetchone()
    finally:
        conn.close()


async def test_a_fresh_process_loads_the_stored_cache_instead_of_building_it(
    copy_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The corpus database was left as `python -m bot ingest` leaves one: cache stored with it.
    async with await Store.open(copy_db) as store:
        signature = await search_signature(store)
        built = await search_index.build_cache(store, signature)
    row = _snapshot_row(copy_db)
    assert row is not None and tuple(row[:2]) == signature and row[2] == search_snapshot.FORMAT

    async def no_build(store: Store, signature: tuple):  # noqa: ANN202
        raise AssertionError("built, though a current snapshot is stored")

    monkeypatch.setattr(search_current, "build_cache", no_build)
    async with await Store.open(copy_db) as store:  # a new Store: nothing in memory yet
        loaded = await search_cache(store)
        result = await search(store, "argo scheduler")
    # Field for field what a build from the data gives (the memos aside, filled on use).
    for name in search_snapshot._CACHE_FIELDS:
        assert getattr(loaded, name) == getattr(built, name), name
    assert loaded.signature == signature and loaded.episodes and result.hits


async def test_a_stale_damaged_or_foreign_snapshot_is_rebuilt_and_stored_again(
    copy_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    async with await Store.open(copy_db) as store:
        await ingest_file(store, _captions(tmp_path, "z", WORD), overrides=EpisodeMeta(id="z"))
        changed = await search_signature(store)
    assert tuple(_snapshot_row(copy_db)[:2]) != changed, "the stored one predates the ingest"
    async with await Store.open(copy_db) as store:
        assert (await search(store, WORD)).hits[0].episode_id == "z"  # built, not the stale one
    assert tuple(_snapshot_row(copy_db)[:2]) == changed, "and stored for the next process"

    for damage in ("data = x'00ff11'", "data = zeroblob(64)", "format = 'an older version'"):
        conn = sqlite3.connect(copy_db)
        conn.execute(f"UPDATE search_snapshot SET {damage}")  # noqa: S608 - constants above
        conn.commit()
        conn.close()
        async with await Store.open(copy_db) as store:
            assert (await search(store, WORD)).hits[0].episode_id == "z", damage
        row = _snapshot_row(copy_db)
        assert row[2] == search_snapshot.FORMAT and row[3] > 1000, damage
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("unreadable" in m for m in warned), warned
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_database_locked_by_another_writer_still_answers_without_storing_the_cache(
    copy_db: Path,
) -> None:
    import sqlite3

    conn = sqlite3.connect(copy_db)
    conn.execute("DELETE FROM search_snapshot")
    conn.commit()
    # Another process (a long ingest) holds the write lock for as long as this search runs.
    conn.execute("BEGIN IMMEDIATE")
    try:
        async with await Store.open(copy_db, busy_timeout=0.2) as store:
            result = await search(store, "argo scheduler")
            assert result.hits and await search_cache(store) is not None
    finally:
        conn.rollback()
        conn.close()
    assert _snapshot_row(copy_db) is None, "nothing half-written; the next search stores it"


def test_the_ingest_command_stores_the_cache_a_one_off_search_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from bot.cli import main

    db = tmp_path / "show.db"
    folder = tmp_path / "show"
    folder.mkdir()
    for k in range(3):
        _captions(folder, f"ep{k}", f"{WORD}{'x' * k}")
    assert main(["ingest", "--db", str(db), "--quiet", str(folder)]) == 0
    row = _snapshot_row(db)
    assert row is not None and row[2] == search_snapshot.FORMAT

    async def no_build(store: Store, signature: tuple):  # noqa: ANN202
        raise AssertionError("a one-off search built the cache the ingest stored")

    def one_off_search(query: str) -> list[dict]:
        with monkeypatch.context() as m:
            m.setattr(search_current, "build_cache", no_build)
            capsys.readouterr()
            assert main(["search", "--db", str(db), "--json", query]) == 0
            return json.loads(capsys.readouterr().out)

    assert one_off_search(WORD + "xx")[0]["episode_id"] == "ep2"
    # `episodes remove` keeps it in step too: the next one-off search still loads, not builds.
    assert main(["episodes", "remove", "ep2", "--yes", "--db", str(db)]) == 0
    assert all(h["episode_id"] != "ep2" for h in one_off_search(WORD + "xx"))
