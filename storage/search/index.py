"""What search knows about a store beyond the index: vocabulary, stems, names, episode facts.

Built once per open store on the first search and kept until the data changes (a new ingest,
a deleted episode, new guest names), so no query pays for it. The vocabulary comes from the
``search_words`` index (migration ``0005_search_index``); stems come from SQLite's own porter
tokenizer (a temporary FTS5 table), so Python and ``MATCH`` always agree on what a word's stem is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from jellyfish import metaphone

from storage.db import Store, porter_stems, read_search_vocabulary
from storage.models import EpisodeTiming
from storage.search.query import STOP_WORDS, tokens

log = logging.getLogger(__name__)

# Words that occur in fewer passages are left out of typo correction: they are as likely to
# be typos themselves.
FUZZY_MIN_DF = 2


@dataclass(frozen=True)
class EpisodeInfo:
    """The facts about one episode that ranking and filters need, kept in memory."""

    id: str
    title: str
    guests: tuple[str, ...]
    date: str | None
    url: str | None
    topics: tuple[str, ...]
    season: int | None
    number: int | None
    timing: EpisodeTiming
    first_id: int  # passage ids of the episode lie in [first_id, last_id]
    last_id: int
    passages: int
    title_stems: tuple[str, ...] = ()
    topic_stems: tuple[tuple[str, ...], ...] = ()
    guest_tokens: frozenset[str] = frozenset()
    # Its chapters are SearchCache chapters first_chapter .. first_chapter + chapter_count - 1.
    first_chapter: int = 0
    chapter_count: int = 0

    @property
    def chapters(self) -> range:
        return range(self.first_chapter, self.first_chapter + self.chapter_count)


@dataclass
class SearchCache:
    """One snapshot of a store's search facts. Built by :func:`search_cache`."""

    signature: tuple = ()
    passages: int = 0
    avg_words: float = 40.0
    words: dict[str, int] = field(default_factory=dict)  # word -> passages containing it
    stem: dict[str, str] = field(default_factory=dict)  # word -> porter stem
    stem_df: dict[str, int] = field(default_factory=dict)  # stem -> passages (upper bound)
    stem_words: dict[str, list[str]] = field(default_factory=dict)  # stem -> all its words
    fuzzy_pool: dict[int, list[str]] = field(default_factory=dict)  # length -> words
    episodes: dict[str, EpisodeInfo] = field(default_factory=dict)
    by_date: list[str] = field(default_factory=list)  # episode ids, newest first
    speakers: dict[str, set[str]] = field(default_factory=dict)  # folded name -> as stored
    speaker_episodes: dict[str, set[str]] = field(default_factory=dict)  # as stored -> episodes
    # Name token (first or last name, folded) -> speakers and guest episodes it may mean.
    name_speakers: dict[str, set[str]] = field(default_factory=dict)
    name_episodes: dict[str, set[str]] = field(default_factory=dict)
    # Word of an episode's id, title or guest names -> those episodes (episode: filters), and
    # the words sorted, for prefix look-ups ("bow" -> bowne).
    episode_words: dict[str, set[str]] = field(default_factory=dict)
    episode_word_list: list[str] = field(default_factory=list)
    guest_word_list: list[str] = field(default_factory=list)
    # Stem -> episodes whose title / topics contain it.
    title_index: dict[str, set[str]] = field(default_factory=dict)
    topic_index: dict[str, set[str]] = field(default_factory=dict)
    # Every chapter of every episode, numbered episode by episode, kept compact (a 10,000 h
    # show has a quarter of a million): its episode, start second and (shared) title.
    chapter_episode: list[str] = field(default_factory=list)
    chapter_start: array = field(default_factory=lambda: array("d"))
    chapter_title_id: array = field(default_factory=lambda: array("I"))
    chapter_titles: list[str] = field(default_factory=list)
    # Stem -> the chapters whose titles contain it.
    chapter_index: dict[str, array] = field(default_factory=dict)
    # Metaphone key -> vocabulary words with that key, built on the first sound-alike look-up.
    _sounds: dict[str, list[str]] | None = field(default=None, repr=False)
    _two: list[str] | None = field(default=None, repr=False)
    _title_stems: dict[int, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def sound_index(self) -> dict[str, list[str]]:
        """Vocabulary words by how they sound (Metaphone), for names captions spell by ear
        ("Marc" heard as "mark", "Andreessen" as "andreon")."""
        if self._sounds is None:
            by_key: dict[str, list[str]] = defaultdict(list)
            for w in self.words:
                if len(w) >= 3 and w.isalpha():
                    by_key[metaphone(w)].append(w)
            self._sounds = dict(by_key)
        return self._sounds

    def two_letter_words(self) -> list[str]:
        if self._two is None:
            self._two = [w for w in self.words if len(w) == 2 and w.isalpha()]
        return self._two

    def episodes_with_word(self, word: str, *, prefix: bool, guests: bool = False) -> set[str]:
        """Episodes whose id, title or guests (or only guests) have ``word`` (or a word
        starting with it)."""
        index = self.name_episodes if guests else self.episode_words
        if not prefix:
            return set(index.get(word, ()))
        keys = self.guest_word_list if guests else self.episode_word_list
        out: set[str] = set()
        for k in range(bisect_left(keys, word), len(keys)):
            if not keys[k].startswith(word):
                break
            out |= index.get(keys[k], set())
        return out

    def chapter_title(self, k: int) -> str:
        return self.chapter_titles[self.chapter_title_id[k]]

    def chapter_stems(self, k: int) -> tuple[str, ...]:
        # Memoised by title: every query that reaches a chapter by its title words asks again.
        title_id = self.chapter_title_id[k]
        got = self._title_stems.get(title_id)
        if got is None:
            title = self.chapter_titles[title_id]
            got = self._title_stems[title_id] = tuple(self.stem.get(w, w) for w in tokens(title))
        return got

    def chapter_span(self, k: int) -> tuple[str, float, float]:
        """Episode, start and end second of chapter ``k`` (the end: the next one's start)."""
        ep = self.chapter_episode[k]
        nxt = k + 1
        end = (
            self.chapter_start[nxt]
            if nxt < len(self.chapter_episode) and self.chapter_episode[nxt] == ep
            else float("inf")
        )
        return ep, self.chapter_start[k], end

    def chapter_at(self, episode_id: str, second: float) -> str | None:
        """The title of the chapter ``second`` falls in, if the episode has chapters."""
        info = self.episodes.get(episode_id)
        if info is None or not info.chapter_count:
            return None
        lo, hi = info.first_chapter, info.first_chapter + info.chapter_count
        k = bisect_right(self.chapter_start, second + 0.5, lo, hi) - 1
        return self.chapter_title(k) if k >= lo else None

    def df(self, stems: tuple[str, ...]) -> int:
        """Passages that may contain all of ``stems`` (the rarest one's count)."""
        if not stems:
            return 0
        return min(self.stem_df.get(s, 0) for s in stems)

    def words_of(self, stem: str) -> list[str]:
        """The vocabulary words with this stem ("deploi" -> deploy, deploying, deployed...)."""
        return self.stem_words.get(stem, [])

    def fuzzy_by_length(self, n: int, spread: int) -> list[str]:
        """Typo-correction candidates no more than ``spread`` letters longer or shorter."""
        out: list[str] = []
        for k in range(max(1, n - spread), n + spread + 1):
            out.extend(self.fuzzy_pool.get(k, ()))
        return out

    async def stems(self, store: Store, words: Iterable[str]) -> dict[str, str]:
        """Stems of ``words``: from the vocabulary, else from SQLite's porter tokenizer."""
        out, missing = {}, []
        for w in words:
            s = self.stem.get(w)
            if s is None:
                missing.append(w)
            else:
                out[w] = s
        if missing:
            found = await porter_stems(store, missing)
            for w in missing:
                s = found.get(w, w)
                out[w] = s
                if len(self.stem) < 2_000_000:
                    self.stem[w] = s
        return out


async def passages_say(store: Store, match: str, spans: list[tuple[int, int]]) -> bool:
    """Whether any passage with an id in one of ``spans`` (each an episode's first and last
    passage id) matches ``match``, an FTS5 expression built from tokens only."""
    if not spans:
        return False
    within = " OR ".join(["rowid BETWEEN ? AND ?"] * len(spans))
    row = await store.fetchone(
        f"SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? AND ({within}) LIMIT 1",  # noqa: S608 - placeholders only
        (match, *(i for span in spans for i in span)),
    )
    return row is not None


def _json_list(text: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()


# Raise when a change to how the cache is built changes what it holds: a cache stored by an
# earlier build (storage/search/snapshot.py) is then rebuilt instead of loaded.
BUILD = 2


def _guest_ids(guests: tuple[str, ...]) -> list[str]:
    """The guests stored as an id, one lower-case word ("larsalbertsson"), not as a name."""
    return [g for g in guests if g.isalnum() and g == g.casefold()]


def _is_name(speaker: str) -> bool:
    # Some sources put paragraph text where the speaker belongs; those are not names.
    return 0 < len(speaker) <= 40 and len(speaker.split()) <= 4


async def build_cache(store: Store, signature: tuple) -> SearchCache:
    """Read what search needs (a few small queries), then assemble it in a worker thread so
    the serving loop keeps answering while a big show's cache is put together."""
    # The reads are independent: the store's pool of readers runs them side by side.
    vocabulary, ranges, avg, speakers, episodes, chapters, people = await asyncio.gather(
        read_search_vocabulary(store, signature),
        store.fetchall(
            "SELECT episode_id, min(id), max(id), count(*) FROM passages GROUP BY episode_id"
        ),
        store.fetchone(
            "SELECT avg(word_end - word_start) FROM (SELECT word_end, word_start"
            " FROM passages LIMIT 50000)"
        ),
        store.fetchall("SELECT episode_id, speaker FROM search_speakers"),
        store.fetchall(
            "SELECT id, title, guests, date, url, topics, season, number, timing FROM episodes"
        ),
        store.fetchall("SELECT episode_id, title, start FROM chapters ORDER BY episode_id, idx"),
        store.fetchall("SELECT name FROM people"),
    )
    if vocabulary is None:  # not persisted yet, or stale: the word index itself
        rows = await store.fetchall("SELECT term, doc FROM search_words_vocab")
        vocabulary = [(r[0], None, r[1]) for r in rows]
    facts = _Facts(
        vocabulary=vocabulary,
        ranges=ranges,
        avg_words=avg[0],
        speakers=speakers,
        episodes=episodes,
        chapters=chapters,
        people=[r[0] for r in people],
    )
    loop = asyncio.get_running_loop()

    def stem(words: list[str]) -> dict[str, str]:
        # From the worker thread: the stemmer is SQLite's, on the loop's connection.
        return asyncio.run_coroutine_threadsafe(porter_stems(store, words), loop).result()

    return await asyncio.to_thread(_assemble, facts, signature, stem)


@dataclass
class _Facts:
    """The rows a cache is made from."""

    vocabulary: list[tuple]  # (word, stem or None, passages)
    ranges: list
    avg_words: float | None
    speakers: list
    episodes: list
    chapters: list
    people: list[str]


def _assemble(facts: _Facts, signature: tuple, stem) -> SearchCache:  # noqa: ANN001
    cache = SearchCache(signature=signature)
    cache.words = {w: n for w, _, n in facts.vocabulary}

    # Per-episode passage id ranges and counts, from the (episode_id, idx) index alone.
    ranges: dict[str, list[int]] = {}
    for ep, lo, hi, n in facts.ranges:
        ranges[ep] = [lo, hi, n]
    cache.passages = sum(r[2] for r in ranges.values())
    cache.avg_words = float(facts.avg_words or 40.0)
    # Speakers and their episodes, from the small table triggers keep (0006_search_speakers).
    speakers: dict[str, set[str]] = defaultdict(set)
    speaker_episodes: dict[str, set[str]] = defaultdict(set)
    # First names heard in each episode, for guests known only by an id ("hugobowneanderson").
    first_names: dict[str, set[str]] = defaultdict(set)
    for ep, speaker in facts.speakers:
        if _is_name(speaker.strip()):
            folded = tokens(speaker)
            speakers[" ".join(folded)].add(speaker)
            speaker_episodes[speaker].add(ep)
            first_names[ep].update(folded[:1])
    cache.speakers = dict(speakers)
    cache.speaker_episodes = dict(speaker_episodes)

    episode_rows = facts.episodes
    # Chapters: numbered in (episode, idx) order, identical titles stored once.
    title_ids: dict[str, int] = {}
    chapter_range: dict[str, list[int]] = {}
    for ep, title, start in facts.chapters:
        k = len(cache.chapter_episode)
        if ep not in chapter_range:
            chapter_range[ep] = [k, 0]
            ep = sys.intern(ep)
        else:
            ep = cache.chapter_episode[chapter_range[ep][0]]
        chapter_range[ep][1] += 1
        cache.chapter_episode.append(ep)
        cache.chapter_start.append(float(start))
        tid = title_ids.setdefault(title, len(title_ids))
        cache.chapter_title_id.append(tid)
    cache.chapter_titles = list(title_ids)
    people = facts.people

    # Stems for the vocabulary (persisted by ingest, else SQLite's stemmer) and every word of
    # titles, topics and chapter titles.
    meta_words: set[str] = set()
    for r in episode_rows:
        meta_words.update(tokens(r["title"]))
        for topic in _json_list(r["topics"]):
            meta_words.update(tokens(topic))
    # Chapter titles are tokenised once, here, for their stems below.
    title_tokens = [tokens(title) for title in cache.chapter_titles]
    for words in title_tokens:
        meta_words.update(words)
    known = {w: s for w, s, _ in facts.vocabulary if s is not None}
    cache.stem = known
    missing = [w for w in cache.words if w not in known]
    missing += [w for w in meta_words if w not in known and w not in cache.words]
    if missing:
        cache.stem.update(stem(missing))
    stem_df: dict[str, int] = defaultdict(int)
    stem_words: dict[str, list[str]] = defaultdict(list)
    for word, df in cache.words.items():
        s = cache.stem.setdefault(word, word)
        stem_df[s] += df
        stem_words[s].append(word)
    cache.stem_df = {s: min(df, cache.passages) for s, df in stem_df.items()}
    cache.stem_words = dict(stem_words)
    pool: dict[int, list[str]] = defaultdict(list)
    for w, df in cache.words.items():
        if df >= FUZZY_MIN_DF and len(w) >= 3 and not w.isdigit() and w not in STOP_WORDS:
            pool[len(w)].append(w)
    cache.fuzzy_pool = dict(pool)

    def stems_of(text: str) -> tuple[str, ...]:
        return tuple(cache.stem.get(w, w) for w in tokens(text))

    name_speakers: dict[str, set[str]] = defaultdict(set)
    name_episodes: dict[str, set[str]] = defaultdict(set)
    for folded, stored in speakers.items():
        for tok in folded.split():
            name_speakers[tok].update(stored)
    title_index: dict[str, set[str]] = defaultdict(set)
    topic_index: dict[str, set[str]] = defaultdict(set)
    episodes: dict[str, EpisodeInfo] = {}
    episode_words: dict[str, set[str]] = defaultdict(set)
    for r in episode_rows:
        ep = r["id"]
        span = ranges.get(ep, [0, -1, 0])
        guests = _json_list(r["guests"])
        guest_tokens = frozenset(t for g in guests for t in tokens(g))
        info = EpisodeInfo(
            id=ep,
            title=r["title"],
            guests=guests,
            date=r["date"],
            url=r["url"],
            topics=_json_list(r["topics"]),
            season=r["season"],
            number=r["number"],
            timing=EpisodeTiming(r["timing"]),
            first_id=span[0],
            last_id=span[1],
            passages=span[2],
            title_stems=stems_of(r["title"]),
            topic_stems=tuple(stems_of(t) for t in _json_list(r["topics"])),
            guest_tokens=guest_tokens,
            first_chapter=chapter_range.get(ep, (0, 0))[0],
            chapter_count=chapter_range.get(ep, (0, 0))[1],
        )
        episodes[ep] = info
        for s in set(info.title_stems):
            title_index[s].add(ep)
        for topic in info.topic_stems:
            for s in topic:
                topic_index[s].add(ep)
        for tok in guest_tokens:
            name_episodes[tok].add(ep)
        for gid in _guest_ids(guests):
            # An episode ingested without the site's profiles: a speaker whose first name
            # starts the guest's id ("Hugo" speaking, guest "hugobowneanderson") is that guest.
            for first in first_names.get(ep, ()):
                if len(first) >= 3 and gid.startswith(first) and len(gid) > len(first):
                    name_episodes[first].add(ep)
        for tok in {*tokens(ep), *tokens(r["title"]), *guest_tokens}:
            episode_words[tok].add(ep)
    for name in people:
        for tok in tokens(name):
            name_episodes.setdefault(tok, set())
    cache.episodes = episodes
    cache.by_date = [
        e.id for e in sorted(episodes.values(), key=lambda e: (e.date or "", e.id), reverse=True)
    ]
    cache.name_speakers = dict(name_speakers)
    cache.name_episodes = dict(name_episodes)
    cache.episode_words = dict(episode_words)
    cache.episode_word_list = sorted(episode_words)
    cache.guest_word_list = sorted(tok for tok, eps in name_episodes.items() if eps)
    cache.title_index = dict(title_index)
    cache.topic_index = dict(topic_index)
    # Stem -> chapters, one pass over the distinct titles then one over the chapters.
    stem_of = cache.stem.get
    title_stems = [tuple(stem_of(w, w) for w in words) for words in title_tokens]
    cache._title_stems = dict(enumerate(title_stems))
    title_stem_sets = [frozenset(t) for t in title_stems]
    chapter_index: dict[str, array] = {}
    for k, tid in enumerate(cache.chapter_title_id):
        for s in title_stem_sets[tid]:
            found = chapter_index.get(s)
            if found is None:
                found = chapter_index[s] = array("I")
            found.append(k)
    cache.chapter_index = chapter_index
    return cache
