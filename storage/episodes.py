"""Reading episodes back: the catalogue, one episode, an episode by id or title words."""

from __future__ import annotations

import json

from storage.db import Store
from storage.links import deep_link
from storage.models import Chapter, Episode

_COLUMNS = (
    "e.id, e.title, e.guests, e.date, e.duration, e.url, e.links, e.topics, e.season, e.number,"
    " e.description, e.source_path, e.source_format, e.timing, e.ingested_at,"
    " (SELECT count(*) FROM passages p WHERE p.episode_id = e.id) AS passage_count"
)


async def _episode(store: Store, row) -> Episode:  # noqa: ANN001
    chapters = await store.fetchall(
        "SELECT title, start FROM chapters WHERE episode_id = ? ORDER BY idx", (row["id"],)
    )
    return Episode(
        id=row["id"],
        title=row["title"],
        guests=tuple(json.loads(row["guests"])),
        date=row["date"],
        duration=row["duration"],
        url=row["url"],
        links=json.loads(row["links"]),
        topics=tuple(json.loads(row["topics"])),
        season=row["season"],
        number=row["number"],
        description=row["description"],
        chapters=tuple(Chapter(c["title"], c["start"]) for c in chapters),
        source_path=row["source_path"],
        source_format=row["source_format"],
        timing=row["timing"],
        ingested_at=row["ingested_at"],
        passage_count=row["passage_count"],
    )


async def list_episodes(store: Store, *, limit: int | None = None) -> list[Episode]:
    """Episodes newest first (by publication date, then by ingest time)."""
    sql = (
        f"SELECT {_COLUMNS} FROM episodes e "  # noqa: S608 - constant column list
        "ORDER BY e.date IS NULL, e.date DESC, e.ingested_at DESC, e.id"
    )
    params: tuple = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [await _episode(store, row) for row in await store.fetchall(sql, params)]


async def get_episode(store: Store, episode_id: str) -> Episode | None:
    row = await store.fetchone(
        f"SELECT {_COLUMNS} FROM episodes e WHERE e.id = ?",  # noqa: S608
        (episode_id,),
    )
    return await _episode(store, row) if row else None


async def find_episode(store: Store, words: str) -> Episode | None:
    """An episode by exact id, else the one whose id, title or guests contain all the words."""
    words = words.strip()
    if not words:
        return None
    exact = await get_episode(store, words)
    if exact:
        return exact
    terms = [w.lower() for w in words.split()]
    best = None
    for episode in await list_episodes(store):
        hay = " ".join((episode.id, episode.title, *episode.guests)).lower()
        if all(t in hay for t in terms):
            if best is None or len(episode.title) < len(best.title):
                best = episode
    return best


def episode_link(episode: Episode, second: float = 0) -> str | None:
    return deep_link(episode.url, second)
