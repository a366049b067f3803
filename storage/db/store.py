"""The SQLite file: opening it, bringing its schema up to date, and running transactions."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import aiosqlite

from storage.clock import Clock, iso, utc_now
from storage.db.migrations import FORMER_NAMES, MIGRATIONS


class StoreError(Exception):
    """A problem with the database file that the user can act on."""


class FailureKind(StrEnum):
    """What a failure from the database means to someone waiting for an answer."""

    BUSY = "busy"  # another connection holds the lock: worth trying again in a moment
    DATABASE = "database"  # any other error from SQLite or the store


def failure_kind(exc: BaseException) -> FailureKind | None:
    """How ``exc`` came from the database, or None when it did not.

    Lets callers tell "busy" from "broken" without importing the database driver.

    Example:
        >>> failure_kind(sqlite3.OperationalError("database is locked"))
        <FailureKind.BUSY: 'busy'>
    """
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
        return FailureKind.BUSY
    if isinstance(exc, sqlite3.Error | StoreError):
        return FailureKind.DATABASE
    return None


class Store:
    """An open episode database. Use ``async with await Store.open(path) as store``.

    All writes go through :meth:`transaction`, so a failure leaves nothing half-written. Every
    time it records comes from :meth:`now` (its ``clock``), so a test sets the time by opening
    the store with one instead of patching modules.

    Example:
        >>> store = await Store.open("data/episodes.db")      # doctest: +SKIP
        >>> rows = await store.fetchall("SELECT id FROM episodes")  # doctest: +SKIP
    """

    def __init__(self, conn: aiosqlite.Connection, path: str, *, clock: Clock | None = None):
        self.conn = conn
        self.path = path
        self.clock = clock or utc_now
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        create: bool = True,
        clock: Clock | None = None,
    ) -> Store:
        """Open (``create``: or make, with its folders) the database file at ``path``.

        ``clock`` gives the time every row is stamped with (default: the machine's, in UTC).

        Raises StoreError for a path that cannot be a database file, and, with
        ``create=False`` (commands that only read), for a file that does not exist yet.

        Example:
            >>> store = await Store.open("data/episodes.db", create=False)  # doctest: +SKIP
        """
        path = str(path)
        if path != ":memory:":
            file = Path(path)
            if file.is_dir():
                raise StoreError(
                    f"{path} is a folder, not a database file; give a file name, like "
                    f"{file / 'episodes.db'}"
                )
            if not create and not file.exists():
                raise StoreError(
                    f"no database at {path}; ingest episodes first: "
                    f"python -m bot ingest PATH --db {path}"
                )
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = (
                    f"{exc.filename} is a file, not a folder"
                    if isinstance(exc, FileExistsError | NotADirectoryError)
                    else f"{exc.strerror or exc}: {exc.filename}"
                )
                raise StoreError(
                    f"{path}: cannot create the folder for the database ({why}); point "
                    "DATABASE_PATH or --db at a file in a folder you can write to"
                ) from None
        conn = aiosqlite.connect(path, isolation_level=None)
        try:
            await conn
        except sqlite3.Error as exc:
            # aiosqlite stops its thread on a failed connect but does not wait for it; wait
            # here, or it reports to an event loop that may be closed by then (a traceback).
            thread = getattr(conn, "_thread", None)
            if thread is not None and thread.is_alive():
                await asyncio.to_thread(thread.join, 5)
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        conn.row_factory = aiosqlite.Row
        store = cls(conn, path, clock=clock)
        try:
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            if path != ":memory:":
                # New files only (a no-op once tables exist). Chosen for the former segments
                # table, whose 1-2 KB paragraphs overflowed 4 KB pages; segments are one blob per
                # episode now (episode_segments) and the size was not measured again since.
                await conn.execute("PRAGMA page_size = 8192")
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await store.migrate()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise StoreError(
                f"{path}: not a usable episode database ({exc}). "
                "Point DATABASE_PATH or --db at another file."
            ) from exc
        except BaseException:
            await conn.close()
            raise
        return store

    def now(self) -> datetime:
        """The current time by this store's clock (aware)."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the store's clock gave a naive datetime; it must be aware")
        return moment

    def stamp(self) -> str:
        """The current time as stored (:func:`storage.clock.iso`). Call it inside the write
        transaction that stores it: then anything stamped before a reader's barrier
        (:meth:`settle`) is committed by the time that reader reads."""
        return iso(self.now())

    async def settle(self) -> None:
        """Wait until writes under way in other connections are committed.

        A row is stamped inside its write transaction, so after this returns every row stamped
        before the call is visible: a window that ends at an instant taken before it cannot
        miss one still being written. (An empty write transaction: it takes the write lock,
        which those writers hold, and writes nothing.)
        """
        async with self.transaction():
            pass

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction: all of it is committed, or none of it."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def backup(self, target: str | Path) -> int:
        """Copy the database to ``target`` as it is at one moment, while others go on reading
        and writing it; returns the copy's size in bytes.

        SQLite's online backup API, in one step: one read transaction, which in WAL mode holds
        no writer up. The copy is made beside ``target`` under a temporary name, checked
        (``PRAGMA quick_check``) and renamed over it, so ``target`` is the old copy or the new
        one, never half of one. Raises StoreError naming what is wrong.

        Example:
            >>> await store.backup("backups/episodes-2026-05-01.db")  # doctest: +SKIP
        """
        target = Path(target)
        if self.path != ":memory:" and target.resolve() == Path(self.path).resolve():
            raise StoreError(f"{target} is the database itself; give another file name")
        if target.is_dir():
            raise StoreError(
                f"{target} is a folder; give a file name, like {target / 'episodes.db'}"
            )
        if not target.parent.is_dir():
            raise StoreError(f"{target.parent} does not exist; create the folder first")
        temporary = target.with_name(f".{target.name}.partial")
        temporary.unlink(missing_ok=True)
        try:
            copy = sqlite3.connect(temporary, check_same_thread=False)  # used in aiosqlite's thread
            try:
                await self.conn.backup(copy)
                ok = copy.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                copy.close()
            if ok != "ok":
                raise StoreError(f"the copy failed its check ({ok}); {target} was left as it was")
            os.replace(temporary, target)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{target}: cannot write the backup ({exc})") from None
        finally:
            for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        return target.stat().st_size

    async def applied_migrations(self) -> list[str]:
        rows = await self.fetchall("SELECT name FROM schema_migrations ORDER BY rowid")
        return [r["name"] for r in rows]

    async def migrate(self) -> list[str]:
        """Apply the migrations this file lacks; refuse a file made by a newer version."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = set(await self.applied_migrations())
        if done & FORMER_NAMES.keys():
            async with self.transaction() as conn:  # an earlier release's names, in one step
                for old, new in FORMER_NAMES.items():
                    await conn.execute(
                        "UPDATE schema_migrations SET name = ? WHERE name = ?", (new, old)
                    )
            done = set(await self.applied_migrations())
        known = {m.name for m in MIGRATIONS}
        unknown = sorted(done - known)
        if unknown:
            raise StoreError(
                f"{self.path}: this database was written by a newer episode-bot "
                f"(it has migration {unknown[0]}). Upgrade episode-bot; "
                "the file was left untouched."
            )
        applied = []
        for migration in MIGRATIONS:
            if migration.name in done:
                continue
            async with self.transaction() as conn:
                if migration.sql:
                    for statement in _split_sql(migration.sql):
                        await conn.execute(statement)
                if migration.run is not None:
                    await migration.run(conn)
                await conn.execute(
                    "INSERT INTO schema_migrations(name, applied_at) VALUES (?, ?)",
                    (migration.name, self.stamp()),
                )
            applied.append(migration.name)
        return applied


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (aiosqlite has no executescript in a txn)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        stripped = line.split("--", 1)[0] if "'" not in line else line
        buf += stripped
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
