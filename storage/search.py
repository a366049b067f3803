"""Search over passages. (First version: FTS5 BM25 over quoted tokens; see issue 3.)"""

from __future__ import annotations

import re

from storage.db import Store
from storage.links import deep_link
from storage.models import Hit, SearchResult

_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """User text as a safe FTS5 query: every token double-quoted, OR-ed. None if no tokens."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)


async def search(store: Store, query: str, *, limit: int = 3, offset: int = 0) -> SearchResult:
    """Passages matching ``query``, best first.

    Example:
        >>> result = await search(store, "argo scheduler", limit=3)  # doctest: +SKIP
        >>> result.hits[0].url                                        # doctest: +SKIP
    """
    match = fts_query(query)
    if match is None:
        return SearchResult(query=query, hits=())
    rows = await store.fetchall(
        "SELECT p.id, p.episode_id, e.title, p.start, p.end, p.speaker, p.chapter, p.text,"
        " e.url, bm25(passages_fts) AS rank"
        " FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid"
        " JOIN episodes e ON e.id = p.episode_id"
        " WHERE passages_fts MATCH ? ORDER BY rank LIMIT ? OFFSET ?",
        (match, limit + 1, offset),
    )
    hits = tuple(
        Hit(
            episode_id=r["episode_id"],
            episode_title=r["title"],
            start=r["start"],
            end=r["end"],
            speaker=r["speaker"],
            quote=r["text"][:300],
            url=deep_link(r["url"], r["start"]),
            score=-r["rank"],
            chapter=r["chapter"],
            passage_id=r["id"],
        )
        for r in rows[:limit]
    )
    return SearchResult(query=query, hits=hits, has_more=len(rows) > limit)
