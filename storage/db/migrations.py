"""The schema's steps, in the order they run: each applied once, recorded in the file.

Append only, and never rename a step that has shipped (:data:`FORMER_NAMES` maps the names of
an earlier release, whose numbers were out of run order, to today's). A step's code is frozen
with it: a migration never calls code that may change later, so a file written years ago
still upgrades the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from storage.segments import pack
from storage.text import passage_key


@dataclass(frozen=True)
class Migration:
    """One schema step. ``name`` is recorded in the database once applied; never rename one."""

    name: str
    sql: str = ""
    run: Callable[[aiosqlite.Connection], Awaitable[None]] | None = None


async def _pack_segments(conn: aiosqlite.Connection) -> None:
    """Segments move from a row each to one compressed blob per episode (storage.segments)."""
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
    """Migration ``0008_digest_archive_stable``: archive quotes recorded by passage id become
    (episode, second, text key). A row whose passage is gone already (its episode re-ingested)
    cannot be placed and is dropped; it had stopped counting anyway."""
    await conn.execute("ALTER TABLE archive_quotes RENAME TO archive_quotes_by_passage")
    await conn.execute(
        "CREATE TABLE archive_quotes ("
        " episode_id TEXT NOT NULL,"  # no foreign key: it outlives the episode's rows
        " start REAL NOT NULL,"  # the quote's second in the episode
        " text_key TEXT NOT NULL,"  # storage.text.passage_key of the passage's words
        " used_at TEXT NOT NULL)"
    )
    async with conn.execute(
        "SELECT p.episode_id, p.start, p.text, q.used_at FROM archive_quotes_by_passage q"
        " JOIN passages p ON p.id = q.passage_id ORDER BY q.rowid"
    ) as cur:
        rows = list(await cur.fetchall())
    await conn.executemany(
        "INSERT INTO archive_quotes(episode_id, start, text_key, used_at) VALUES (?, ?, ?, ?)",
        [(r[0], r[1], passage_key(r[2]), r[3]) for r in rows],
    )
    await conn.execute("DROP TABLE archive_quotes_by_passage")


# Every column that holds an instant, as (table, column), for 0009_instants_microseconds.
_INSTANT_COLUMNS = (
    ("schema_migrations", "applied_at"),
    ("episodes", "ingested_at"),
    ("caption_tracks", "ingested_at"),
    ("digest_arrivals", "arrived_at"),
    ("events_seen", "seen_at"),
    ("search_log", "at"),
    ("shares", "at"),
    ("posts", "posted_at"),
    ("archive_quotes", "used_at"),
)


def _instant_0009(text: object) -> object:
    """An instant as 0009 stores it: UTC, microseconds, fixed width (no offset: UTC). A value
    that is not an instant is kept as it is (nothing here wrote such a value)."""
    if not isinstance(text, str):
        return text
    if len(text) == 25 and text[19:] == "+00:00":  # what every earlier version wrote
        return text[:19] + ".000000+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


async def _instants_microseconds(conn: aiosqlite.Connection) -> None:
    """Migration ``0009_instants_microseconds``: every stored instant in one fixed-width form,
    so text order is time order (``…T06:25:45+00:00`` becomes ``…T06:25:45.000000+00:00``),
    and each digest row says where its window ended (``posts.window_until``), which until now
    was its ``posted_at``."""
    # One pass per table, the conversion in SQL's hands: events_seen alone grows by a row per
    # Slack event and has no index on its time.
    await conn.create_function("instant_0009", 1, _instant_0009, deterministic=True)
    for table, column in _INSTANT_COLUMNS:
        # Names from the constant table above, never from input.
        await conn.execute(
            f"UPDATE {table} SET {column} = instant_0009({column})"  # noqa: S608
            f" WHERE {column} IS NOT instant_0009({column})"
        )
    await conn.execute("ALTER TABLE posts ADD COLUMN window_until TEXT")
    await conn.execute("UPDATE posts SET window_until = posted_at WHERE kind = 'digest'")


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
        "0003_digest_arrivals",
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
            times         BLOB NOT NULL,     -- a time per word, storage.timing.tracks.pack_times
            coverage      REAL,              -- share of the edited words found, once aligned
            source_path   TEXT NOT NULL,
            source_format TEXT NOT NULL,
            source_hash   TEXT NOT NULL,
            ingested_at   TEXT NOT NULL
        );
        CREATE INDEX caption_tracks_youtube_id ON caption_tracks(youtube_id);
        CREATE INDEX caption_tracks_episode_id ON caption_tracks(episode_id);

        -- When each word of an episode (storage.timing.passages) is spoken, so a quote
        -- and its link can start at any word, not only at a passage start.
        CREATE TABLE episode_word_times (
            episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
            times      BLOB NOT NULL     -- storage.timing.tracks.pack_times
        );
        """,
    ),
    Migration(
        "0005_search_index",
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
        "0006_search_speakers",
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
    Migration("0007_packed_segments", run=_pack_segments),
    Migration("0008_digest_archive_stable", run=_digest_archive_stable),
    Migration("0009_instants_microseconds", run=_instants_microseconds),
    Migration(
        "0010_feedback_votes",
        """
        -- 👍/👎 on answers: one row per person per answer (a changed mind replaces the row).
        -- answer_key names the message and the quote in it; query and passage are kept so the
        -- votes can grow the relevance set (`python -m bot feedback --export`).
        CREATE TABLE feedback_votes (
            answer_key TEXT NOT NULL,
            user_id    TEXT NOT NULL,
            vote       INTEGER NOT NULL CHECK (vote IN (-1, 1)),
            query      TEXT,
            episode_id TEXT NOT NULL,   -- no foreign key: votes outlive a re-ingest
            start      REAL NOT NULL,
            passage    TEXT NOT NULL DEFAULT '',
            channel_id TEXT,
            at         TEXT NOT NULL,
            PRIMARY KEY (answer_key, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX feedback_votes_at ON feedback_votes(at);
        """,
    ),
    Migration(
        "0011_feed_state",
        """
        -- Podcast feeds and watched folders the catalogue is kept current from
        -- (storage.ingest.feeds). etag/last_modified make the next poll a conditional GET.
        CREATE TABLE feed_state (
            url           TEXT PRIMARY KEY,  -- the feed URL, or a watched folder's path
            kind          TEXT NOT NULL,     -- 'feed' or 'folder'
            etag          TEXT,
            last_modified TEXT,
            polled_at     TEXT NOT NULL,     -- the last poll that reached the feed
            items         INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        -- One row per feed item with a transcript: the episode it became and the transcript
        -- as last fetched, so an unchanged one is not fetched (conditional GET) or stored again.
        CREATE TABLE feed_items (
            feed_url        TEXT NOT NULL,
            guid            TEXT NOT NULL,
            episode_id      TEXT NOT NULL,     -- chosen once, so a retitled item keeps its id
            transcript_url  TEXT,
            etag            TEXT,
            last_modified   TEXT,
            item_hash       TEXT,              -- sha256 of the item's fields (title, guests...)
            removed_at      TEXT,              -- `episodes remove`: the poll leaves it out
            PRIMARY KEY (feed_url, guid)
        ) WITHOUT ROWID;
        CREATE INDEX feed_items_episode ON feed_items(episode_id);
        """,
    ),
    Migration(
        "0012_search_vocabulary",
        """
        -- Search: the vocabulary (every word of the transcripts, its porter stem and how many
        -- passages hold it), persisted so a one-off search or a starting server reads one small
        -- table instead of walking the whole word index. Written by ingest once per run
        -- (storage.db.refresh_search_vocabulary); ``generation`` and ``max_passage`` record the
        -- search signature it was taken at, so a reader knows when it is stale (then search
        -- reads the word index directly, as before).
        CREATE TABLE search_vocabulary (
            word     TEXT PRIMARY KEY,
            stem     TEXT NOT NULL,
            passages INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE search_vocabulary_state (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            generation  INTEGER,
            max_passage INTEGER
        );
        """,
    ),
    Migration(
        "0013_health_check",
        """
        -- /healthz proves the file can still be written by committing this one row.
        CREATE TABLE health_check (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            checked_at TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "0015_search_log_by_user",
        """
        -- The Home tab lists a member's own last searches: found by user, newest first.
        CREATE INDEX search_log_user_at ON search_log(user_id, at);
        """,
    ),
    Migration(
        "0016_search_snapshot",
        """
        -- Search: its whole in-memory cache (vocabulary, stems, names, episodes, chapters),
        -- stored by whoever builds it, so a one-off search or a starting server loads it
        -- instead of rebuilding it (storage.search.snapshot). ``generation`` and
        -- ``max_passage`` are the search signature it was taken at; ``format`` names the
        -- code's fields, so another version's snapshot is rebuilt, not misread.
        CREATE TABLE search_snapshot (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            generation  INTEGER,
            max_passage INTEGER,
            format      TEXT NOT NULL,
            data        BLOB NOT NULL
        );
        """,
    ),
]


# The names an earlier release recorded, whose numbers were not the order the steps run in.
# A file that has them is renamed to today's names before anything else runs.
FORMER_NAMES: dict[str, str] = {
    "0005_digest_arrivals": "0003_digest_arrivals",
    "0003_search_index": "0005_search_index",
    "0003_search_speakers": "0006_search_speakers",
    "0006_packed_segments": "0007_packed_segments",
    "0007_digest_archive_stable": "0008_digest_archive_stable",
}
