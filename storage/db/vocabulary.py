"""Search's vocabulary kept in the database: every word, its porter stem and its passages.

Ingest refreshes it once per run (:func:`refresh_search_vocabulary`); search reads it
(:func:`read_search_vocabulary`) instead of walking the whole word index, which takes about
a tenth of a second per 1,000 hours. Stems come from SQLite's own porter tokenizer (a
temporary FTS5 table), so Python and ``MATCH`` always agree on what a word's stem is.
"""

from __future__ import annotations

import asyncio
import weakref

import aiosqlite

from storage.db.store import Store

# The search signature (migration 0005_search_index): bumped by every change search keeps
# facts about; max(id) also catches passages added on their own.
SIGNATURE_SQL = (
    "SELECT (SELECT n FROM search_generation WHERE id = 1), (SELECT max(id) FROM passages)"
)

_stem_locks: weakref.WeakKeyDictionary[Store, asyncio.Lock] = weakref.WeakKeyDictionary()


async def search_signature(store: Store) -> tuple:
    """What search's caches are checked against: one tiny read."""
    return tuple(await store.fetchone(SIGNATURE_SQL))


async def porter_stems(store: Store, words: list[str]) -> dict[str, str]:
    """Stem ``words`` exactly as the ``passages_fts`` tokenizer does."""
    async with _stem_locks.setdefault(store, asyncio.Lock()), store.reading() as conn:
        # reading(): inside a transaction, its own connection; else one of the readers (the
        # temp tables are each connection's own, made on first use)
        return await _porter_stems(conn, words)


async def _porter_stems(conn: aiosqlite.Connection, words: list[str]) -> dict[str, str]:
    await conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stemmer USING fts5("
        "w, content='', tokenize='porter unicode61 remove_diacritics 2')"
    )
    await conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_stemmer_terms USING fts5vocab("
        "temp, search_stemmer, instance)"
    )
    unique = list(dict.fromkeys(words))
    out: dict[str, str] = {}
    # One multi-row INSERT per chunk: a single statement is one (temp-only) transaction, and
    # never interleaves with a transaction another task has open on this connection.
    for lo in range(0, len(unique), 5000):
        chunk = unique[lo : lo + 5000]
        values = ",".join("(?, ?)" for _ in chunk)
        params = [x for i, w in enumerate(chunk) for x in (i + 1, w)]
        try:
            await conn.execute(
                f"INSERT INTO temp.search_stemmer(rowid, w) VALUES {values}",  # noqa: S608
                params,
            )
            async with conn.execute(
                'SELECT doc, term FROM temp.search_stemmer_terms WHERE "offset" = 0'
            ) as cur:
                for doc, term in await cur.fetchall():
                    out[chunk[doc - 1]] = term
        finally:
            await conn.execute(
                "INSERT INTO temp.search_stemmer(search_stemmer) VALUES ('delete-all')"
            )
    return out


async def refresh_search_vocabulary(store: Store) -> bool:
    """Bring the persisted vocabulary in step with the passages (one transaction).

    Cheap when nothing changed (one read); otherwise it reads the word index once and stems
    only the words it has not seen before. Returns whether it wrote anything.
    """
    async with store.transaction() as conn:
        async with conn.execute(SIGNATURE_SQL) as cur:
            signature = tuple(await cur.fetchone())
        async with conn.execute(
            "SELECT generation, max_passage FROM search_vocabulary_state WHERE id = 1"
        ) as cur:
            state = await cur.fetchone()
        if state is not None and tuple(state) == signature:
            return False
        async with conn.execute("SELECT term, doc FROM search_words_vocab") as cur:
            counts = list(await cur.fetchall())
        async with conn.execute("SELECT word, stem FROM search_vocabulary") as cur:
            known = {w: s for w, s in await cur.fetchall()}
        new = [w for w, _ in counts if w not in known]
        if new:
            known.update(await _porter_stems(conn, new))
        await conn.execute("DELETE FROM search_vocabulary")
        await conn.executemany(
            "INSERT INTO search_vocabulary(word, stem, passages) VALUES (?, ?, ?)",
            [(w, known.get(w, w), n) for w, n in counts],
        )
        await conn.execute(
            "INSERT OR REPLACE INTO search_vocabulary_state(id, generation, max_passage)"
            " VALUES (1, ?, ?)",
            signature,
        )
    return True


async def read_search_vocabulary(store: Store, signature: tuple) -> list[tuple] | None:
    """``(word, stem, passages)`` rows, if the persisted vocabulary was taken at
    ``signature``; None when it is missing or stale."""
    state = await store.fetchone(
        "SELECT generation, max_passage FROM search_vocabulary_state WHERE id = 1"
    )
    if state is None or tuple(state) != tuple(signature):
        return None
    rows = await store.fetchall("SELECT word, stem, passages FROM search_vocabulary")
    return [tuple(r) for r in rows]
