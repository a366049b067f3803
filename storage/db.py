"""The SQLite file: opening it, migrating its schema, and running transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite


class StoreError(Exception):
    """A problem with the database file that the user can act on."""


@dataclass(frozen=True)
class Migration:
    """One schema step. ``name`` is recorded in the database once applied; never rename one."""

    name: str
    sql: str = ""
    run: Callable[[aiosqlite.Connection], Awaitable[None]] | None = None


async def _pack_segments(conn: aiosqlite.Connection) -> None:
    """Segments move from a row each to one compressed blob per episode (storage.segments)."""
    from storage.segments import pack

    await conn.execute(
        "CREATE TABLE episode_segments ("
        " episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,"
        " count INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID"
    )
    async with conn.execute("SELECT DISTINCT episode_id FROM segments") as cur:
        episode_ids = [r[0] for r in await cur.fetchall()]
    for episode_id in episode_ids:
        async with conn.execute(
            "SELECT start, end, speaker, text FROM segments WHERE episode_id = ? ORDER BY idx",
            (episode_id,),
        ) as cur:
            rows = list(await cur.fetchall())
        await conn.execute(
            "INSERT INTO episode_segments(episode_id, count, data) VALUES (?, ?, ?)",
            (episode_id, len(rows), pack(rows)),
        )
    await conn.execute("DROP TABLE segments")


async def _digest_archive_stable(conn: aiosqlite.Connection) -> None:
    """Archive quotes the digest used: by (episode, second, words), not by passage id."""
    from storage.digest import stable_archive_quotes

    await stable_archive_quotes(conn)


# Applied in this order, each once, each in its own transaction. Append only.
MIGRATIONS: list[Migration] = [
    Migration(
        "0001_core",
        """
        CREATE TABLE episodes (
            id            TEXT PRIMARY KEY,
            title         TEXT NOT NULL,
            guests        TEXT NOT NULL DEFAULT '[]',   -- JSON list of full names
            date          TEXT,                         -- ISO date of publication
            duration      REAL,                         -- seconds
            url           TEXT,                         -- the link deep links are built from
            youtube_id    TEXT,
            links         TEXT NOT NULL DEFAULT '{}',   -- JSON {name: url}
            topics        TEXT NOT NULL DEFAULT '[]',   -- JSON list
            season        INTEGER,
            number        INTEGER,
            description   TEXT,
            kind          TEXT NOT NULL,                -- 'edited' or 'captions'
            timing        TEXT NOT NULL,  -- as-given, interpolated or captions-aligned
            source_path   TEXT NOT NULL,
            source_format TEXT NOT NULL,
            source_hash   TEXT NOT NULL,
            ingested_at   TEXT NOT NULL
        );
        CREATE INDEX episodes_youtube_id ON episodes(youtube_id);
        CREATE INDEX episodes_date ON episodes(date);

        CREATE TABLE chapters (
            episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL,
            title      TEXT NOT NULL,
            start      REAL NOT NULL,
            PRIMARY KEY (episode_id, idx)
        ) WITHOUT ROWID;

        CREATE TABLE segments (
            episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL,
            start      REAL NOT NULL,
            end        REAL,
            speaker    TEXT,
            text       TEXT NOT NULL,
            PRIMARY KEY (episode_id, idx)
        ) WITHOUT ROWID;

        CREATE TABLE passages (
            id         INTEGER PRIMARY KEY,
            episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL,
            start      REAL NOT NULL,
            end        REAL NOT NULL,
            speaker    TEXT,
            chapter    TEXT,
            text       TEXT NOT NULL,
            word_start INTEGER NOT NULL,
            word_end   INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX passages_episode ON passages(episode_id, idx);

        CREATE VIRTUAL TABLE passages_fts USING fts5(
            text, content='passages', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER passages_au AFTER UPDATE OF text ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
        END;

        -- Guest profiles (id -> full name), learned from _people/ folders.
        CREATE TABLE people (
            id    TEXT PRIMARY KEY,
            name  TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "0002_activity",
        """
        -- Slack events already answered (Slack retries; a restart must not answer twice).
        CREATE TABLE events_seen (
            event_id TEXT PRIMARY KEY,
            seen_at  TEXT NOT NULL
        ) WITHOUT ROWID;

        -- Every search, from Slack or the console, for the digest.
        CREATE TABLE search_log (
            id         INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            user_id    TEXT,
            channel_id TEXT,
            query      TEXT NOT NULL,
            hits       INTEGER NOT NULL,
            source     TEXT NOT NULL DEFAULT 'slash'   -- slash, mention, dm, console, cli
        );
        CREATE INDEX search_log_at ON search_log(at);

        -- Quotes members shared with the Share button.
        CREATE TABLE shares (
            id         INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            user_id    TEXT,
            channel_id TEXT,
            episode_id TEXT NOT NULL,
            start      REAL NOT NULL,
            passage_id INTEGER,
            query      TEXT,
            message_ts TEXT
        );
        CREATE INDEX shares_at ON shares(at);

        -- Posts made once and only once: weekly digests and new-episode announcements.
        CREATE TABLE posts (
            kind       TEXT NOT NULL,     -- 'digest' or 'announcement'
            key        TEXT NOT NULL,     -- ISO week (2026-W48) or episode id
            channel    TEXT,
            ts         TEXT,              -- Slack message ts once posted
            posted_at  TEXT NOT NULL,
            PRIMARY KEY (kind, key)
        ) WITHOUT ROWID;

        -- Archive quotes the digest already used (not repeated within a year).
        CREATE TABLE archive_quotes (
            passage_id INTEGER NOT NULL,
            used_at    TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "0005_digest_arrivals",
        """
        -- When each episode first arrived. episodes.ingested_at moves on every re-ingest, so
        -- "new this week" and announcements need the first time, kept by a trigger whichever
        -- process ingests. seq orders arrivals for the announcement watermark of the serving bot.
        CREATE TABLE digest_arrivals (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            episode_id TEXT NOT NULL UNIQUE,
            arrived_at TEXT NOT NULL
        );
        INSERT INTO digest_arrivals(episode_id, arrived_at)
            SELECT id, ingested_at FROM episodes ORDER BY ingested_at, id;
        CREATE TRIGGER digest_arrivals_ai AFTER INSERT ON episodes BEGIN
            INSERT INTO digest_arrivals(episode_id, arrived_at)
                SELECT new.id, new.ingested_at
                WHERE NOT EXISTS (SELECT 1 FROM digest_arrivals WHERE episode_id = new.id);
        END;

        -- Small named values the scheduler keeps (the announcement watermark).
        CREATE TABLE digest_state (
            name  TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "0004_align_caption_tracks",
        """
        -- Raw captions kept to time an edited transcript of the same recording (storage.timing).
        -- A track linked to an edited episode lends it times and is not an episode itself.
        CREATE TABLE caption_tracks (
            id            TEXT PRIMARY KEY,  -- the id the captions have on their own
            youtube_id    TEXT,
            episode_id    TEXT,              -- the edited episode it times (no FK, by design)
            words         TEXT NOT NULL,     -- cleaned caption words, space-separated
            times         BLOB NOT NULL,     -- a time per word, storage.timing.pack_times
            coverage      REAL,              -- share of the edited words found, once aligned
            source_path   TEXT NOT NULL,
            source_format TEXT NOT NULL,
            source_hash   TEXT NOT NULL,
            ingested_at   TEXT NOT NULL
        );
        CREATE INDEX caption_tracks_youtube_id ON caption_tracks(youtube_id);
        CREATE INDEX caption_tracks_episode_id ON caption_tracks(episode_id);

        -- When each word of an episode (storage.passages.segment_words) is spoken, so a quote
        -- and its link can start at any word, not only at a passage start.
        CREATE TABLE episode_word_times (
            episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
            times      BLOB NOT NULL     -- storage.timing.pack_times
        );
        """,
    ),
    Migration(
        "0003_search_index",
        """
        -- Search: the words of every passage as spoken, not stemmed, without positions (small).
        -- Its vocabulary (search_words_vocab: word, passages containing it) is what typo
        -- correction, "did you mean" and split/joined-word matching draw from. Kept in step with
        -- passages by triggers, so any ingest path maintains it.
        CREATE VIRTUAL TABLE search_words USING fts5(
            text, content='passages', content_rowid='id', detail=none,
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE search_words_vocab USING fts5vocab(search_words, row);
        CREATE TRIGGER search_words_ai AFTER INSERT ON passages BEGIN
            INSERT INTO search_words(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER search_words_ad AFTER DELETE ON passages BEGIN
            INSERT INTO search_words(search_words, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER search_words_au AFTER UPDATE OF text ON passages BEGIN
            INSERT INTO search_words(search_words, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO search_words(rowid, text) VALUES (new.id, new.text);
        END;
        INSERT INTO search_words(search_words) VALUES ('rebuild');

        -- A counter bumped by every change search keeps facts about (episodes, chapters,
        -- guest names, passage text), so a cached vocabulary is checked with one tiny read.
        CREATE TABLE search_generation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            n  INTEGER NOT NULL
        );
        INSERT INTO search_generation(id, n) VALUES (1, 0);
        CREATE TRIGGER search_gen_episodes_ai AFTER INSERT ON episodes BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_episodes_ad AFTER DELETE ON episodes BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_episodes_au AFTER UPDATE ON episodes BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_chapters_ai AFTER INSERT ON chapters BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_chapters_ad AFTER DELETE ON chapters BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_people_ai AFTER INSERT ON people BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_people_au AFTER UPDATE ON people BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        CREATE TRIGGER search_gen_passages_au AFTER UPDATE OF text, speaker, chapter ON passages
        BEGIN
            UPDATE search_generation SET n = n + 1 WHERE id = 1;
        END;
        """,
    ),
    Migration(
        "0003_search_speakers",
        """
        -- Search: who speaks in which episode (speaker: filters, names in questions), kept by
        -- triggers so search never scans every passage to find out.
        CREATE TABLE search_speakers (
            episode_id TEXT NOT NULL,
            speaker    TEXT NOT NULL,
            PRIMARY KEY (episode_id, speaker)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO search_speakers(episode_id, speaker)
            SELECT DISTINCT episode_id, speaker FROM passages WHERE speaker IS NOT NULL;
        CREATE TRIGGER search_speakers_ai AFTER INSERT ON passages WHEN new.speaker IS NOT NULL
        BEGIN
            INSERT OR IGNORE INTO search_speakers(episode_id, speaker)
                VALUES (new.episode_id, new.speaker);
        END;
        CREATE TRIGGER search_speakers_au AFTER UPDATE OF speaker ON passages
            WHEN new.speaker IS NOT NULL
        BEGIN
            INSERT OR IGNORE INTO search_speakers(episode_id, speaker)
                VALUES (new.episode_id, new.speaker);
        END;
        CREATE TRIGGER search_speakers_ad AFTER DELETE ON episodes BEGIN
            DELETE FROM search_speakers WHERE episode_id = old.id;
        END;
        """,
    ),
    Migration("0006_packed_segments", run=_pack_segments),
    Migration("0007_digest_archive_stable", run=_digest_archive_stable),
]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """An open episode database. Use ``async with await Store.open(path) as store``.

    All writes go through :meth:`transaction`, so a failure leaves nothing half-written.

    Example:
        >>> store = await Store.open("data/episodes.db")      # doctest: +SKIP
        >>> rows = await store.fetchall("SELECT id FROM episodes")  # doctest: +SKIP
    """

    def __init__(self, conn: aiosqlite.Connection, path: str):
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True, create: bool = True) -> Store:
        """Open (``create``: or make, with its folders) the database file at ``path``.

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
        store = cls(conn, path)
        try:
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            if path != ":memory:":
                # New files only (a no-op once tables exist): paragraphs of 1-2 KB overflow
                # 4 KB pages of the segments table and waste a fifth of it; 8 KB pages do not.
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
                    (migration.name, utc_now()),
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
