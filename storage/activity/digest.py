"""The weekly digest's content (no Slack here).

:func:`build_digest` reads what the catalogue and the community did in a window and returns a
:class:`Digest` of small frozen records; ``handlers.digest`` turns it into a Slack message.
``archive_quotes`` (migration ``0008_digest_archive_stable``) keeps each archive quote used as
its episode, its second and a key of its words, which re-ingesting does not change (passage ids
it does). Posting it once is ``storage.activity.posts``' job.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from storage.activity.feedback import UsefulAnswer, useful_answers
from storage.activity.posts import last_digest
from storage.catalogue import deep_link, get_episode
from storage.clock import iso, parse_iso, week_key
from storage.db import Store
from storage.models import Chapter, Episode
from storage.text import clean, passage_key, sentences

WEEK = timedelta(days=7)
# The smallest step between stored instants (storage.clock.iso keeps microseconds): "just after"
# an instant, as the start of a half-open window.
TICK = timedelta(microseconds=1)
# How many items each section shows; the Slack message must stay short and within limits.
MAX_NEW = 5
MAX_SHARED = 3
MAX_TOPICS = 5
MAX_UNANSWERED = 5
HIGHLIGHTS = 3
ARCHIVE_REPEAT = timedelta(days=365)
# More than IMPORT_BATCH episodes arriving one after another (each within IMPORT_GAP of the
# one before) are a catalogue import, not news: announcements skip such a batch, and the first
# digest (no earlier one to count from) treats it as the back catalogue, so the digest after
# the initial import does not say "New this week: 200 episodes".
IMPORT_BATCH = 5
IMPORT_GAP = timedelta(hours=1)
# Searches made from the terminal are the team trying things out, not the community asking.
LOCAL_SOURCES = ("cli", "console")
# Searches asked in a DM are private: the digest neither lists nor counts them.
PRIVATE_SOURCES = ("dm",)
# A slash search's answer is private too, so the public digest names a topic (searched, or
# found nothing) only when at least this many different people searched it that week: one
# person's question ("is alice from acme leaving") is never published.
MIN_TOPIC_USERS = 2
# Chapters that say nothing about the episode's content.
_BORING_CHAPTER = re.compile(
    r"\b(intro(duction)?|outro|welcome|wrap(ping)?[- ]up|closing|conclusion|contact|"
    r"where to find|resources|links|farewell|thank(s| you)|background|recommendations?|"
    r"final (thoughts|words)|career (path|journey)|about the guest)\b",
    re.I,
)
_OPENERS = re.compile(
    r"^(yeah|yes|so|and|but|um+|uh+|well|okay|ok|right|i mean|exactly|sure|no)\b[,.]?\s*", re.I
)
_QUOTE_CHARS = 280
# A quote that stands alone states something general; one that leans on what came before
# ("That's why...", "For example...") or tells a story in the past tense reads poorly alone.
_INSIGHT = re.compile(
    r"\b(should|the key|important|the most|the best|the biggest|always|never|advice|the trick|"
    r"lesson|matters?|the real|is about|the goal|the problem|mistake|instead of)\b",
    re.I,
)
_LEANS_BACK = re.compile(
    r"^(it|it'?s|it’s|that|that'?s|that’s|this|these|those|they|he|she|similarly|also|"
    r"for example|going back|then|i completely|thank|exactly|absolutely|good question|"
    r"not really|not exactly|of course|definitely|honestly|correct|true)\b",
    re.I,
)
# Present-tense, second-person sentences generalise; past-tense ones tell a story.
_GENERAL = re.compile(r"\b(is|are|you|your|should|can|need|needs|don't|if|when)\b", re.I)
_STORY = re.compile(
    r"\b(was|were|had|did|decided|got|went|received|started|joined|moved|wanted|used to)\b", re.I
)


# --- the digest's content ---------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    """A chapter link or a highlight quote of a new episode."""

    title: str
    start: float
    url: str | None
    speaker: str | None = None
    is_quote: bool = False


@dataclass(frozen=True)
class NewEpisode:
    id: str
    title: str
    guests: tuple[str, ...]
    date: str | None
    url: str | None
    arrived_at: str
    highlights: tuple[Highlight, ...]


@dataclass(frozen=True)
class SharedQuote:
    episode_id: str
    episode_title: str
    start: float
    speaker: str | None
    quote: str
    url: str | None
    count: int


@dataclass(frozen=True)
class ArchiveQuote:
    """A quote from the back catalogue. ``start`` and ``text_key`` (see :func:`passage_key`)
    identify it across re-ingests, which give passages new ids."""

    episode_id: str
    text_key: str
    episode_title: str
    episode_date: str | None
    guests: tuple[str, ...]
    start: float
    speaker: str | None
    quote: str
    url: str | None


@dataclass(frozen=True)
class SearchTopic:
    query: str
    count: int


@dataclass(frozen=True)
class Digest:
    """One week's digest. Sections are empty tuples (or None) when there is nothing to say.

    Every window is half-open on instants, [start, ``until``): an event exactly at ``until``
    belongs to the next digest, whose windows start at this one's ``until`` once it is posted
    (or skipped), so each arrival, share and search counts in exactly one digest.
    ``since`` bounds "new" episodes: the end of the last digest's window; for the first digest,
    a week before ``until`` or, if later, just after a catalogue import in that week. Shares and
    searches count from ``activity_since``: the end of the last digest's window too, or a week
    before ``until`` for the first digest (an import is not activity).
    """

    week: str
    since: datetime
    activity_since: datetime
    until: datetime
    new_episodes: tuple[NewEpisode, ...] = ()
    more_new: int = 0
    shared: tuple[SharedQuote, ...] = ()
    archive: ArchiveQuote | None = None
    topics: tuple[SearchTopic, ...] = ()
    unanswered: tuple[SearchTopic, ...] = ()
    searches: int = 0
    useful: tuple[UsefulAnswer, ...] = ()  # quotes voted 👍 more than 👎, never who voted

    @property
    def is_empty(self) -> bool:
        """Nothing new, nothing shared, nothing searched: the week the digest skips by default."""
        return not (self.new_episodes or self.shared or self.searches or self.useful)


async def build_digest(store: Store, *, now: datetime, week: str | None = None) -> Digest:
    """What the digest for the week around ``now`` says.

    Args:
        store: the episode database.
        now: an aware datetime; the end of the window (a store's clock gives it; tests set it).
        week: the ISO week key; by default the week of ``now`` in ``now``'s time zone.

    Rows still being written by another process when ``now`` was taken are waited for
    (:meth:`Store.settle`), so an event stamped just before ``now`` is never left out of this
    window and then out of the next one too.

    Example:
        >>> digest = await build_digest(store, now=store.now())  # doctest: +SKIP
        >>> [e.title for e in digest.new_episodes]               # doctest: +SKIP
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    await store.settle()
    last = await last_digest(store, until=now)
    if last and last.window_until:
        since = activity_since = parse_iso(last.window_until)
    else:
        since = activity_since = now - WEEK
        imported = await last_import(store, since=since, until=now)
        if imported is not None:  # what came with it is the archive; news is what came after
            since = imported + TICK
    new, more = await new_episodes(store, since=since, until=now)
    shared = await most_shared(store, since=activity_since, until=now)
    topics, unanswered, searches = await search_topics(store, since=activity_since, until=now)
    useful = tuple(
        replace(answer, quote=quotable(answer.quote))
        for answer in await useful_answers(store, since=activity_since, until=now)
    )
    key = week or week_key(now)
    archive = await archive_quote(
        store, now=now, week=key, exclude={e.id for e in new}, older_than=since
    )
    return Digest(
        week=key, since=since, activity_since=activity_since, until=now,
        new_episodes=new, more_new=more, shared=shared, archive=archive,
        topics=topics, unanswered=unanswered, searches=searches, useful=useful,
    )  # fmt: skip


async def last_import(store: Store, *, since: datetime, until: datetime) -> datetime | None:
    """When the last catalogue import in [since, until) ended (see :data:`IMPORT_BATCH`):
    the arrival time of its last episode; None when nothing arrived in such a batch."""
    rows = await store.fetchall(
        "SELECT arrived_at FROM digest_arrivals WHERE arrived_at >= ? AND arrived_at < ?"
        " ORDER BY arrived_at, seq",
        (iso(since), iso(until)),
    )
    end, run = None, []
    for moment in (parse_iso(r["arrived_at"]) for r in rows):
        if run and moment - run[-1] > IMPORT_GAP:
            run = []
        run.append(moment)
        if len(run) > IMPORT_BATCH:
            end = moment
    return end


async def new_episodes(
    store: Store, *, since: datetime, until: datetime, limit: int = MAX_NEW
) -> tuple[tuple[NewEpisode, ...], int]:
    """Episodes that first arrived in [since, until), newest publication first; and how many
    more there were beyond ``limit``."""
    rows = await store.fetchall(
        "SELECT a.episode_id, a.arrived_at FROM digest_arrivals a"
        " JOIN episodes e ON e.id = a.episode_id"
        " WHERE a.arrived_at >= ? AND a.arrived_at < ?"
        " ORDER BY e.date IS NULL, e.date DESC, a.seq DESC",
        (iso(since), iso(until)),
    )
    found = []
    for row in rows[:limit]:
        episode = await get_episode(store, row["episode_id"])
        if episode is None:
            continue
        found.append(
            NewEpisode(
                id=episode.id,
                title=episode.title,
                guests=episode.guests,
                date=episode.date,
                url=deep_link(episode.url, 0),
                arrived_at=row["arrived_at"],
                highlights=await highlights(store, episode),
            )
        )
    return tuple(found), max(0, len(rows) - limit)


def pick_chapters(chapters: tuple[Chapter, ...], count: int = HIGHLIGHTS) -> tuple[Chapter, ...]:
    """Up to ``count`` chapters spread over the episode, leaving out intros and outros.

    >>> titles = ["Intro", "A", "B", "C", "D", "E", "F", "Contact & Resources"]
    >>> [c.title for c in pick_chapters(tuple(Chapter(t, i) for i, t in enumerate(titles)))]
    ['B', 'D', 'F']
    """
    useful = [c for c in chapters if not _BORING_CHAPTER.search(c.title)]
    if len(useful) <= count:
        return tuple(useful)
    # The middle of each third: early, middle and late, but not the first or last words.
    return tuple(useful[int((2 * i + 1) * len(useful) / (2 * count))] for i in range(count))


async def highlights(store: Store, episode: Episode) -> tuple[Highlight, ...]:
    """Chapter links when the episode has chapters, else its best quotes, spread out."""
    chapters = pick_chapters(episode.chapters)
    if chapters:
        return tuple(Highlight(c.title, c.start, deep_link(episode.url, c.start)) for c in chapters)
    rows = await store.fetchall(
        "SELECT id, start, speaker, text FROM passages WHERE episode_id = ? ORDER BY idx",
        (episode.id,),
    )
    duration = episode.duration or (rows[-1]["start"] if rows else 0)
    scored = sorted(
        rows,
        key=lambda r: -quote_score(r["text"], r["speaker"], episode.guests, r["start"], duration),
    )
    chosen: list = []
    for row in scored:
        if quote_score(row["text"], row["speaker"], episode.guests, row["start"], duration) <= 0:
            break
        if all(abs(row["start"] - c["start"]) >= 300 for c in chosen):
            chosen.append(row)
        if len(chosen) == 2:
            break
    chosen.sort(key=lambda r: r["start"])
    return tuple(
        Highlight(
            quotable(r["text"]),
            r["start"],
            deep_link(episode.url, r["start"]),
            speaker=r["speaker"],
            is_quote=True,
        )
        for r in chosen
    )


def _is_guest(speaker: str | None, guests: tuple[str, ...]) -> bool:
    if not speaker:
        return False
    first = speaker.split()[0].lower()
    return any(g.split()[0].lower() == first for g in guests if g.split())


def quote_score(
    text: str, speaker: str | None, guests: tuple[str, ...], start: float, duration: float
) -> float:
    """How well a passage stands alone as a quote (higher is better; 0 or less: don't use it).

    A guest's complete sentences of a tweet's length, from the body of the episode, score
    highest; the host's questions, intros and outros, fragments and filler score lowest.
    """
    if not _is_guest(speaker, guests):
        return 0.0
    body = clean(text)
    n = len(body.split())
    if n < 20:
        return 0.0
    score = 3.0
    score -= abs(min(n, 120) - 50) / 25  # 50 words is best, 25 or 75 cost a point
    if body.rstrip("\"'”’)").endswith((".", "!")):
        score += 1.0
    if _OPENERS.match(body):
        score -= 0.75
    lead = _OPENERS.sub("", body, count=1)
    if _LEANS_BACK.match(lead):
        score -= 1.0
    score += min(1.5, 0.5 * len(_INSIGHT.findall(body)))
    tense = len(_GENERAL.findall(body)) - 1.5 * len(_STORY.findall(body))
    score += max(-2.0, min(1.5, 0.25 * tense))
    if "?" in body:
        score -= 1.0
    if start < 180 or (duration and start > duration - 180):
        score -= 2.0
    return score


def quotable(text: str, limit: int = _QUOTE_CHARS) -> str:
    """A passage trimmed to whole sentences within ``limit`` characters, leading filler removed.

    >>> quotable("Yeah, so the point is simple. Ship early. Then learn.", 40)
    'So the point is simple. Ship early.'
    """
    body = clean(text)
    stripped = _OPENERS.sub("", body, count=1)
    if stripped and len(stripped) < len(body):
        body = stripped[0].upper() + stripped[1:]
    out = ""
    for sentence in sentences(body):
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    if not out:
        out = body[: limit - 1].rsplit(" ", 1)[0] + "…" if len(body) > limit else body
    return out


async def most_shared(
    store: Store, *, since: datetime, until: datetime, limit: int = MAX_SHARED
) -> tuple[SharedQuote, ...]:
    """Quotes shared with the Share button in the window, most shared first (sharers not read)."""
    rows = await store.fetchall(
        "SELECT s.episode_id, e.title, e.url, min(s.start) AS start, max(s.passage_id) AS pid,"
        " count(*) AS n, max(s.at) AS last"
        " FROM shares s JOIN episodes e ON e.id = s.episode_id"
        " WHERE s.at >= ? AND s.at < ?"
        " GROUP BY s.episode_id, coalesce(s.passage_id, CAST(s.start AS INTEGER))"
        " ORDER BY n DESC, last DESC LIMIT ?",
        (iso(since), iso(until), limit),
    )
    shared = []
    for row in rows:
        passage = None
        if row["pid"] is not None:
            passage = await store.fetchone(
                "SELECT start, speaker, text FROM passages WHERE id = ? AND episode_id = ?",
                (row["pid"], row["episode_id"]),
            )
        if passage is None:  # re-ingested since: the passage that now covers that second
            passage = await store.fetchone(
                "SELECT start, speaker, text FROM passages WHERE episode_id = ? AND start <= ?"
                " ORDER BY start DESC LIMIT 1",
                (row["episode_id"], row["start"] + 0.5),
            )
        if passage is None:
            continue
        shared.append(
            SharedQuote(
                episode_id=row["episode_id"],
                episode_title=row["title"],
                start=row["start"],
                speaker=passage["speaker"],
                quote=quotable(passage["text"]),
                url=deep_link(row["url"], row["start"]),
                count=row["n"],
            )
        )
    return tuple(shared)


# Not storage.text.word_tokens: a topic is shown as typed, so c++, node.js and accents stay.
def normalise_query(query: str) -> str:
    """``"  Feature   Stores?"`` -> ``"feature stores"``: the form searches are counted in."""
    return " ".join(re.findall(r"\w[\w+#.-]*", query.lower())).strip(".")


async def search_topics(
    store: Store, *, since: datetime, until: datetime
) -> tuple[tuple[SearchTopic, ...], tuple[SearchTopic, ...], int]:
    """(most frequent topics, searches that found nothing, number of searches) in the window.

    Near-identical queries ("feature store", "feature stores") count as one topic, shown in
    their most common spelling. DM searches are left out; a topic is listed only when at least
    :data:`MIN_TOPIC_USERS` different users searched it (searches with no user id count for
    nobody).
    """
    rows = await store.fetchall(
        "SELECT query, hits, user_id FROM search_log WHERE at >= ? AND at < ?"
        " AND source NOT IN (?, ?, ?) ORDER BY at",
        (iso(since), iso(until), *LOCAL_SOURCES, *PRIVATE_SOURCES),
    )
    found: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    users: dict[str, set[str]] = {}
    for row in rows:
        q = normalise_query(row["query"])
        if q:
            (found if row["hits"] else missed)[q] += 1
            if row["user_id"]:
                users.setdefault(q, set()).add(row["user_id"])
    # Topics are what found something (counting every time it was asked); what never found
    # anything is listed apart, once.
    topics = _cluster(Counter({q: n + missed[q] for q, n in found.items()}), users)
    gaps = _cluster(Counter({q: n for q, n in missed.items() if q not in found}), users)
    return topics[:MAX_TOPICS], gaps[:MAX_UNANSWERED], len(rows)


def _cluster(counts: Counter[str], users: dict[str, set[str]]) -> tuple[SearchTopic, ...]:
    """Near-identical queries grouped; only groups searched by MIN_TOPIC_USERS people or more."""
    groups: list[list[tuple[str, int]]] = []
    for query, n in counts.most_common():
        for group in groups:
            if fuzz.token_sort_ratio(query, group[0][0]) >= 90:
                group.append((query, n))
                break
        else:
            groups.append([(query, n)])
    topics = [
        SearchTopic(group[0][0], sum(n for _, n in group))
        for group in groups
        if len(set().union(*(users.get(q, set()) for q, _ in group))) >= MIN_TOPIC_USERS
    ]
    topics.sort(key=lambda t: (-t.count, t.query))
    return tuple(topics)


@dataclass(frozen=True)
class _UsedQuotes:
    """The archive quotes one episode gave in the past year: their seconds and text keys."""

    starts: tuple[float, ...]
    keys: frozenset[str]

    def covers(self, start: float, end: float, text: str) -> bool:
        """Whether the passage [start, end) with this text is (or holds) a used quote.

        A used second inside the passage counts (a re-ingest may cut passages a little
        differently), and so do the same words at another time (timings redone).
        """
        end = max(end, start + 0.5)
        if any(start - 0.5 <= s < end for s in self.starts):
            return True
        return passage_key(text) in self.keys


async def archive_quote(
    store: Store,
    *,
    now: datetime,
    week: str,
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
    older_than: datetime | None = None,
) -> ArchiveQuote | None:
    """One good quote from an older episode, not used by a digest in the past year.

    The choice is seeded by ``week``, so a preview shows the quote the post will carry.
    Episodes with a quote used in the past year are passed over while others remain.
    Used quotes are known by episode, second and words, so re-ingesting an episode (new
    passage ids) does not bring its quote back.
    """
    cutoff = iso(now - ARCHIVE_REPEAT)
    by_episode: dict[str, tuple[list[float], set[str]]] = {}
    for r in await store.fetchall(
        "SELECT episode_id, start, text_key FROM archive_quotes WHERE used_at >= ?", (cutoff,)
    ):
        starts, keys = by_episode.setdefault(r["episode_id"], ([], set()))
        starts.append(r["start"])
        keys.add(r["text_key"])
    used = {e: _UsedQuotes(tuple(s), frozenset(k)) for e, (s, k) in by_episode.items()}
    used_episodes = set(used)
    before = iso(older_than or now)
    rows = await store.fetchall(
        "SELECT e.id FROM episodes e JOIN digest_arrivals a ON a.episode_id = e.id"
        " WHERE a.arrived_at < ? ORDER BY e.id",
        (before,),
    )
    candidates = [r["id"] for r in rows if r["id"] not in exclude]
    fresh = [c for c in candidates if c not in used_episodes]
    rng = random.Random(f"archive:{week}")
    for pool in (fresh, [c for c in candidates if c in used_episodes]):
        pool = list(pool)
        rng.shuffle(pool)
        for episode_id in pool[:20]:  # bounded: a good quote turns up in the first few
            found = await _best_quote(store, episode_id, used.get(episode_id))
            if found is not None:
                return found
    return None


async def _best_quote(
    store: Store, episode_id: str, used: _UsedQuotes | None
) -> ArchiveQuote | None:
    episode = await get_episode(store, episode_id)
    if episode is None:
        return None
    rows = await store.fetchall(
        "SELECT start, end, speaker, text FROM passages WHERE episode_id = ? ORDER BY idx",
        (episode_id,),
    )
    duration = episode.duration or (rows[-1]["start"] if rows else 0)
    best, best_score = None, 1.0  # below this a quote is not worth a digest
    for row in rows:
        score = quote_score(row["text"], row["speaker"], episode.guests, row["start"], duration)
        if score <= best_score:
            continue
        if used is not None and used.covers(row["start"], row["end"], row["text"]):
            continue
        best, best_score = row, score
    if best is None:
        return None
    return ArchiveQuote(
        episode_id=episode.id,
        text_key=passage_key(best["text"]),
        episode_title=episode.title,
        episode_date=episode.date,
        guests=episode.guests,
        start=best["start"],
        speaker=best["speaker"],
        quote=quotable(best["text"]),
        url=deep_link(episode.url, best["start"]),
    )
