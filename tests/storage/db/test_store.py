"""The database file: migrations, refusal of newer files, event dedupe across reopen."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.activity.log import claim_event
from storage.db import Store, StoreError
from storage.db.store import MIGRATIONS
from tests.conftest import ROOT


async def test_migrations_recorded_and_idempotent(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]
    async with await Store.open(db_path) as store:
        assert await store.migrate() == []
        mode = await store.fetchone("PRAGMA journal_mode")
        assert mode[0] == "wal"
        fk = await store.fetchone("PRAGMA foreign_keys")
        assert fk[0] == 1


async def test_older_file_is_upgraded_without_losing_rows(db_path: Path) -> None:
    first, rest = MIGRATIONS[:1], MIGRATIONS[1:]
    MIGRATIONS[:] = first
    try:
        async with await Store.open(db_path) as store:
            async with store.transaction() as conn:
                await conn.execute("INSERT INTO people(id, name) VALUES ('x', 'X Person')")
    finally:
        MIGRATIONS[:] = first + rest
    async with await Store.open(db_path) as store:
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]
        row = await store.fetchone("SELECT name FROM people WHERE id = 'x'")
        assert row["name"] == "X Person"


async def test_file_from_a_newer_version_is_refused_untouched(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES ('9999_future', 'later')")
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer episode-bot"):
        await Store.open(db_path)
    assert db_path.read_bytes() == before


async def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="not a usable episode database"):
        await Store.open(bogus)


async def test_event_claimed_once_even_after_reopen(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        assert await claim_event(store, "Ev1") is True
        assert await claim_event(store, "Ev1") is False
    async with await Store.open(db_path) as store:
        assert await claim_event(store, "Ev1") is False
        assert await claim_event(store, "Ev2") is True


async def test_segment_rows_of_an_older_file_are_packed_verbatim(db_path: Path) -> None:
    from storage.segments import unpack

    keep = list(MIGRATIONS)
    MIGRATIONS[:] = [m for m in keep if m.name != "0007_packed_segments"]
    try:
        async with await Store.open(db_path) as store:
            async with store.transaction() as conn:
                await conn.execute(
                    "INSERT INTO episodes(id, title, kind, timing, source_path, source_format,"
                    " source_hash, ingested_at) VALUES ('e1', 'E', 'captions', 'as-given',"
                    " 'x.txt', 'captions', 'h', 'now')"
                )
                await conn.executemany(
                    "INSERT INTO segments(episode_id, idx, start, end, speaker, text)"
                    " VALUES ('e1', ?, ?, ?, ?, ?)",
                    [(1, 2.5, None, None, "and café"), (0, 0.0, 2.5, "Ana", "so <b> & more")],
                )
    finally:
        MIGRATIONS[:] = keep
    async with await Store.open(db_path) as store:
        row = await store.fetchone("SELECT count, data FROM episode_segments WHERE episode_id='e1'")
        assert row["count"] == 2
        segments = unpack(row["data"])
        assert [(s.start, s.end, s.speaker, s.text) for s in segments] == [
            (0.0, 2.5, "Ana", "so <b> & more"),
            (2.5, None, None, "and café"),
        ]
        gone = await store.fetchone("SELECT name FROM sqlite_schema WHERE name = 'segments'")
        assert gone is None


async def test_a_path_that_cannot_be_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    with pytest.raises(StoreError, match=r"notes\.txt is a file, not a folder"):
        await Store.open(tmp_path / "notes.txt" / "x.db")
    with pytest.raises(StoreError, match="is a folder, not a database file"):
        await Store.open(tmp_path)


async def test_create_false_refuses_a_missing_file_and_makes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "nested" / "x.db"
    with pytest.raises(StoreError, match=r"^no database at .*x\.db; ingest episodes first"):
        await Store.open(missing, create=False)
    assert not (tmp_path / "typo").exists()
    async with await Store.open(missing):  # the default still creates it, folders and all
        pass
    async with await Store.open(missing, create=False) as store:
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]


async def test_file_with_the_old_out_of_order_migration_names_upgrades(db_path: Path) -> None:
    """An earlier release recorded 0001, 0002, 0005, 0004, 0003, 0003, 0006, 0007 (the order
    they ran in); such a file is renamed to today's names, and what it lacks is applied."""
    from storage.db.migrations import FORMER_NAMES

    old_names = {new: old for old, new in FORMER_NAMES.items()}
    # A file of that release from before its search migrations: four steps, old names.
    ran = [m.name for m in MIGRATIONS[:4]]
    first_four = MIGRATIONS[:4]
    keep = list(MIGRATIONS)
    MIGRATIONS[:] = first_four
    try:
        async with await Store.open(db_path) as store:
            async with store.transaction() as conn:
                for name in ran:
                    await conn.execute(
                        "UPDATE schema_migrations SET name = ? WHERE name = ?",
                        (old_names.get(name, name), name),
                    )
                await conn.execute("INSERT INTO people(id, name) VALUES ('x', 'X Person')")
    finally:
        MIGRATIONS[:] = keep
    with sqlite3.connect(db_path) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM schema_migrations")]
    assert "0005_digest_arrivals" in recorded  # really the old name, not today's 0005
    async with await Store.open(db_path) as store:
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]
        row = await store.fetchone("SELECT name FROM people WHERE id = 'x'")
        assert row["name"] == "X Person"
        assert await store.fetchone("SELECT count(*) FROM episode_segments") is not None


async def test_a_complete_file_with_the_old_names_only_gets_renamed(db_path: Path) -> None:
    from storage.db.migrations import FORMER_NAMES

    async with await Store.open(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        for old, new in FORMER_NAMES.items():
            conn.execute("UPDATE schema_migrations SET name = ? WHERE name = ?", (old, new))
    async with await Store.open(db_path) as store:
        assert await store.applied_migrations() == [m.name for m in MIGRATIONS]
        assert await store.migrate() == []


async def test_a_newer_file_in_rollback_journal_mode_is_left_byte_for_byte(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("INSERT INTO schema_migrations VALUES ('9999_future', 'later')")
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="the file was left untouched"):
        await Store.open(db_path)
    assert db_path.read_bytes() == before  # still in rollback-journal mode: not switched to WAL
    assert not Path(f"{db_path}-wal").exists()


async def test_two_openers_creating_a_new_file_at_once_both_get_a_working_store(
    tmp_path: Path,
) -> None:
    # Ten trials, each two connections (as two processes would be) racing to create the file.
    for trial in range(10):
        path = tmp_path / f"race{trial}.db"
        first, second = await asyncio.gather(Store.open(path), Store.open(path))
        async with first, second:
            assert await first.applied_migrations() == [m.name for m in MIGRATIONS]
            assert await second.applied_migrations() == [m.name for m in MIGRATIONS]


def test_two_processes_creating_a_new_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    code = (
        "import asyncio, sys; from storage.db import Store\n"
        "async def main():\n"
        "    async with await Store.open(sys.argv[1]) as s:\n"
        "        print(len(await s.applied_migrations()))\n"
        "asyncio.run(main())\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]  # fmt: skip
    results = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == str(len(MIGRATIONS)) and err == ""
