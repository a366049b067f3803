"""The SQLite file: opening it, bringing its schema up to date, and running transactions."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import aiosqlite

from storage.clock import Clock, iso, utc_now
from storage.db.migrations import FORMER_NAMES, MIGRATIONS

T = TypeVar("T")


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


# Read connections per store: WAL lets each read while the writer writes, and a few of them
# let concurrent searches run side by side instead of queueing behind one connection's thread.
READERS = 4
# Extra attempts, after SQLite's own busy_timeout wait, for the "locked" answers SQLite gives
# without waiting (a stale snapshot, WAL recovery, a journal-mode change by another process).
BUSY_RETRIES = 4

# The store whose write transaction the current task is in: its reads go to the write
# connection, so they see the transaction's own writes.
_writing: ContextVar[Store | None] = ContextVar("episode_bot_writing", default=None)


def _busy(exc: BaseException) -> bool:
    return failure_kind(exc) is FailureKind.BUSY


async def _pause(attempt: int) -> None:
    await asyncio.sleep(0.05 * 2**attempt)  # 50, 100, 200, 400 ms


@dataclass(frozen=True)
class Health:
    """What :meth:`Store.health` found: ``problem`` is one line, for a 503 and the log."""

    ok: bool
    episodes: int | None = None
    problem: str | None = None
    writer_busy: bool = False  # another process held the write lock: fine, readers still read


class Store:
    """An open episode database. Use ``async with await Store.open(path) as store``.

    One connection writes (all writes go through :meth:`transaction`, so a failure leaves
    nothing half-written); a small pool of others reads (:meth:`fetchall`, :meth:`fetchone`,
    :meth:`reading`), so a search never waits for a write, from this process or another.
    A ":memory:" database has one connection for both.
    Every time it records comes from :meth:`now` (its ``clock``), so a test sets the time by
    opening the store with one instead of patching modules.

    Example:
        >>> store = await Store.open("data/episodes.db")      # doctest: +SKIP
        >>> rows = await store.fetchall("SELECT id FROM episodes")  # doctest: +SKIP
    """

    def __init__(
        self,
        writer: aiosqlite.Connection,
        path: str,
        *,
        busy_timeout: float = 5.0,
        clock: Clock | None = None,
    ):
        self.writer = writer
        self.path = path
        self.busy_timeout = busy_timeout
        self.clock = clock or utc_now
        self._write_lock = asyncio.Lock()
        self._idle: list[aiosqlite.Connection] = []
        self._readers: list[aiosqlite.Connection] = []
        self._reader_freed = asyncio.Condition()
        self._opening = 0
        self._closed = False

    @property
    def conn(self) -> aiosqlite.Connection:
        """The write connection. Write through :meth:`transaction`, read through
        :meth:`fetchall` / :meth:`reading`; this stays for code that needs the raw handle."""
        return self.writer

    @property
    def memory(self) -> bool:
        return self.path == ":memory:"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has begun: background work on the store should end."""
        return self._closed

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        create: bool = True,
        busy_timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> Store:
        """Open (``create``: or make, with its folders) the database file at ``path``.

        ``clock`` gives the time every row is stamped with (default: the machine's, in UTC).

        Raises StoreError for a path that cannot be a database file, and, with
        ``create=False`` (commands that only read, and ``serve``), for a file that does not
        exist yet. ``busy_timeout``: seconds a connection waits for another's lock.

        Example:
            >>> store = await Store.open("data/episodes.db", create=False)  # doctest: +SKIP
        """
        path = str(path)
        new_file = False
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
            new_file = not file.exists() or file.stat().st_size == 0
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
        conn = await _connect(path, busy_timeout)
        store = cls(conn, path, busy_timeout=busy_timeout, clock=clock)
        try:
            # Before anything that could write: a newer version's file is left as it is.
            await store._refuse_newer()
            if not store.memory:
                if new_file:
                    # Chosen for the former segments table, whose 1-2 KB paragraphs overflowed
                    # 4 KB pages; segments are one blob per episode now (episode_segments) and
                    # the size was not measured again since. A no-op once tables exist.
                    await conn.execute("PRAGMA page_size = 8192")
                await _retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
                await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await store.migrate()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            if _busy(exc):
                raise StoreError(
                    f"{path}: another process kept the database locked; try again in a moment"
                ) from exc
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
        self._closed = True
        async with self._reader_freed:
            self._reader_freed.notify_all()
        readers, self._readers, self._idle = self._readers, [], []
        for reader in readers:
            await reader.close()
        await self.writer.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction: all of it is committed, or none of it.

        Waits for the write lock (busy_timeout, then a few short retries); reads through the
        store inside the block see its writes.
        """
        async with self._write_lock:
            await self._begin()
            token = _writing.set(self)
            try:
                yield self.writer
            except BaseException:
                await self._rollback()
                raise
            else:
                try:
                    await self.writer.execute("COMMIT")
                except BaseException:
                    # SQLite keeps the transaction open when COMMIT fails (a full disk): end
                    # it, or the next BEGIN on this connection would find one already open.
                    await self._rollback()
                    raise
            finally:
                _writing.reset(token)

    async def _rollback(self) -> None:
        """End the open transaction, if SQLite has not ended it already (it does on some
        errors, a full disk among them); never hides the error that brought us here."""
        if self.writer.in_transaction:
            try:
                await self.writer.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # closing the connection rolls it back too

    async def _begin(self) -> None:
        begin = asyncio.ensure_future(_retry_busy(lambda: self.writer.execute("BEGIN IMMEDIATE")))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            # The statement runs on in the connection's thread: if it got the lock, give it
            # back, or the next transaction on this connection would find one already open.
            try:
                await begin
                await self.writer.execute("ROLLBACK")
            except Exception:  # noqa: BLE001, S110 - BEGIN failed: nothing to undo
                pass
            raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection of this task's own for reads (streaming cursors, temp tables).

        Inside :meth:`transaction` it is the write connection, so the block's writes show.

        Example:
            >>> async with store.reading() as conn:                      # doctest: +SKIP
            ...     async with conn.execute("SELECT id FROM episodes") as cur: ...
        """
        if self.memory or _writing.get() is self:
            yield self.writer
            return
        conn = await self._borrow()
        try:
            yield conn
        finally:
            await self._give_back(conn)

    async def _borrow(self) -> aiosqlite.Connection:
        async with self._reader_freed:
            while not self._idle and self._opening + len(self._readers) >= READERS:
                if self._closed:
                    break
                await self._reader_freed.wait()
            if self._closed:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            if self._idle:
                return self._idle.pop()
            self._opening += 1  # a new connection, outside the lock (it takes a moment)
        try:
            conn = await _connect(self.path, self.busy_timeout, create=False)
        finally:
            async with self._reader_freed:
                self._opening -= 1
                self._reader_freed.notify()
        self._readers.append(conn)
        return conn

    async def _give_back(self, conn: aiosqlite.Connection) -> None:
        if self._closed:
            return
        async with self._reader_freed:
            self._idle.append(conn)
            self._reader_freed.notify()

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        async def run() -> list[aiosqlite.Row]:
            async with self.reading() as conn, conn.execute(sql, params) as cur:
                return list(await cur.fetchall())

        return await _retry_busy(run)

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        async def run() -> aiosqlite.Row | None:
            async with self.reading() as conn, conn.execute(sql, params) as cur:
                return await cur.fetchone()

        return await _retry_busy(run)

    async def health(self, timeout: float = 3.0) -> Health:
        """Whether searches can read and the bot can write, answered within ``timeout`` s.

        Reads through the pool searches use and, on a fresh connection, from the file itself
        (so a file deleted or replaced shows); then commits one tiny row through the write
        connection, as the bot's own writes go. A write lock held by another process (an
        ingest) is not a problem: ``writer_busy``, still healthy.

        Example:
            >>> (await store.health()).ok                                  # doctest: +SKIP
            True
        """
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                row = await self.fetchone("SELECT count(*) FROM episodes")
                episodes = int(row[0])
                if not self.memory:
                    await asyncio.to_thread(_read_file, self.path, min(timeout, 1.0))
        except TimeoutError:
            return Health(False, problem=f"the database did not answer within {timeout:g} s")
        except (sqlite3.Error, StoreError, ValueError, OSError) as exc:
            return Health(False, problem=f"database not readable: {_one_line(exc)}")
        if self._write_lock.locked():  # this process is writing (an ingest, the activity log)
            return Health(True, episodes, writer_busy=True)
        try:
            async with self._write_lock:
                # One short try (not busy_timeout's wait): another process writing is no fault.
                await self.writer.execute(f"PRAGMA busy_timeout = {int(min(timeout, 1.0) * 1000)}")
                try:
                    await self.writer.execute("BEGIN IMMEDIATE")
                    try:
                        await self.writer.execute(
                            "INSERT OR REPLACE INTO health_check(id, checked_at) VALUES (1, ?)",
                            (self.stamp(),),
                        )
                        await self.writer.execute("COMMIT")
                    except BaseException:
                        await self.writer.execute("ROLLBACK")
                        raise
                finally:
                    await self.writer.execute(
                        f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}"
                    )
        except (sqlite3.Error, ValueError) as exc:
            if _busy(exc):
                return Health(True, episodes, writer_busy=True)
            return Health(False, episodes, problem=f"database not writable: {_one_line(exc)}")
        return Health(True, episodes)

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

    async def _refuse_newer(self) -> None:
        """StoreError for a file holding a migration this version does not know (read only)."""
        async with self.writer.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ) as cur:
            if await cur.fetchone() is None:
                return
        async with self.writer.execute("SELECT name FROM schema_migrations") as cur:
            done = {FORMER_NAMES.get(r[0], r[0]) for r in await cur.fetchall()}
        unknown = sorted(done - {m.name for m in MIGRATIONS})
        if unknown:
            raise StoreError(
                f"{self.path}: this database was written by a newer episode-bot "
                f"(it has migration {unknown[0]}). Upgrade episode-bot; "
                "the file was left untouched."
            )

    async def migrate(self) -> list[str]:
        """Apply the migrations this file lacks; refuse a file made by a newer version.

        Each step runs in its own write transaction and checks again inside it that it is
        still missing, so two processes opening a new file at once apply each step once.
        """
        await self._refuse_newer()
        await _retry_busy(
            lambda: self.writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        )
        async with self.writer.execute("SELECT name FROM schema_migrations") as cur:
            done = {r[0] for r in await cur.fetchall()}
        if done >= {m.name for m in MIGRATIONS} and not done & FORMER_NAMES.keys():
            return []  # up to date: no write lock taken, so opening never waits for a writer
        if done & FORMER_NAMES.keys():
            async with self.transaction() as conn:  # an earlier release's names, in one step
                for old, new in FORMER_NAMES.items():
                    await conn.execute(
                        "UPDATE schema_migrations SET name = ? WHERE name = ?", (new, old)
                    )
        applied = []
        for migration in MIGRATIONS:
            async with self.transaction() as conn:
                async with conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)
                ) as cur:
                    if await cur.fetchone() is not None:
                        continue
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


def _read_file(path: str, timeout: float) -> None:
    """Read the file on a connection of its own (never creating it); raises what SQLite did."""
    conn = sqlite3.connect(_uri(path), uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM episodes").fetchone()
    finally:
        conn.close()


def _uri(path: str) -> str:
    """The file's URI for opening it read-write without ever creating it."""
    return "file:" + quote(str(Path(path).resolve())) + "?mode=rw"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


async def _connect(path: str, busy_timeout: float, *, create: bool = True) -> aiosqlite.Connection:
    if create or path == ":memory:":
        conn = aiosqlite.connect(path, isolation_level=None)
    else:  # a reader never makes a file: one moved away meanwhile is an error, not a new file
        conn = aiosqlite.connect(_uri(path), uri=True, isolation_level=None)
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
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _retry_busy(run: Callable[[], Awaitable[T]]) -> T:
    """``run()``, again after a short pause while it fails with "database is locked"."""
    for attempt in range(BUSY_RETRIES):
        try:
            return await run()
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            await _pause(attempt)
    return await run()


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
