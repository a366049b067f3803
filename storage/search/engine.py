"""Search over passages: ranked quotes at the second they start, tolerant of typos and of
speech-recognition errors, honest when nothing matches.

How a query runs:

1. :mod:`storage.search.query` parses it; :mod:`storage.search.plan` turns it into groups of
   alternatives (typos corrected against the index's own vocabulary, split and joined words,
   glossary terms) and resolves filters.
2. SQLite FTS5 finds candidates: every group must match (each group an OR of quoted
   alternatives); when that finds too little, the query is relaxed to its rarer words.
3. Candidates are scored in Python: BM25 over the groups with the alternatives' weights, a
   bonus for matched words close together, boosts when the query matches the episode title,
   topics, chapter title, guest or speaker, and for the query's words said in a row. A word
   only the next passage says counts for less. A passage that covers too little of the query
   is dropped rather than shown as the least-bad junk.
4. Results are diversified: neighbouring passages of one moment collapse, the same text
   published in two episodes shows once, one episode does not take every slot.
5. Each hit gets a quote (:mod:`storage.search.quotes`) with its own start second and deep link.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from storage.catalogue import deep_link
from storage.db import Store
from storage.models import EpisodeTiming, Hit, SearchResult
from storage.search.current import search_cache
from storage.search.glossary import Glossary, active_glossary
from storage.search.index import SearchCache, passages_say
from storage.search.plan import COMMON_SHARE, Alt, Group, Plan, Role, make_plan
from storage.search.query import (
    STOP_WORDS,
    fts_phrase,
    parse_query,
    token_spans,
    tokens,
    with_filters,
)
from storage.search.quotes import make_quote, tidy
from storage.search.smalltalk import smalltalk_weight
from storage.timing import passage_line_starts, passage_word_times

log = logging.getLogger(__name__)

MAX_LIMIT = 50
MAX_OFFSET = 500
# Candidates fetched from the index per query, before scoring in Python.
POOL = 300
# Above this many matches the index does not rank (see _Retriever.run); Python scores the
# newest RECENT_POOL matches instead.
RANK_CAP = 10_000
RECENT_POOL = 300
# Filters down to this many episodes: search each episode whole, no index ranking needed.
FEW_EPISODES = 20
# A named guest's episodes are searched whole too, up to this many.
GUEST_EPISODES = 4
# Passages taken from a chapter whose title says what the query says.
CHAPTER_PASSAGES = 25
# How much a query word counts when only the passage's chapter title, the episode title or
# its topics hold it (a pricing chapter covers "price"), and what share of a text match that
# adds to the score; and the boost for a chapter title that says much of the query.
FIELD_CHAPTER, FIELD_TITLE, FIELD_TOPIC = 0.7, 0.5, 0.4
FIELD_SCORE = 0.5
# ...and when only other passages of the episode say it ("patient questionnaires" in a
# healthcare episode whose patients are named elsewhere), asked only when too little is found.
FIELD_EPISODE = 0.3
# ...and when the passage next to it says it: a sentence that runs on past a passage's end
# (captions cut every few seconds) or an answer to the question just asked.
FIELD_NEIGHBOUR = 0.5
FIELD_BEST = max(FIELD_CHAPTER, FIELD_TITLE, FIELD_TOPIC, FIELD_NEIGHBOUR)
NEAR_EPISODES = 20
LOOSE_SCORE = 0.5
CHAPTER_BOOST = 0.5
# "What did Hugo say about writing?": the named person saying it beats others saying it.
SPEAKER_BOOST = 0.8
# An everyday word in more than this share of passages ("task") needs two context words to
# count as the term it is sometimes mis-heard for (Dask).
COMMON_EVERYDAY = 0.002
# Boost for a passage saying all the query's word pairs in the query's order ("bootleg music").
PAIRS_BOOST = 0.4
# Boost for a passage saying a run of the query's words in a row, stop words and all ("won't
# have all the information" for "not having all the information"): full from RUN_FULL words.
RUN_BOOST = 0.3
RUN_FULL = 5
# A passage must cover this share of the query's weight (rarer words weigh more).
MIN_COVERAGE = 0.6
# BM25 parameters (the usual ones).
K1, B = 1.2, 0.75
# Each further hit from an episode already shown counts this much less (unless named).
EPISODE_DECAY = 0.7
# Passages this short ("Yes, Argo.") make poor quotes.
SHORT_WORDS = 8
# Episodes whose every word has its own time: captions, and edited text aligned to captions.
PRECISE_TIMING = (EpisodeTiming.CAPTIONS_ALIGNED, EpisodeTiming.AS_GIVEN)


@dataclass
class Candidate:
    id: int
    episode_id: str
    idx: int
    start: float
    end: float
    speaker: str | None
    chapter: str | None
    text: str
    score: float = 0.0
    coverage: float = 0.0
    # Stems of the matched alternatives, each with its group's weight (for choosing the quote).
    matched: list[tuple[tuple[str, ...], float]] = field(default_factory=list)
    via: list[str] = field(default_factory=list)
    loose: bool = False  # counts only because its episode says a word elsewhere


_COLUMNS = "p.id, p.episode_id, p.idx, p.start, p.end, p.speaker, p.chapter, p.text"


def _alt_expr(alt: Alt) -> str:
    # Tokens only (letters and digits), each phrase double-quoted: user text never reaches
    # MATCH as syntax. Stop words at the edges of a phrase the member did not quote are left
    # to the Python check, which sees the whole phrase: "a b testing" is looked up as
    # "b testing", sparing the index a walk through every passage that says "a". A quoted
    # phrase is looked up whole: "who tests what" is a rare phrase around a common word (the
    # passages saying "tests" alone are too many to rank), and -"the argo" must leave out
    # only the passages saying the phrase, not every passage that says "argo".
    words = list(alt.words)
    if alt.quoted or all(w in STOP_WORDS for w in words):
        return fts_phrase(" ".join(words))  # "to be or not to be": only the phrase says it
    while len(words) > 1 and words[0] in STOP_WORDS:
        words.pop(0)
    while len(words) > 1 and words[-1] in STOP_WORDS:
        words.pop()
    return fts_phrase(" ".join(words))


def group_expr(group: Group) -> str | None:
    """A group as an FTS5 expression: its alternatives OR-ed; an everyday-word alternative
    only together with one of the group's context words."""
    parts = [_alt_expr(a) for a in group.alts if not a.ambiguous]
    ambiguous = [a for a in group.alts if a.ambiguous]
    if ambiguous and group.context_words:
        ctx = " OR ".join(dict.fromkeys(fts_phrase(" ".join(c)) for c in group.context_words))
        amb = " OR ".join(_alt_expr(a) for a in ambiguous)
        parts.append(f"(({amb}) AND ({ctx}))")
    if not parts:
        return None
    return "(" + " OR ".join(parts) + ")"


# ---------------------------------------------------------------------------- retrieval


class _Retriever:
    def __init__(self, store: Store, cache: SearchCache, plan: Plan):
        self.store, self.cache, self.plan = store, cache, plan
        self.found: dict[int, Candidate] = {}

    def _filters(self) -> tuple[str, list]:
        sql, params = "", []
        allowed = self.plan.allowed
        if allowed is not None:
            if len(allowed) == 1:
                ep = self.cache.episodes.get(next(iter(allowed)))
                if ep is not None:
                    sql += " AND passages_fts.rowid BETWEEN ? AND ?"
                    params += [ep.first_id, ep.last_id]
            sql += " AND p.episode_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(allowed)))
        if self.plan.speakers is not None:
            sql += " AND p.speaker IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(self.plan.speakers)))
        return sql, params

    def _exclusion(self) -> str:
        if not self.plan.exclude:
            return ""
        return " NOT (" + " OR ".join(_alt_expr(a) for a in self.plan.exclude) + ")"

    async def count(self, match: str, rowids: tuple[int, int] | None, cap: int) -> int:
        """Matches of ``match``, counted up to ``cap`` (cheap: no ranking)."""
        where, params = "", []
        if rowids is not None:
            where, params = " AND rowid BETWEEN ? AND ?", list(rowids)
        row = await self.store.fetchone(
            "SELECT count(*) FROM (SELECT rowid FROM passages_fts"  # noqa: S608
            f" WHERE passages_fts MATCH ?{where} LIMIT ?)",
            (match, *params, cap),
        )
        return row[0]

    async def run(
        self, expr: str, limit: int, *, rowids: tuple[int, int] | None = None, ranked: bool = True
    ) -> int:
        """Add the best ``limit`` passages matching ``expr`` (plus filters); return how many.

        BM25 costs about a microsecond per matching passage, so a query matching more than
        ``RANK_CAP`` passages (a very common word over thousands of hours) is not ranked by
        the index: the newest ``RECENT_POOL`` matches go to the Python scorer instead.
        ``ranked=False`` skips BM25 altogether, for looking inside a few episodes where
        Python scores everything there is.
        """
        match = expr + self._exclusion()
        where, params = self._filters()
        if rowids is not None:
            where += " AND passages_fts.rowid BETWEEN ? AND ?"
            params += list(rowids)
        rank, order = "0.0", ""
        try:
            if ranked:
                if await self.count(match, rowids, RANK_CAP + 1) <= RANK_CAP:
                    rank, order = "bm25(passages_fts)", " ORDER BY r"
                else:
                    order = " ORDER BY passages_fts.rowid DESC"
                    limit = max(limit, RECENT_POOL)
            filtered = self.plan.allowed is not None or self.plan.speakers is not None
            if filtered:
                sql = (
                    f"SELECT {_COLUMNS}, {rank} AS r"  # noqa: S608 - constant SQL parts
                    " FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid"
                    f" WHERE passages_fts MATCH ?{where}{order} LIMIT ?"
                )
            else:
                # Rank and cut in the index first, then read only the passages kept: a join
                # before the ORDER BY would read every matching passage from the table.
                sql = (
                    f"SELECT {_COLUMNS}, f.r FROM (SELECT passages_fts.rowid AS id,"  # noqa: S608
                    f" {rank} AS r FROM passages_fts WHERE passages_fts MATCH ?{where}{order}"
                    " LIMIT ?) f JOIN passages p ON p.id = f.id"
                )
            rows = await self.store.fetchall(sql, (match, *params, limit))
        except sqlite3.OperationalError as exc:
            # Cannot come from user text (it is always quoted); log it, answer honestly.
            log.warning("search expression failed: %s (%s)", exc, match[:200])
            return 0
        self._keep(rows)
        return len(rows)

    def _keep(self, rows: list) -> None:
        # An episode ingested since the cache was built waits for the rebuild (a moment).
        for r in rows:
            if r[0] not in self.found and r[1] in self.cache.episodes:
                self.found[r[0]] = Candidate(*tuple(r)[:8])

    async def add_passages(
        self, episode_id: str, start: float, count: int, *, before: float = float("inf")
    ) -> None:
        """Add an episode's first ``count`` passages from ``start`` (and before ``before``)."""
        await self.add_spans([(episode_id, start, before)], count)

    async def add_spans(self, spans: list[tuple[str, float, float]], count: int) -> None:
        """Add the first ``count`` passages of each (episode, from, to) span, in one query."""
        if not spans:
            return
        where, extra = "", []
        if self.plan.speakers is not None:
            where = " AND p.speaker IN (SELECT value FROM json_each(?))"
            extra = [json.dumps(sorted(self.plan.speakers))]
        one = (
            f"SELECT * FROM (SELECT {_COLUMNS} FROM passages p"  # noqa: S608 - constant parts
            " WHERE p.episode_id = ? AND p.end > ? AND p.start < ?"
            f" AND p.word_end - p.word_start >= ?{where} ORDER BY p.idx LIMIT ?)"
        )
        params: list = []
        for episode_id, start, before in spans:
            params += [episode_id, start, min(before, 1e12), SHORT_WORDS, *extra, count]
        rows = await self.store.fetchall(" UNION ALL ".join([one] * len(spans)), params)
        self._keep(rows)


async def _episodes_saying(
    store: Store, cache: SearchCache, group: Group, episodes: set[str]
) -> set[str]:
    """Which of ``episodes`` say the group's term unambiguously somewhere: in the title, a
    chapter title or any passage. Evidence that an everyday word there means the term."""
    plain = [a for a in group.alts if not a.ambiguous]
    out, ask = set(), []
    for ep in sorted(episodes):
        info = cache.episodes[ep]
        seqs = (info.title_stems, *(cache.chapter_stems(k) for k in info.chapters))
        if any(_has_run(seq, a.stems) for a in plain for seq in seqs):
            out.add(ep)
        else:
            ask.append(ep)
    if not plain or not ask:
        return out
    match = " OR ".join(_alt_expr(a) for a in plain)
    try:
        if len(ask) <= 8:
            for ep in ask:
                info = cache.episodes[ep]
                if await passages_say(store, match, [(info.first_id, info.last_id)]):
                    out.add(ep)
        else:
            rows = await store.fetchall(
                "SELECT DISTINCT p.episode_id FROM passages_fts"
                " JOIN passages p ON p.id = passages_fts.rowid WHERE passages_fts MATCH ?"
                " AND p.episode_id IN (SELECT value FROM json_each(?))",
                (match, json.dumps(ask)),
            )
            out |= {r[0] for r in rows}
    except sqlite3.OperationalError as exc:
        log.warning("evidence query failed: %s", exc)
    return out


# ---------------------------------------------------------------------------- scoring


def _positions(stems: list[str]) -> dict[str, list[int]]:
    pos: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(stems):
        pos[s].append(i)
    return pos


def _occurrences(
    alt_stems: tuple[str, ...], stems: list[str], pos: dict[str, list[int]]
) -> list[int]:
    first = pos.get(alt_stems[0])
    if not first:
        return []
    if len(alt_stems) == 1:
        return first
    k = len(alt_stems)
    return [i for i in first if tuple(stems[i : i + k]) == alt_stems]


def _has_run(seq: tuple[str, ...], run: tuple[str, ...]) -> bool:
    k = len(run)
    return any(seq[i : i + k] == run for i in range(len(seq) - k + 1))


def _groups_in(groups: list[Group], seq: tuple[str, ...]) -> dict[int, float]:
    """Groups (by index) that a title's stems hold, with the best alternative's weight."""
    have = set(seq)
    out: dict[int, float] = {}
    for gi, g in enumerate(groups):
        for a in g.alts:
            if a.ambiguous or not a.stems or not all(s in have for s in a.stems):
                continue
            if len(a.stems) == 1 or _has_run(seq, a.stems):
                out[gi] = max(out.get(gi, 0.0), a.weight)
    return out


# A word in more titles than this is too common to find a title by; past this many candidate
# titles, stop looking.
META_POSTINGS = 2_000
META_CANDIDATES = 6_000


@dataclass
class _GroupMatch:
    """How one passage text matches one group: plain alternatives, and everyday-word ones."""

    weight: float = 0.0
    tf: int = 0
    positions: list[int] = field(default_factory=list)
    via: str | None = None
    alts: list[tuple[str, ...]] = field(default_factory=list)
    amb_weight: float = 0.0
    amb_tf: int = 0
    amb_positions: list[int] = field(default_factory=list)
    amb_via: str | None = None
    amb_alts: list[tuple[str, ...]] = field(default_factory=list)
    context: int = 0  # distinct context words in the passage
    amb_common: bool = False  # a matched everyday word is common in the transcripts


@dataclass
class _TextMatch:
    length: int
    groups: list[_GroupMatch | None]
    excluded: bool = False  # says a word the query excludes (-word)
    pairs: float = 0.0  # weight of the query's word pairs said in the same order
    career: bool = False  # tells a career story ("I started...", "my background")
    # A run of query words said in a row, as a share of RUN_BOOST: worked out (from the
    # words) only for a passage that covers enough of the query to be scored.
    run: float | None = None
    words: list[str] = field(default_factory=list)
    # Required groups (by index) said plainly, with their weights: for the passages beside it.
    plain: list[tuple[int, float]] | None = None


class _Scorer:
    """Scores candidates. What depends only on a passage's text is computed once per distinct
    text (a republished episode repeats passages); episode-level boosts are added per hit."""

    def __init__(self, cache: SearchCache, plan: Plan):
        self.cache, self.plan = cache, plan
        self.required = plan.required
        self.scored_groups = [g for g in plan.groups if g.role != Role.NAME or not self.required]
        # Where each scored group stands among the required ones: an optional word ("say")
        # before a required one shifts the two lists apart.
        by_id = {id(g): ri for ri, g in enumerate(self.required)}
        self.required_at = [by_id.get(id(g)) for g in self.scored_groups]
        scored_at = {id(g): si for si, g in enumerate(self.scored_groups)}
        self.scored_at = [scored_at[id(g)] for g in self.required]
        # The episodes the member chose: a filter's few, a named guest's.
        few = plan.allowed is not None and len(plan.allowed) <= FEW_EPISODES
        self.chosen = (set(plan.allowed or ()) if few else set()) | named_guest_episodes(plan)
        # The candidates by place (episode, passage number): a passage's neighbours among them.
        self.places: dict[tuple[str, int], Candidate] = {}
        self.meta_groups = self.required or plan.groups
        self.total = sum(g.idf for g in self.meta_groups) or 1.0
        # Episodes whose title / topics hold any of the query's stems: the others hold no
        # group, without looking (a relaxed query brings candidates from hundreds of episodes).
        meta_stems = {
            s for g in self.meta_groups for a in g.alts if not a.ambiguous for s in a.stems
        }
        self.title_eps: set[str] = set()
        self.topic_eps: set[str] = set()
        for stem in meta_stems:
            self.title_eps |= cache.title_index.get(stem, set())
            self.topic_eps |= cache.topic_index.get(stem, set())
        self.names = [g for g in plan.groups if g.role == Role.NAME]
        # Surface words worth looking at: those whose stem starts an alternative or context.
        firsts = {a.stems[0] for g in self.scored_groups for a in g.alts if a.stems}
        firsts |= {c[0] for g in self.scored_groups for c in g.context if c}
        firsts |= {c[0] for c in plan.career if c}
        firsts |= {a.stems[0] for a in plan.exclude if a.stems}
        firsts |= {a.words[0] for g in self.scored_groups for a in g.alts if a.ambiguous}
        # The words as typed too: a word newer than the cache (an ingest it has not caught up
        # with yet) has no entry in words_of(), but its stem is known (plan stemmed it).
        typed = {a.words[0] for g in self.scored_groups for a in g.alts if a.words}
        self.wanted = {w for s in firsts for w in cache.words_of(s)} | firsts | typed
        # Word pairs as typed ("get into", "bootleg music"): passages that say them in the
        # same order read like what the member remembers.
        seq = plan.sequence
        self.pairs = {
            (seq[i], seq[i + 1]): (
                0.5 if seq[i] in STOP_WORDS and seq[i + 1] in STOP_WORDS else 1.0
            )
            for i in range(len(seq) - 1)
        }
        self.seq_words = set(seq)
        self.seq_stems = plan.sequence_stems
        self.seq_at: dict[str, list[int]] = defaultdict(list)
        for j, st in enumerate(self.seq_stems):
            self.seq_at[st].append(j)
        # What each typed word weighs: its required group's share of the query's weight.
        typed_weight: dict[str, float] = {}
        for g in self.required:
            typed = g.alts[0].words if g.alts else ()
            for w in typed:
                typed_weight[w] = g.idf / len(typed) / self.total
        self.seq_weight = [typed_weight.get(w, 0.0) for w in seq]
        self.seq_glue = [w in STOP_WORDS for w in seq]
        self.pair_total = sum(self.pairs.values())
        self.text_cache: dict[str, _TextMatch] = {}
        self.chapter_cache: dict[str | None, dict[int, float]] = {}
        self.career_memo: dict[str, bool] = {}
        # (group index, episode) pairs where evidence would decide an everyday-word match.
        self.pending: set[tuple[int, str]] = set()
        self.evidence: dict[int, set[str]] = {}
        # (required group index, episode) pairs where the episode saying the word elsewhere
        # would let a passage that lacks it count; and, once asked, which episodes do.
        self.near: set[tuple[int, str]] = set()
        self.episode_says: dict[int, set[str]] | None = None
        self.near_ids: set[int] = set()
        # A number ("argo 5") is never taken as said by the episode: every episode says one.
        self.numbers = [all(w.isdigit() for a in g.alts for w in a.words) for g in plan.required]
        # Which query groups each episode's title and topics hold, worked out per episode
        # when a candidate from it comes up.
        self.title_memo: dict[str, dict[int, float]] = {}
        self.topic_memo: dict[str, dict[int, float]] = {}

    def fraction(self, matched: dict[int, float] | None) -> float:
        """Share of the query's weight that ``matched`` groups carry."""
        if not matched:
            return 0.0
        got = sum(self.meta_groups[gi].idf * w for gi, w in matched.items())
        return min(1.0, got / self.total)

    def title_groups(self, episode_id: str) -> dict[int, float]:
        if episode_id not in self.title_eps:
            return {}
        got = self.title_memo.get(episode_id)
        if got is None:
            info = self.cache.episodes[episode_id]
            got = self.title_memo[episode_id] = _groups_in(self.meta_groups, info.title_stems)
        return got

    def topic_groups(self, episode_id: str) -> dict[int, float]:
        if episode_id not in self.topic_eps:
            return {}
        got = self.topic_memo.get(episode_id)
        if got is None:
            got = {}
            for topic in self.cache.episodes[episode_id].topic_stems:
                for gi, w in _groups_in(self.meta_groups, topic).items():
                    got[gi] = max(got.get(gi, 0.0), w)
            self.topic_memo[episode_id] = got
        return got

    def _candidates(self, index: dict, threshold: float) -> set:
        """Keys of a stem index (episodes, chapters) whose titles may hold ``threshold`` of
        the query's weight. Such a title must hold one of the rarest groups (those without
        which the rest weigh less than the threshold), so only their postings are read."""
        groups = sorted(self.meta_groups, key=lambda g: -g.idf)
        needed, rest = [], sum(g.idf for g in groups)
        for g in groups:
            if rest < threshold * self.total:
                break
            needed.append(g)
            rest -= g.idf
        keys: set = set()
        for g in needed:
            for a in g.alts:
                if a.ambiguous or not a.stems:
                    continue
                postings = [index.get(s) for s in a.stems]
                if not all(postings):
                    continue
                rarest = min(postings, key=len)
                if len(rarest) <= META_POSTINGS:
                    keys.update(rarest)
                if len(keys) > META_CANDIDATES:
                    return keys
        return keys

    def top_meta_episodes(self, k: int = 3) -> list[str]:
        scored = {
            e: self.fraction(self.title_groups(e))
            for e in self._candidates(self.cache.title_index, 0.6)
        }
        good = sorted((e for e in scored if scored[e] >= 0.6), key=lambda e: (-scored[e], e))
        # Topics only break ties among the best titles.
        best = good[: 4 * k]
        best.sort(key=lambda e: (-(scored[e] + 0.5 * self.fraction(self.topic_groups(e))), e))
        return best[:k]

    def top_chapters(self, k: int = 6) -> list[int]:
        """Chapters whose titles say most of the query ("Pricing Models: Hourly Rates...")."""
        cache = self.cache
        scored = {
            key: self.fraction(_groups_in(self.meta_groups, cache.chapter_stems(key)))
            for key in self._candidates(cache.chapter_index, 0.5)
        }
        good = [key for key, f in scored.items() if f >= 0.5]
        episode = cache.chapter_episode
        good.sort(
            key=lambda key: (
                scored[key] + 0.3 * self.fraction(self.title_groups(episode[key])),
                key,
            ),
            reverse=True,
        )
        return good[:k]

    def _chapter_is_career(self, title: str | None) -> bool:
        if not title:
            return False
        got = self.career_memo.get(title)
        if got is None:
            stems = tuple(self.cache.stem.get(w, w) for w in tokens(title))
            got = self.career_memo[title] = any(_has_run(stems, c) for c in self.plan.career if c)
        return got

    def _chapter_groups(self, title: str | None) -> dict[int, float]:
        got = self.chapter_cache.get(title)
        if got is None:
            stems = tuple(self.cache.stem.get(w, w) for w in tokens(title)) if title else ()
            got = _groups_in(self.meta_groups, stems)
            self.chapter_cache[title] = got
        return got

    def _match_text(self, text: str) -> _TextMatch:
        found = self.text_cache.get(text)
        if found is not None:
            return found
        words = tokens(text)
        stem, wanted = self.cache.stem, self.wanted
        pos: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(words):
            if w in wanted:
                pos[stem.get(w, w)].append(i)

        def occurrences(seq: tuple[str, ...]) -> list[int]:
            first = pos.get(seq[0])
            if not first or len(seq) == 1:
                return first or []
            k = len(seq)
            return [
                i
                for i in first
                if i + k <= len(words)
                and all(stem.get(words[i + j], words[i + j]) == seq[j] for j in range(1, k))
            ]

        matches: list[_GroupMatch | None] = []
        for g in self.scored_groups:
            m = _GroupMatch()
            for a in g.alts:
                if a.ambiguous:
                    # An everyday word must be said as such ("deployer", not "deploying").
                    said = a.words[0]
                    occ = [i for i, w in enumerate(words) if w == said or w == said + "s"]
                else:
                    occ = occurrences(a.stems)
                if not occ:
                    continue
                if a.ambiguous:
                    m.amb_common |= self.cache.words.get(a.words[0], 0) > max(
                        20, COMMON_EVERYDAY * self.cache.passages
                    )
                    m.amb_tf += len(occ)
                    m.amb_positions += occ
                    m.amb_alts.append(a.stems)
                    if a.weight > m.amb_weight:
                        m.amb_weight, m.amb_via = a.weight, a.via
                else:
                    m.tf += len(occ)
                    m.positions += occ
                    m.alts.append(a.stems)
                    if a.weight > m.weight:
                        m.weight, m.via = a.weight, a.via
            if m.amb_tf:
                m.context = sum(1 for ctx in g.context if occurrences(ctx))
            matches.append(m if (m.tf or m.amb_tf) else None)
        found = _TextMatch(len(words), matches)
        found.excluded = any(occurrences(a.stems) for a in self.plan.exclude if a.stems)
        if self.pairs:
            seen = {
                (words[i], words[i + 1])
                for i in range(len(words) - 1)
                if words[i] in self.seq_words and (words[i], words[i + 1]) in self.pairs
            }
            found.pairs = sum(self.pairs[p] for p in seen)
        if self.plan.career:
            found.career = any(occurrences(c) for c in self.plan.career if c)
        found.words = words
        self.text_cache[text] = found
        return found

    def _run(self, tm: _TextMatch) -> float:
        if tm.run is None:
            tm.run = 0.0
            if len(self.seq_stems) >= 3:
                starts = {
                    p
                    for gi, m in enumerate(tm.groups)
                    if m is not None and self.required_at[gi] is not None
                    for p in m.positions
                }
                tm.run = self._longest_run(tm.words, starts)
        return tm.run

    def _longest_run(self, words: list[str], starts: set[int]) -> float:
        """Query words said in a row, in the query's order, through a required word at
        ``starts``: counting fully from RUN_FULL words on, and by the share of the query's
        weight the run carries ("a data science job description" says little of "red flags
        in a data science job description"). Only a run held together by small words
        counts: content words side by side already score as close together."""
        seq, best = self.seq_stems, 0.0

        def stem(k: int) -> str:
            return self.cache.stem.get(words[k], words[k])

        for i in starts:
            for j in self.seq_at.get(stem(i), ()):
                a = 0
                while a < min(i, j) and stem(i - a - 1) == seq[j - a - 1]:
                    a += 1
                b = 0
                while (
                    b < min(len(words) - i, len(seq) - j) - 1 and stem(i + b + 1) == seq[j + b + 1]
                ):
                    b += 1
                length = a + b + 1
                if length >= 3 and any(self.seq_glue[j - a : j + b + 1]):
                    share = sum(self.seq_weight[j - a : j + b + 1])
                    best = max(best, min(1.0, (length - 2) / (RUN_FULL - 2)) * min(1.0, share))
        return best

    def score(self, c: Candidate) -> bool:
        """Score a candidate in place; False when it covers too little of the query."""
        tm = self._match_text(c.text)
        if tm.excluded:
            return False
        norm = K1 * (1 - B + B * (tm.length or 1) / max(self.cache.avg_words, 1.0))
        text_score = covered = 0.0
        hit_positions: list[list[int]] = []
        in_text: set[int] = set()
        c.matched, c.via = [], []
        for gi, (g, m) in enumerate(zip(self.scored_groups, tm.groups, strict=True)):
            if m is None:
                continue
            weight, tf, positions, via = m.weight, m.tf, m.positions, m.via
            if m.amb_tf and self._context_ok(gi, m, c.episode_id):
                tf += m.amb_tf
                positions = positions + m.amb_positions
                c.matched += [(a, g.idf) for a in m.amb_alts]
                if m.amb_weight > weight:
                    weight, via = m.amb_weight, m.amb_via
            if not tf:
                continue
            c.matched += [(a, g.idf) for a in m.alts]
            tfn = tf * (K1 + 1) / (tf + norm)
            factor = 1.0 if g.role == Role.REQUIRED else 0.5
            text_score += factor * g.idf * weight * tfn
            if g.role == Role.REQUIRED:
                in_text.add(self.required_at[gi])
                covered += g.idf * min(weight / 0.9, 1.0)
            if via and g.role != Role.NAME:
                c.via.append(via)
            hit_positions.append(sorted(positions))
        if self.required:
            # Cheap bound first: even if every word it lacks were in its chapter's title, the
            # passage would cover too little (most candidates of a relaxed query stop here).
            lacking = sum(g.idf for gi, g in enumerate(self.required) if gi not in in_text)
            if (covered + FIELD_BEST * lacking) / self.total < MIN_COVERAGE:
                return False
        c.chapter = c.chapter or self.cache.chapter_at(c.episode_id, c.start)
        chapter = self._chapter_groups(c.chapter)
        title = self.title_groups(c.episode_id)
        topic = self.topic_groups(c.episode_id)
        if self.required:
            # A word the passage lacks still counts, for less, when the passage sits under a
            # chapter (or in an episode) titled with it: "pricing" covers a pricing chapter.
            missing, c.loose = [], False
            beside: dict[int, float] | None = None
            for gi, g in enumerate(self.required):
                if gi in in_text:
                    continue
                if beside is None:
                    ep, places = c.episode_id, self.places
                    near = (ep, c.idx - 1) in places or (ep, c.idx + 1) in places
                    beside = self._neighbours_say(c) if near else {}
                field = max(
                    FIELD_CHAPTER * chapter.get(gi, 0.0),
                    FIELD_TITLE * title.get(gi, 0.0),
                    FIELD_TOPIC * topic.get(gi, 0.0),
                    FIELD_NEIGHBOUR * beside.get(gi, 0.0),
                )
                if self.episode_says is not None and c.episode_id in self.episode_says.get(gi, ()):
                    # It lets the passage count, not rank above those that say it.
                    covered += g.idf * max(0.0, FIELD_EPISODE - field)
                    c.loose = True
                elif field < FIELD_EPISODE and not self.numbers[gi]:
                    missing.append(gi)
                covered += g.idf * field
                # ...and adds to the score as if said once, at that field's weight.
                text_score += FIELD_SCORE * g.idf * field
            c.coverage = covered / self.total
            if c.coverage < MIN_COVERAGE and text_score and self.episode_says is None:
                more = sum(self.required[gi].idf * FIELD_EPISODE for gi in missing)
                if (covered + more) / self.total >= MIN_COVERAGE:
                    self.near.update((gi, c.episode_id) for gi in missing)
                    self.near_ids.add(c.id)
        else:
            # Only names were asked for: their episodes and their words both answer.
            person = any(
                c.episode_id in g.guest_episodes or (c.speaker and c.speaker in g.speakers)
                for g in self.names
            )
            c.coverage = 1.0 if (text_score or person) else 0.0
        if c.coverage < MIN_COVERAGE or not (text_score or not self.required):
            return False
        if len(hit_positions) >= 2:
            window = _min_window(hit_positions)
            if window <= len(hit_positions) + 1:
                text_score *= 1.3
            elif window <= 10:
                text_score *= 1.12
        boost = 0.0
        # With nothing but names, being that person's episode is what matters most.
        scale = 1.0 if self.required else 2.5
        for g in self.names:
            if c.speaker and c.speaker in g.speakers:
                boost += SPEAKER_BOOST * scale
            if c.episode_id in g.guest_episodes:
                boost += 0.4 * scale
        intent = 2.0 if self.plan.episode_intent else 1.0
        boost += 0.3 * intent * self.fraction(title)
        boost += 0.15 * intent * self.fraction(topic)
        boost += CHAPTER_BOOST * self.fraction(chapter)
        if self.pair_total:
            boost += PAIRS_BOOST * tm.pairs / self.pair_total
        boost += RUN_BOOST * self._run(tm)
        if self.plan.career:
            boost += 0.2 * tm.career + 0.2 * self._chapter_is_career(c.chapter)
        c.score = (text_score / self.total + boost) * (LOOSE_SCORE if c.loose else 1.0)
        c.score *= smalltalk_weight(self.plan, self.cache, c.text, c.episode_id, c.speaker)
        if tm.length < SHORT_WORDS:
            c.score *= 0.6
        return True

    def _neighbours_say(self, c: Candidate) -> dict[int, float]:
        """Required groups (by index) that a passage next to ``c`` (among the candidates)
        says plainly, with the weight it says them with."""
        out: dict[int, float] = {}
        for idx in (c.idx - 1, c.idx + 1):
            other = self.places.get((c.episode_id, idx))
            if other is None:
                continue
            tm = self._match_text(other.text)
            if tm.plain is None:
                tm.plain = [
                    (gi, min(m.weight / 0.9, 1.0))
                    for gi, m in enumerate(tm.groups[si] for si in self.scored_at)
                    if m is not None and m.tf
                ]
            for gi, w in tm.plain:
                if w > out.get(gi, 0.0):
                    out[gi] = w
        return out

    def _context_ok(self, gi: int, m: _GroupMatch, episode_id: str) -> bool:
        """An everyday word counts for the term when the passage has two of its context
        words, or one and the episode says the term plainly elsewhere; a word as common as
        "task" needs both two context words and that evidence. In the few episodes the
        member chose (a filter, a named guest), the evidence alone is enough: there "dusk"
        in an episode that says Dask is the captions mis-hearing it."""
        if m.context < 2 and m.amb_common:
            return False
        if m.context == 0 and episode_id not in self.chosen:
            return False
        if m.context >= 2 and not m.amb_common:
            return True
        known = self.evidence.get(gi)
        if known is None or episode_id not in known:
            if known is None:
                self.pending.add((gi, episode_id))
            return False
        return True


def _min_window(lists: list[list[int]]) -> int:
    """Smallest span of positions holding one entry from every list."""
    events = sorted((p, k) for k, ps in enumerate(lists) for p in ps)
    need, have, counts = len(lists), 0, defaultdict(int)
    best, left = 1 << 30, 0
    for p, k in events:
        if counts[k] == 0:
            have += 1
        counts[k] += 1
        while have == need:
            best = min(best, p - events[left][0] + 1)
            lk = events[left][1]
            counts[lk] -= 1
            if counts[lk] == 0:
                have -= 1
            left += 1
    return best


# ---------------------------------------------------------------------------- diversity


def _diversify(cands: list[Candidate], plan: Plan, want: int) -> list[Candidate]:
    """Best first, with neighbours of one moment and republished copies collapsed and each
    further hit from an episode discounted (unless the query names that episode)."""
    pool = sorted(cands, key=lambda c: (-c.score, c.episode_id, c.idx))
    chosen: list[Candidate] = []
    per_episode: dict[str, list[int]] = defaultdict(list)
    seen_text: set[str] = set()
    while pool and len(chosen) < want:
        best_i, best_s = -1, -1.0
        for i, c in enumerate(pool[: want * 8 + 20]):
            k = len(per_episode[c.episode_id])
            s = c.score if c.episode_id in plan.named else c.score * EPISODE_DECAY**k
            if s > best_s:
                best_i, best_s = i, s
        c = pool.pop(best_i)
        if any(abs(c.idx - j) <= 1 for j in per_episode[c.episode_id]):
            continue
        key = " ".join(tokens(c.text))
        if len(key) > 40 and key in seen_text:
            continue
        seen_text.add(key)
        per_episode[c.episode_id].append(c.idx)
        chosen.append(c)
    return chosen


# ---------------------------------------------------------------------------- entry point


async def search(
    store: Store,
    query: str,
    *,
    limit: int = 3,
    offset: int = 0,
    glossary: Glossary | None = None,
    guest: str | None = None,
    episode: str | None = None,
    after: str | None = None,
    before: str | None = None,
) -> SearchResult:
    """Passages matching ``query``, best first, as quotes with deep links.

    Never raises for anything a user types: the worst case is an empty result, with a
    ``suggestion`` ("did you mean") when a close word exists and ``notices`` saying why.

    Args:
        store: an open store.
        query: what the member typed: words, "quoted phrases", -exclusions and filters
            (guest:, speaker:, episode:, after:, before:).
        limit: hits per page (at most 50).
        offset: hits to skip (for "more").
        glossary: terms and their mis-hearings; default the built-in glossary plus the file
            at ``GLOSSARY_PATH``.
        guest, episode, after, before: filters as data (a form's choices: a guest's name, an
            episode id, ``YYYY-MM-DD`` dates, inclusive), combined with any typed in ``query``;
            never pasted into the query text.

    Example:
        >>> result = await search(store, "argo scheduler", limit=3)  # doctest: +SKIP
        >>> result.hits[0].url                                        # doctest: +SKIP
        'https://www.youtube.com/watch?v=z7BvslwVRbQ&t=862s'
    """
    text = query if isinstance(query, str) else ""
    try:
        limit = max(0, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
    except (TypeError, ValueError):
        limit, offset = 3, 0
    if offset > MAX_OFFSET:  # past the last page (an old button, a hand-made --offset): no hits
        limit = 0
    # Paging stops at MAX_OFFSET: no "more" once the next page would start past it.
    last_page = offset + limit >= MAX_OFFSET
    parsed = parse_query(text)
    if guest or episode or after or before:
        parsed = with_filters(parsed, guest=guest, episode=episode, after=after, before=before)
    cache = await search_cache(store)
    glossary = glossary or active_glossary()
    plan = await make_plan(store, cache, glossary, parsed)
    notices = tuple(plan.notices)
    if plan.nothing or limit == 0 or not cache.passages:
        return SearchResult(text, (), None, False, notices)
    if not plan.groups:
        if not parsed.filters.any:
            return SearchResult(text, (), None, False, notices)
        hits, more = await _listing(store, cache, plan, limit, offset)
        return SearchResult(text, tuple(hits), None, more and not last_page, notices)

    ranked = await _ranked(store, cache, plan, offset + limit + 1)
    page = ranked[offset : offset + limit]
    hits = await _hits(store, cache, page)
    if ranked:
        # Results came partly through corrected words: say which words were used.
        suggestion = plan.suggestion(text) if plan.corrected else None
    else:
        suggestion = await _useful_suggestion(store, cache, glossary, plan, text)
    more = len(ranked) > offset + limit and not last_page
    return SearchResult(text, hits, suggestion, more, notices)


async def _useful_suggestion(
    store: Store, cache: SearchCache, glossary: Glossary, plan: Plan, text: str
) -> str | None:
    """A "did you mean" for an empty result, offered only if it would find something."""
    suggestion = plan.suggestion(text)
    if not suggestion or suggestion == text:
        return None
    other = await make_plan(store, cache, glossary, parse_query(suggestion))
    if other.nothing or not other.groups:
        return None
    return suggestion if await _ranked(store, cache, other, 1) else None


def named_guest_episodes(plan: Plan) -> set[str]:
    """The episodes of the guest a query names ("What did Mariano Semelman say..."): those
    every name word of it points to, when they are few (a first name many guests share
    points to too many to look through whole)."""
    named = [g.guest_episodes for g in plan.groups if g.role == Role.NAME and g.guest_episodes]
    if not named:
        return set()
    eps = set(named[0]).intersection(*named[1:])
    if plan.allowed is not None:
        eps &= plan.allowed
    return eps if len(eps) <= GUEST_EPISODES else set()


async def _ranked(store: Store, cache: SearchCache, plan: Plan, want: int) -> list[Candidate]:
    retriever = _Retriever(store, cache, plan)
    required = plan.required
    pool = max(POOL, want * 6)
    exprs = [e for e in (group_expr(g) for g in required) if e]
    few = plan.allowed is not None and len(plan.allowed) <= FEW_EPISODES
    if few and plan.groups:
        # A guest, an episode or a speaker chosen: look through those episodes whole.
        ors = " OR ".join(e for e in (group_expr(g) for g in plan.groups) if e)
        for ep in sorted(plan.allowed or ()):
            info = cache.episodes[ep]
            if ors:
                await retriever.run(ors, POOL, rowids=(info.first_id, info.last_id), ranked=False)
    elif exprs:
        got = await retriever.run(" AND ".join(exprs), pool)
        if got < max(want * 3, 30) and len(exprs) > 1:
            n = max(cache.passages, 1)
            rare = [
                group_expr(g) for g in required if g.df <= COMMON_SHARE * n and group_expr(g)
            ] or exprs
            await retriever.run(" OR ".join(rare), pool)
    elif plan.groups:
        ors = [e for e in (group_expr(g) for g in plan.groups) if e]
        if ors:
            await retriever.run(" OR ".join(ors), pool)
    if not few and required:
        # "How heavy is Sofya's sensor?": the guest's episodes are looked through whole, so
        # the answer competes even when the index ranks it below a pool of other episodes.
        ors = " OR ".join(e for e in (group_expr(g) for g in plan.groups) if e)
        for ep in sorted(named_guest_episodes(plan)):
            info = cache.episodes[ep]
            await retriever.run(ors, POOL, rowids=(info.first_id, info.last_id), ranked=False)
    scorer = _Scorer(cache, plan)
    # Whole-episode queries: make sure the episodes the title names are in the running.
    named_by_title = scorer.top_meta_episodes()
    all_groups = [e for e in (group_expr(g) for g in plan.groups) if e]
    for ep in named_by_title:
        if plan.allowed is not None and ep not in plan.allowed:
            continue
        info = cache.episodes[ep]
        before = len(retriever.found)
        got = 0
        if all_groups:
            got = await retriever.run(
                " OR ".join(all_groups), 50, rowids=(info.first_id, info.last_id), ranked=False
            )
        if not got and len(retriever.found) == before:
            await retriever.add_passages(ep, 0.0, 2)
    spans = [cache.chapter_span(k) for k in scorer.top_chapters()]
    await retriever.add_spans(
        [span for span in spans if plan.allowed is None or span[0] in plan.allowed],
        CHAPTER_PASSAGES,
    )
    for g in plan.groups:
        if g.role == Role.NAME and not required:
            for ep in sorted(g.guest_episodes)[:3]:
                if plan.allowed is None or ep in plan.allowed:
                    await retriever.add_passages(ep, 0.0, 4)

    scorer.places = {(c.episode_id, c.idx): c for c in retriever.found.values()}
    scored = [c for c in retriever.found.values() if scorer.score(c)]
    if scorer.pending:
        # Everyday words that need evidence: ask only about the episodes concerned.
        by_group: dict[int, set[str]] = defaultdict(set)
        for gi, ep in scorer.pending:
            by_group[gi].add(ep)
        for gi, eps in sorted(by_group.items()):
            scorer.evidence[gi] = await _episodes_saying(
                store, cache, scorer.scored_groups[gi], eps
            )
        scorer.pending.clear()
        scored = [c for c in retriever.found.values() if scorer.score(c)]
    if len(scored) < want and scorer.near:
        # Too little found: passages lacking a word their episode says elsewhere count too.
        asked: dict[int, set[str]] = defaultdict(set)
        for gi, ep in sorted(scorer.near)[: NEAR_EPISODES * len(required)]:
            asked[gi].add(ep)
        scorer.episode_says = {
            gi: await _episodes_saying(store, cache, required[gi], eps)
            for gi, eps in sorted(asked.items())
        }
        # Only the near misses can change; the rest keep their scores.
        done = {c.id for c in scored}
        near = scorer.near_ids - done
        scored += [c for c in retriever.found.values() if c.id in near and scorer.score(c)]
    if not scored:
        return []
    # An episode that keeps coming back is about the query: a small boost per extra passage.
    per_episode: dict[str, int] = defaultdict(int)
    for c in scored:
        per_episode[c.episode_id] += not c.loose
    for c in scored:
        c.score += 0.1 * min(1.0, (per_episode[c.episode_id] - 1) / 5)
    return _diversify(scored, plan, want)


def _match_spans(
    cache: SearchCache, text: str, matched: list[tuple[tuple[str, ...], float]]
) -> list[tuple[int, int, float]]:
    """Character spans in ``text`` of the matched alternatives, with their groups' weights."""
    spans = token_spans(text)
    stems = [cache.stem.get(w, w) for w, _, _ in spans]
    pos = _positions(stems)
    out: dict[tuple[int, int], float] = {}
    for alt, weight in matched:
        for i in _occurrences(alt, stems, pos):
            key = (spans[i][1], spans[i + len(alt) - 1][2])
            out[key] = max(out.get(key, 0.0), weight)
    return sorted((a, b, w) for (a, b), w in out.items())


async def _hits(store: Store, cache: SearchCache, page: list[Candidate]) -> tuple[Hit, ...]:
    """Hits for a page; quotes of episodes timed by captions start at their words' second."""
    precise = [c.id for c in page if cache.episodes[c.episode_id].timing in PRECISE_TIMING]
    times = await passage_word_times(store, precise) if precise else {}
    captions = [c.id for c in page if cache.episodes[c.episode_id].timing == EpisodeTiming.AS_GIVEN]
    lines = await passage_line_starts(store, captions) if captions else {}
    return tuple(_hit(cache, c, times.get(c.id), lines.get(c.id)) for c in page)


def _hit(
    cache: SearchCache,
    c: Candidate,
    word_times: list[float] | None = None,
    line_starts: list[float] | None = None,
) -> Hit:
    info = cache.episodes[c.episode_id]
    text = c.text
    cleaned = tidy(text)
    if cleaned.split() != text.split():
        word_times = line_starts = None  # noise removed: the per-word times no longer line up
    quote = make_quote(
        cleaned,
        _match_spans(cache, cleaned, c.matched),
        c.start,
        c.end,
        word_times=word_times,
        line_starts=line_starts,
    )
    via = _via_text(c.via)
    return Hit(
        episode_id=c.episode_id,
        episode_title=info.title,
        start=quote.start,
        end=max(quote.end, quote.start),
        speaker=c.speaker,
        quote=quote.text,
        url=deep_link(info.url, quote.start),
        score=round(c.score, 4),
        chapter=c.chapter,
        passage_id=c.id,
        matched_via=via,
    )


def _via_text(vias: list[str]) -> str | None:
    """How a hit's words were matched, one phrase per kind: 'as “recommendation”, “systems”;
    heard as “dusk”', not 'as “recommendation”; as “systems”; heard as “dusk”'."""
    by_kind: dict[str, list[str]] = {}
    for via in dict.fromkeys(vias):
        kind, quote, rest = via.partition("“")
        by_kind.setdefault(kind, []).append(quote + rest)
    return "; ".join(kind + ", ".join(said) for kind, said in by_kind.items()) or None


async def _listing(
    store: Store, cache: SearchCache, plan: Plan, limit: int, offset: int
) -> tuple[list[Hit], bool]:
    """Filters alone: the matching episodes' passages, newest episode first, in order."""
    episodes = [e for e in cache.by_date if plan.allowed is None or e in plan.allowed]
    where, params = " AND p.word_end - p.word_start >= ?", [SHORT_WORDS]
    if plan.speakers is not None:
        where += " AND p.speaker IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(plan.speakers)))
    if plan.exclude:
        where += " AND p.id NOT IN (SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?)"
        params.append(" OR ".join(_alt_expr(a) for a in plan.exclude))
    need, skip = limit + 1, offset
    found: list[Candidate] = []
    for ep in episodes:
        if len(found) >= need:
            break
        if skip:
            row = await store.fetchone(
                f"SELECT count(*) FROM passages p WHERE p.episode_id = ?{where}",  # noqa: S608
                (ep, *params),
            )
            if row[0] <= skip:
                skip -= row[0]
                continue
        rows = await store.fetchall(
            f"SELECT {_COLUMNS} FROM passages p WHERE p.episode_id = ?{where}"  # noqa: S608
            " ORDER BY p.idx LIMIT ? OFFSET ?",
            (ep, *params, need - len(found), skip),
        )
        skip = 0
        for r in rows:
            c = Candidate(*tuple(r)[:8])
            c.chapter = c.chapter or cache.chapter_at(ep, c.start)
            found.append(c)
    return list(await _hits(store, cache, found[:limit])), len(found) > limit
