"""Reading episodes back: the catalogue, one episode, an episode by id or title words."""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass

from storage.db import Store, search_signature
from storage.models import Chapter, Episode, EpisodeTiming

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
        timing=EpisodeTiming(row["timing"]),
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


@dataclass(frozen=True)
class CatalogueSummary:
    """The catalogue in numbers: episodes, hours of audio, the newest publication date."""

    episodes: int
    hours: float
    newest: str | None


async def summarise_catalogue(store: Store) -> CatalogueSummary:
    row = await store.fetchone(
        "SELECT count(*), coalesce(sum(duration), 0) / 3600.0, max(date) FROM episodes"
    )
    return CatalogueSummary(row[0], row[1], row[2])


async def get_episode(store: Store, episode_id: str) -> Episode | None:
    row = await store.fetchone(
        f"SELECT {_COLUMNS} FROM episodes e WHERE e.id = ?",  # noqa: S608
        (episode_id,),
    )
    return await _episode(store, row) if row else None


# find_episode compares whole words: id, title and guests (a JSON list) with these characters
# turned into spaces; the words looked for are runs of letters and digits, so none of them holds
# one. SQLite's lower() and LIKE fold ASCII letters only, which ids and most titles are.
_SEPARATORS = " -_:;,.!?'\"“”‘’()[]{}/\\|&+*#@–—…"
# Not search's index tokens: accents stay, as they do in the words compared against.
_WORD = re.compile(r"[^\W_]+")
MAX_FIND_WORDS = 12


def _haystack_sql() -> str:
    """CTEs ending in ``h(id, words)``: the words of each episode, separators made spaces.

    The replace() calls are nested a few at a time: SQLite's parser refuses deep nesting.
    """
    steps: list[str] = []
    source = "(SELECT id, lower(id || ' ' || title || ' ' || guests) AS words FROM episodes)"
    seps = _SEPARATORS[1:]
    for n, i in enumerate(range(0, len(seps), 8)):
        expr = "words"
        for ch in seps[i : i + 8]:
            expr = f"replace({expr}, '{ch.replace(chr(39), chr(39) * 2)}', ' ')"
        steps.append(f"h{n} AS (SELECT id, {expr} AS words FROM {source})")  # noqa: S608
        source = f"h{n}"
    steps.append(f"h AS (SELECT id, ' ' || words || ' ' AS words FROM {source})")  # noqa: S608
    return "WITH " + ", ".join(steps)


_FIND_SQL = (
    f"{_haystack_sql()} "  # noqa: S608 - constant text
    f"SELECT {_COLUMNS} FROM episodes e JOIN h ON h.id = e.id WHERE "
)
_FIND_ORDER = " ORDER BY length(e.title), e.date IS NULL, e.date DESC, e.id LIMIT ?"
MAX_FOUND = 25


async def find_episode(store: Store, words: str) -> Episode | None:
    """An episode by exact id, else the one whose id, title or guests hold all the words.

    Words are whole words, any case, in any order ("devrel", "hugo metaflow"); among several
    matches the shortest title wins (the most specific), then the newest. One query.

    Example:
        >>> (await find_episode(store, "devrel hugo")).id  # doctest: +SKIP
        'devrel-open-source-machine-learning'
    """
    found = await find_episodes(store, words, limit=1)
    return found[0] if found else None


async def find_episodes(store: Store, words: str, *, limit: int = MAX_FOUND) -> list[Episode]:
    """Every episode :func:`find_episode` could mean, best first (at most ``limit``).

    An exact id is the only answer; otherwise all episodes whose id, title or guests hold all
    the words, so a caller can offer a choice instead of silently picking one.

    Example:
        >>> [e.id for e in await find_episodes(store, "hugo")]  # doctest: +SKIP
        ['practical-llm-engineering-and-rag', 'devrel-open-source-machine-learning']
    """
    words = words.strip()
    if not words:
        return []
    exact = await get_episode(store, words)
    if exact:
        return [exact]
    terms = _WORD.findall(words.lower())[:MAX_FIND_WORDS]
    if not terms:
        return []
    where = " AND ".join("h.words LIKE ?" for _ in terms)
    params = tuple(f"% {t} %" for t in terms)  # runs of letters and digits: no % or _ in them
    limit = max(1, min(limit, MAX_FOUND))
    rows = await store.fetchall(_FIND_SQL + where + _FIND_ORDER, (*params, limit))
    return [await _episode(store, row) for row in rows]


# A name query is at most this many words ("hugo", "eugene yan", "hugo bowne anderson").
MAX_NAME_WORDS = 4


def _name_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class _Names:
    """Every guest's name and every title as words, read once per change of the catalogue
    (every slash command asks whether its words name one: no reading and splitting all of
    them each time)."""

    signature: tuple
    guests: list[tuple[str, frozenset[str]]]  # (name as stored, its words)
    titles: list[tuple[str, list[str], list[str]]]  # (episode id, words, words before ":")


_names_cache: weakref.WeakKeyDictionary[Store, _Names] = weakref.WeakKeyDictionary()


async def _names(store: Store) -> _Names:
    """The store's :class:`_Names`, read again only when its search signature has changed
    (every insert, update or delete of an episode changes it)."""
    signature = await search_signature(store)
    cached = _names_cache.get(store)
    if cached is not None and cached.signature == signature:
        return cached
    rows = await store.fetchall(
        "SELECT DISTINCT g.value AS name FROM episodes e, json_each(e.guests) g"
    )
    guests = [
        (r["name"], frozenset(_name_words(r["name"]))) for r in rows if isinstance(r["name"], str)
    ]
    titles = [
        (r["id"], _name_words(r["title"]), _name_words(r["title"].split(":")[0]))
        for r in await store.fetchall("SELECT id, title FROM episodes")
    ]
    names = _names_cache[store] = _Names(signature, guests, titles)
    return names


async def episodes_named(store: Store, words: str) -> list[Episode]:
    """The episodes ``words`` names outright: a guest's name, or an episode's whole title.

    A guest matches when every word typed is a whole word of their name ("hugo", "Eugene Yan",
    "bowne-anderson"); a title matches when the words are its words, all of them, or all of
    those before its colon. Newest first; empty when ``words`` is anything more (a topic, a
    question about the person).

    Example:
        >>> [e.id for e in await episodes_named(store, "Hugo")]  # doctest: +SKIP
        ['practical-llm-engineering-and-rag', 'devrel-open-source-machine-learning']
    """
    typed = _name_words(words)
    if not typed:
        return []
    names = await _names(store)
    ids: list[str] = []
    if len(typed) <= MAX_NAME_WORDS:
        wanted = set(typed)
        named = [n for n, name_words in names.guests if wanted <= name_words]
        if named:
            found = await store.fetchall(
                "SELECT DISTINCT e.id FROM episodes e, json_each(e.guests) g"
                " WHERE g.value IN (SELECT value FROM json_each(?))",
                (json.dumps(named),),
            )
            ids = [r["id"] for r in found]
    if not ids:
        ids = [ep for ep, whole, before_colon in names.titles if typed in (whole, before_colon)]
    if not ids:
        return []
    rows = await store.fetchall(
        f"SELECT {_COLUMNS} FROM episodes e WHERE e.id IN (SELECT value FROM json_each(?))"  # noqa: S608
        " ORDER BY e.date IS NULL, e.date DESC, e.id",
        (json.dumps(ids),),
    )
    return [await _episode(store, row) for row in rows]
