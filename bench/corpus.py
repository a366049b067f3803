"""The benchmarks' base database: the real corpus (and the devrel seed captions), built once."""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Store  # noqa: E402
from storage.ingest import ingest_paths  # noqa: E402
from tests.storage.search.relevance import SEED_META  # noqa: E402

CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
SEED = CORPUS / "seed" / "000_65fe3dfcb0de18ef.txt"


async def build_corpus_db(path: Path) -> None:
    """Ingest the 200 episodes with guest names, then the seed captions; reuse a built file."""
    async with await Store.open(path) as store:
        if (await store.fetchone("SELECT count(*) FROM episodes"))[0] >= 200:
            print(f"reusing {path}", file=sys.stderr)
            return
        started = time.perf_counter()
        for paths, overrides in (
            ([CORPUS / "raw" / "_people", CORPUS / "raw" / "_podcast"], None),
            ([SEED], SEED_META),
        ):
            report = await ingest_paths(store, paths, overrides=overrides)
            if report.failed:
                raise SystemExit(f"ingest failed: {[o.describe() for o in report.failed]}")
        print(f"ingested the corpus in {time.perf_counter() - started:.0f} s", file=sys.stderr)


# Rows about people's activity, not episodes: never replicated.
ACTIVITY = {"search_log", "shares", "events_seen", "posts", "archive_quotes", "digest_arrivals"}
# Triggers that keep the full-text indexes in step row by row: dropped while replicating,
# the indexes rebuilt once instead.
FTS_TABLES = ("passages_fts", "search_words")


def hours(conn: sqlite3.Connection) -> float:
    return conn.execute("SELECT coalesce(sum(duration), 0) / 3600.0 FROM episodes").fetchone()[0]


def replicate(base: Path, target: Path, want_hours: float) -> None:
    """``target``: ``base`` copied, then its episodes copied under ids ``<id>~<k>``."""
    shutil.copy(base, target)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    base_hours = hours(conn)
    copies = math.ceil(want_hours / base_hours)
    started = time.perf_counter()
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'passages'"
        " AND (sql LIKE '%passages_fts%' OR sql LIKE '%search_words%')"
    ).fetchall()
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name = 'episodes' DESC"
        )
        if r[0] not in ACTIVITY and not any(r[0].startswith(f) for f in FTS_TABLES)
    ]
    conn.execute("BEGIN")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    for table in tables:
        cols = conn.execute(f"PRAGMA table_info({table})").fetchall()
        names = [c[1] for c in cols]
        if table != "episodes" and "episode_id" not in names:
            continue
        pk = [c for c in cols if c[5]]
        own_rowid = [c[1] for c in pk if len(pk) == 1 and c[2].upper() == "INTEGER"]
        # Text keys of their own (caption_tracks.id) get the copy's suffix too.
        suffixed = {"id" if table == "episodes" else "episode_id"}
        suffixed |= {c[1] for c in pk if len(pk) == 1 and c[2].upper() == "TEXT"}
        keep = [n for n in names if n not in own_rowid]
        key = "id" if table == "episodes" else "episode_id"
        for k in range(1, copies):
            select = [f"{n} || '~{k}'" if n in suffixed else n for n in keep]
            conn.execute(  # OR IGNORE: rows a trigger already copied (search_speakers)
                f"INSERT OR IGNORE INTO {table} ({', '.join(keep)}) SELECT {', '.join(select)}"  # noqa: S608
                f" FROM {table} WHERE {key} NOT LIKE '%~%'"
                + (" ORDER BY rowid" if own_rowid else "")
            )
    for fts in FTS_TABLES:
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    for fts in FTS_TABLES:
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")  # noqa: S608
    conn.execute("PRAGMA journal_mode = WAL")
    took = time.perf_counter() - started
    print(
        f"built {target.name}: {hours(conn):,.0f} h ({base_hours:.0f} h x {copies})"
        f" in {took:.0f} s",
        file=sys.stderr,
    )
    conn.close()
