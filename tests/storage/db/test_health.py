"""Store.health: what /healthz reports, on real files made unwritable, unreadable or missing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.db import Store


async def test_an_empty_catalogue_is_healthy_and_says_so(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        health = await store.health()
        assert (health.ok, health.episodes, health.problem) == (True, 0, None)
        row = await store.fetchone("SELECT checked_at FROM health_check")
        assert row["checked_at"]  # the write really was committed to the file


async def test_a_database_that_cannot_be_written_is_unhealthy(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        # SQLite's answer on a read-only file system, simulated on the bot's write connection
        # (a process keeps writing through the descriptors it opened, whatever chmod says).
        await store.conn.execute("PRAGMA query_only = ON")
        health = await store.health()
        assert not health.ok and health.episodes == 0
        assert health.problem.startswith("database not writable: attempt to write a readonly")
        assert "\n" not in health.problem
        await store.conn.execute("PRAGMA query_only = OFF")
        assert (await store.health()).ok  # and healthy again once it can be written


async def test_a_file_that_cannot_be_read_or_is_gone_is_unhealthy(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        moved = db_path.with_suffix(".moved")
        db_path.rename(moved)
        health = await store.health()
        assert not health.ok and "unable to open" in health.problem
        # Something else put in its place (a bad restore, say): not a database at all.
        db_path.write_bytes(b"garbage, not SQLite\n" * 500)
        for side in ("-wal", "-shm"):
            Path(f"{db_path}{side}").unlink(missing_ok=True)
        health = await store.health()
        assert not health.ok and "not a database" in health.problem


async def test_another_writer_holding_the_lock_is_not_a_problem(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        ingest = sqlite3.connect(db_path, isolation_level=None)
        ingest.execute("BEGIN IMMEDIATE")
        try:
            health = await store.health(timeout=3)
        finally:
            ingest.execute("ROLLBACK")
            ingest.close()
        assert health.ok and health.writer_busy and health.episodes == 0


async def test_a_closed_store_is_unhealthy(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    health = await store.health()
    assert not health.ok and health.problem
