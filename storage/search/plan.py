"""From a parsed query to what search looks for: groups of alternatives, filters, corrections.

Each thing the member asked for becomes a :class:`Group`: the words as typed plus the other
ways a transcript may say them (a typo's correction, "meta flow" for metaflow, the glossary's
"psychic learn" for scikit-learn). A passage satisfies a group when it contains any of the
group's alternatives. Question words and stop words are left out; names become boosts for the
passages that person speaks and the episodes they guest on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

from jellyfish import metaphone
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from storage.db import Store
from storage.search.glossary import Glossary, GlossaryEntry
from storage.search.index import SearchCache, passages_say
from storage.search.query import (
    EPISODE_WORDS,
    STOP_WORDS,
    WEAK_WORDS,
    Filters,
    ParsedQuery,
    Term,
    fts_phrase,
    tokens,
)

# A word in more than this share of passages is "common": it never gets split-word variants,
# and is left out when a query is relaxed to find passages that lack some of its words.
COMMON_SHARE = 0.03
# A name word must be rarer than this in the text to be taken as a name (not "will", "mark").
NAME_MAX_SHARE = 0.03
MAX_GROUPS = 24
# Split-word alternatives kept per word ("kd nuggets", "pi data").
SPLIT_ALTS = 3
# A word in at most this many passages also matches the words that sound like it; and how
# alike (rapidfuzz ratio) their letters must be.
SOUND_MAX_DF = 2
SOUND_MIN_RATIO = 65
# Filters down to this many episodes: any word those episodes never say is also looked for
# there by its sound ("parquet" said as "parque" in captions), whatever its count elsewhere.
SOUND_EPISODES = 3
SOUND_IN_EPISODE_WEIGHT = 0.7
MAX_WORD_CHARS = 40


@dataclass(frozen=True)
class Alt:
    """One way of saying a group's thing: index tokens (for MATCH) and their stems."""

    words: tuple[str, ...]
    stems: tuple[str, ...] = ()
    weight: float = 1.0
    via: str | None = None  # shown as Hit.matched_via when this alternative matched
    ambiguous: bool = False  # an everyday word: counts only where context supports it
    quoted: bool = False  # the member quoted it: looked up whole, stop words at its edges too


class Role(StrEnum):
    """What a group is to a passage."""

    REQUIRED = "required"  # a passage must say it
    OPTIONAL = "optional"  # counts when said (a weak word, "tell", "episode")
    NAME = "name"  # a person: boosts what they say and the episodes they guest on
    DROP = "drop"  # left out before the search (nothing to look for, or outweighed)


@dataclass
class Group:
    label: str
    alts: list[Alt]
    role: Role = Role.REQUIRED
    idf: float = 0.0
    df: int = 0
    context: tuple[tuple[str, ...], ...] = ()  # stems of context words (for ambiguous alts)
    context_words: tuple[tuple[str, ...], ...] = ()  # the same words as written, for MATCH
    speakers: frozenset[str] = frozenset()  # for names: speaker values it may mean
    guest_episodes: frozenset[str] = frozenset()  # for names: episodes with such a guest


@dataclass
class Plan:
    parsed: ParsedQuery
    groups: list[Group] = field(default_factory=list)
    exclude: list[Alt] = field(default_factory=list)
    episode_intent: bool = False
    corrected: dict[str, str] = field(default_factory=dict)  # typed word -> correction used
    suggested: dict[str, str] = field(default_factory=dict)  # typed word -> "did you mean"
    notices: list[str] = field(default_factory=list)
    allowed: set[str] | None = None  # episodes the filters allow (None: all)
    speakers: set[str] | None = None  # speaker values the filters allow (None: any)
    named: set[str] = field(default_factory=set)  # episodes the query names
    nothing: bool = False  # the filters or the query rule out every passage
    sequence: tuple[str, ...] = ()  # every typed word in order, stop words too (for word order)
    sequence_stems: tuple[str, ...] = ()  # their stems
    career: tuple[tuple[str, ...], ...] = ()  # stems that answer "how did X get into Y"

    @property
    def required(self) -> list[Group]:
        return [g for g in self.groups if g.role == Role.REQUIRED]

    def suggestion(self, text: str) -> str | None:
        """The query with corrections applied, for "did you mean"."""
        fixes = {**self.suggested, **self.corrected}
        if not fixes:
            return None
        out = []
        for chunk in text.split():
            key = " ".join(tokens(chunk))
            out.append(fixes.get(key, chunk))
        return " ".join(out)


# "How did Hugo get into DevRel?" asks for a career story: passages and chapters that tell one
# ("Path to DevRel", "my background is...") answer it even without the question's words.
CAREER_TRIGGERS = (
    ("get", "into"), ("got", "into"), ("getting", "into"), ("break", "into"), ("end", "up"),
    ("ended", "up"), ("start",), ("started",), ("begin",), ("began",), ("become",), ("became",),
    ("journey",), ("background",), ("transition",), ("switch",), ("switched",),
)  # fmt: skip
CAREER_WORDS = (
    "journey", "background", "path", "career", "transition", "started", "began", "became",
    "switched", "got into", "get into", "moved into", "ended up",
)  # fmt: skip
QUESTION_WORDS = frozenset("how when why what where who".split())


def idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


# ---------------------------------------------------------------------------- filters


def _matches_name(value_tokens: list[str], name_tokens: list[str]) -> bool:
    """Every token of the value starts some token of the name ("hugo bow" ~ Hugo Bowne)."""
    return bool(value_tokens) and all(
        any(n.startswith(v) for n in name_tokens) for v in value_tokens
    )


def resolve_filters(cache: SearchCache, filters: Filters, plan: Plan) -> None:
    """Turn filters into allowed episodes and speakers; an unmatched filter empties the plan."""
    allowed: set[str] | None = None

    def narrow(eps: set[str]) -> None:
        nonlocal allowed
        allowed = eps if allowed is None else allowed & eps

    for value in filters.guest:
        want = tokens(value)
        # A whole name as stored (a form's choice, guest:"Ana Lima") means that guest only.
        eps = _episodes_with_guest(cache, value)
        if not eps and want:
            eps = _episodes_matching(cache, want, guests=True)
        if not eps and len(want) > 1:  # "lars albertsson": a guest known only by id
            eps = _episodes_matching(cache, ["".join(want)], guests=True)
        if not eps:
            plan.nothing = True
            close = process.extractOne(
                value.lower(), cache.guest_word_list, scorer=fuzz.ratio, score_cutoff=75
            )
            hint = f" Did you mean guest:{close[0]}?" if close else ""
            plan.notices.append(f"No guest matches “{value}”.{hint}")
        narrow(eps)
        plan.named |= eps
    for value in filters.episode:
        eps = _episodes_named(cache, value)
        if not eps:
            plan.nothing = True
            plan.notices.append(f"No episode matches “{value}” (use its id or title words).")
        narrow(eps)
        plan.named |= eps
    if filters.dates.start or filters.dates.end:
        lo, hi = filters.dates.start or "0000", filters.dates.end or "9999"
        eps = {e.id for e in cache.episodes.values() if e.date and lo <= e.date[:10] <= hi}
        if not eps:
            plan.nothing = True
            plan.notices.append("No episode was published in that date range.")
        narrow(eps)
    if filters.speaker:
        speakers: set[str] = set()
        for value in filters.speaker:
            want = tokens(value)
            found = {
                stored
                for folded, values in cache.speakers.items()
                for stored in values
                if _matches_name(want, folded.split()) or _matches_name(folded.split(), want)
            }
            if not found:
                plan.nothing = True
                close = process.extractOne(
                    value.lower(), list(cache.speakers), scorer=fuzz.ratio, score_cutoff=75
                )
                hint = f" Did you mean speaker:{close[0].split()[0]}?" if close else ""
                plan.notices.append(f"No speaker matches “{value}”.{hint}")
            speakers |= found
        plan.speakers = speakers
        eps = {ep for s in speakers for ep in cache.speaker_episodes.get(s, ())}
        narrow(eps)
    plan.allowed = allowed
    if allowed is not None and not allowed:
        plan.nothing = True


def _episodes_with_guest(cache: SearchCache, name: str) -> set[str]:
    """Episodes with a guest of exactly this name (any case)."""
    name = " ".join(name.split()).casefold()
    return {e.id for e in cache.episodes.values() if any(g.casefold() == name for g in e.guests)}


def _episodes_named(cache: SearchCache, value: str) -> set[str]:
    value = value.strip()
    if value in cache.episodes:
        return {value}
    want = tokens(value)
    if len(want) == 1 and want[0][:1] == "s" and "e" in want[0]:
        season, _, number = want[0][1:].partition("e")
        if season.isdigit() and number.isdigit():
            return {
                e.id
                for e in cache.episodes.values()
                if e.season == int(season) and e.number == int(number)
            }
    return _episodes_matching(cache, want) if want else set()


def _episodes_matching(cache: SearchCache, want: list[str], *, guests: bool = False) -> set[str]:
    """Episodes having every word of ``want`` (words of three letters or more as prefixes)
    in their id, title or guest names (with ``guests``, in their guest names only)."""
    out: set[str] | None = None
    for w in want:
        found = cache.episodes_with_word(w, prefix=len(w) >= 3, guests=guests)
        out = found if out is None else out & found
        if not out:
            return set()
    return out or set()


# ---------------------------------------------------------------------------- typos


def _distance_limits(n: int) -> tuple[int, int]:
    """(auto-correct, suggest) edit distances for a word of ``n`` letters. Short words are
    never rewritten on our own ("work" must not become "york"), only suggested."""
    if n <= 3:
        return 0, 0
    if n == 4:
        return 0, 1
    if n <= 7:
        return 1, 1
    if n <= 13:
        return 2, 2
    return 3, 3


def _swapped(typed: str, word: str) -> bool:
    """Two neighbouring letters swapped ("raet" / "rate"): the one typo safe to fix even in
    a short word."""
    if len(typed) != len(word) or typed == word:
        return False
    diff = [i for i in range(len(word)) if typed[i] != word[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and typed[diff[0]] == word[diff[1]]
        and (typed[diff[1]] == word[diff[0]])
    )


def close_words(cache: SearchCache, word: str, max_distance: int) -> list[tuple[str, int, int]]:
    """Vocabulary words within ``max_distance`` edits, best first: (word, distance, passages)."""
    if max_distance <= 0 or len(word) > MAX_WORD_CHARS:
        return []
    pool = cache.fuzzy_by_length(len(word), max_distance)
    found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=max_distance, limit=40)
    # Past one edit, typos keep their first letter; "zorbification" is not "certification".
    out = [
        (w, int(d), cache.words.get(w, 0))
        for w, d, _ in found
        if w != word and (d <= 1 or w[0] == word[0])
    ]
    out.sort(key=lambda x: (x[1], x[0][:1] != word[:1], -x[2]))
    return out


# ---------------------------------------------------------------------------- planning


async def make_plan(
    store: Store, cache: SearchCache, glossary: Glossary, parsed: ParsedQuery
) -> Plan:
    plan = Plan(parsed, notices=list(parsed.notices))
    resolve_filters(cache, parsed.filters, plan)
    n = max(cache.passages, 1)
    drafts: list[Group] = []
    positive = [t for t in parsed.positive if all(len(w) <= MAX_WORD_CHARS for w in t.words)]
    all_words = [w for t in positive for w in t.words]
    plan.episode_intent = any(w in EPISODE_WORDS for w in all_words)
    plan.sequence = tuple(w for t in positive if t.kind != "phrase" for w in t.words)
    seq = plan.sequence
    if QUESTION_WORDS & set(seq) and any(
        seq[i : i + len(trigger)] == trigger for trigger in CAREER_TRIGGERS for i in range(len(seq))
    ):
        plan.career = tuple(tuple(tokens(w)) for w in CAREER_WORDS)

    # Runs of plain terms are scanned for glossary forms (longest first); quoted phrases not.
    i = 0
    while i < len(positive):
        term = positive[i]
        if term.kind == "phrase":
            drafts.append(Group(term.raw, [Alt(term.words, quoted=True)]))
            i += 1
            continue
        matched = _glossary_span(glossary, positive, i)
        if matched is not None:
            j, entry = matched
            typed = tuple(w for t in positive[i:j] for w in t.words)
            drafts.append(
                _glossary_group(cache, entry, typed, " ".join(t.raw for t in positive[i:j]))
            )
            i = j
            continue
        joined = _joined_name(cache, positive, i)
        if joined is not None:
            i, group = joined
            drafts.append(group)
            continue
        nxt = positive[i + 1] if i + 1 < len(positive) else None
        if (
            term.kind == "word"
            and nxt is not None
            and nxt.kind == "word"
            and _joinable(cache, term.words[0], nxt.words[0])
        ):
            x, y = term.words[0], nxt.words[0]
            drafts.append(
                Group(
                    f"{term.raw} {nxt.raw}",
                    [Alt((x, y)), Alt((x + y,), weight=0.95, via=f"as “{x + y}”")],
                )
            )
            i += 2
            continue
        drafts.append(_term_group(cache, term, plan, n))
        i += 1

    groups = [g for g in drafts if g.role != Role.DROP]
    if not groups and positive:
        # Only stop words: look for them as a phrase ("to be or not to be").
        words = tuple(all_words)
        if len(words) >= 2:
            groups = [Group(" ".join(t.raw for t in positive), [Alt(words)])]
        else:
            plan.notices.append(
                f"“{positive[0].raw}” is too common to search for on its own; add a word."
            )
            plan.nothing = True
    if groups and all(g.role == Role.OPTIONAL for g in groups):
        # Only words like "podcast": they are what to look for.
        for g in groups:
            g.role = Role.REQUIRED
    elif groups and all(g.role != Role.REQUIRED for g in groups):
        # Only names (and maybe "episode with"): the people are what to look for; their
        # episodes and their words count (see the scorer).
        for g in groups:
            if g.role == Role.OPTIONAL:
                g.role = Role.DROP
        groups = [g for g in groups if g.role != Role.DROP]
    plan.groups = groups[:MAX_GROUPS]
    plan.exclude = [Alt(t.words, quoted=t.kind == "phrase") for t in parsed.negative]
    if parsed.negative and not plan.groups and not parsed.filters.any:
        plan.notices.append("A query needs at least one word to look for, not only -exclusions.")
        plan.nothing = True

    # Stems for every alternative, context word and exclusion, in one batch.
    want: set[str] = set()
    for g in plan.groups:
        for a in g.alts:
            want.update(a.words)
        for c in g.context:
            want.update(c)
    for a in plan.exclude:
        want.update(a.words)
    for c in plan.career:
        want.update(c)
    want.update(plan.sequence)  # every typed word, for runs said in the query's order
    stems = await cache.stems(store, want)

    def stemmed(words: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(stems.get(w, w) for w in words)

    for g in plan.groups:
        seen: set[tuple[str, ...]] = set()
        alts = []
        for a in g.alts:
            s = stemmed(a.words)
            if s in seen:
                continue
            seen.add(s)
            alts.append(replace(a, stems=s))
        g.alts = alts
        # Context words with one stem ("parallel", "parallelized") count once.
        by_stem = {stemmed(c): c for c in reversed(g.context)}
        g.context = tuple(dict.fromkeys(stemmed(c) for c in g.context))
        g.context_words = tuple(by_stem[c] for c in g.context)
        dfs = [cache.df(a.stems) for a in g.alts if not a.ambiguous]
        g.df = max(dfs) if dfs else 0
        g.idf = idf(g.df, n)
    plan.exclude = [replace(a, stems=stemmed(a.words)) for a in plan.exclude]
    plan.career = tuple(stemmed(c) for c in plan.career)
    plan.sequence_stems = stemmed(plan.sequence)
    for g in plan.groups:
        if g.role == Role.NAME:
            plan.named |= set(g.guest_episodes)
    if plan.allowed is not None and len(plan.allowed) <= SOUND_EPISODES:
        await _sounds_in_episodes(store, cache, plan)
    return plan


async def _sounds_in_episodes(store: Store, cache: SearchCache, plan: Plan) -> None:
    """In the few episodes the filters chose, a typed word they never say is also looked for
    by its sound: captions spell by ear ("parquet" as "parque", "Orin" as "ora"), and with
    the search held to those episodes a sound-alike can't flood the results."""
    spans = [(cache.episodes[e].first_id, cache.episodes[e].last_id) for e in plan.allowed or ()]
    for g in plan.required:
        typed = g.alts[0].words if g.alts else ()
        if len(typed) != 1 or not typed[0].isalpha() or len(typed[0]) < 4 or g.alts[0].quoted:
            continue
        # Tokens only, each quoted: nothing typed reaches MATCH as syntax.
        match = " OR ".join(
            fts_phrase(" ".join(a.words)) for a in g.alts if not a.ambiguous and a.words
        )
        if await passages_say(store, match, spans):
            continue
        have = {a.words for a in g.alts}
        found = [
            a
            for a in _sound_alikes(cache, typed[0], unknown=True, min_key=3)
            if a.words not in have
        ]
        if not found:
            continue
        stems = await cache.stems(store, [w for a in found for w in a.words])
        g.alts += [
            replace(
                a,
                stems=tuple(stems.get(w, w) for w in a.words),
                weight=SOUND_IN_EPISODE_WEIGHT,
            )
            for a in found
        ]


def _joinable(cache: SearchCache, x: str, y: str) -> bool:
    """ "meta flow" -> metaflow: two typed words that the transcripts also write as one."""
    if x in STOP_WORDS or y in STOP_WORDS or len(x) < 2 or len(y) < 2:
        return False
    return cache.words.get(x + y, 0) >= 2


def _glossary_span(
    glossary: Glossary, terms: list[Term], i: int
) -> tuple[int, GlossaryEntry] | None:
    """The longest run of whole terms from ``i`` that is a glossary form: (end, entry)."""
    best = None
    words: tuple[str, ...] = ()
    for j in range(i, min(len(terms), i + 6)):
        if terms[j].kind == "phrase":
            break
        words = words + terms[j].words
        entries = glossary.index.get(words)
        if entries:
            best = (j + 1, entries[0])
    return best


def _glossary_group(
    cache: SearchCache, entry: GlossaryEntry, typed: tuple[str, ...], raw: str
) -> Group:
    """All the ways of saying a glossary term, weighted by how sure a match is."""
    n = max(cache.passages, 1)
    typed_is_everyday = len(typed) == 1 and any(
        kind == "heard" and tuple(tokens(form)) == typed for kind, form in entry.forms()
    )
    alts = [Alt(typed)]
    for kind, form in entry.forms():
        words = tuple(tokens(form))
        if not words or words == typed:
            continue
        if kind == "heard":
            ambiguous = len(words) == 1
            weight = 0.6 if ambiguous else 0.9
            alts.append(Alt(words, weight=weight, via=f"heard as “{form}”", ambiguous=ambiguous))
        else:
            # The member typed a mis-hearing: the real term counts, less so for an everyday word
            # ("carrot" is mostly a vegetable).
            rare = cache.words.get(typed[0], 0) < 0.002 * n if typed_is_everyday else True
            if typed_is_everyday and not rare:
                continue
            weight = 0.6 if typed_is_everyday else 0.95
            alts.append(Alt(words, weight=weight, via=f"as “{form}”"))
            if len(words) > 1 and cache.words.get("".join(words), 0) >= 2:
                alts.append(Alt(("".join(words),), weight=weight, via=f"as “{form}”"))
    context = tuple(tuple(tokens(c)) for c in entry.context if tokens(c))
    return Group(raw, alts, context=context)


def _term_group(cache: SearchCache, term: Term, plan: Plan, n: int) -> Group:
    words = term.words
    if term.kind == "compound":
        name = _name_group(cache, term, n)
        if name is not None:
            return name
        alts = [Alt(words)]
        joined = "".join(words)
        if cache.words.get(joined, 0) >= 1:
            alts.append(Alt((joined,), weight=0.95, via=f"as “{joined}”"))
        return Group(term.raw, alts)
    word = words[0]
    if word in STOP_WORDS:
        return Group(term.raw, [], role=Role.DROP)
    df = cache.words.get(word, 0)
    name = _name_group(cache, term, n)
    if name is not None:
        return name
    role = Role.OPTIONAL if word in WEAK_WORDS else Role.REQUIRED
    alts = [Alt(words)] + [Alt((form,)) for form in _degrees(cache, word)]
    known = df > 0 or cache.stem.get(word) in cache.stem_df
    if not known and not word.isdigit():
        auto, suggest = _distance_limits(len(word))
        close = close_words(cache, word, max(auto, suggest))
        used = [c for c in close if c[1] <= auto or _swapped(word, c[0])][:2]
        for fix, _, _ in used:
            alts.append(Alt((fix,), weight=0.9, via=f"as “{fix}”"))
        if used:
            plan.corrected[word] = used[0][0]
        elif close:
            plan.suggested[word] = close[0][0]
    elif known and 0 < df <= 2 and len(word) >= 5 and not word.isdigit():
        # A word the transcripts hold once or twice is often itself a typo; add the common
        # spelling next to it.
        auto, _ = _distance_limits(len(word))
        for fix, _, fix_df in close_words(cache, word, auto)[:1]:
            if fix_df >= 50 * df:
                alts.append(Alt((fix,), weight=0.85, via=f"as “{fix}”"))
    if len(word) >= 4 and df <= SOUND_MAX_DF and word.isalpha():
        have = {a.words for a in alts}
        alts.extend(a for a in _sound_alikes(cache, word, unknown=not known) if a.words not in have)
    if len(word) >= 6 and df < COMMON_SHARE * n and not word.isdigit():
        alts.extend(_splits(cache, word))
    return Group(term.raw, alts, role=role)


def _degrees(cache: SearchCache, word: str) -> list[str]:
    """The other degrees of a -y adjective, which the porter stemmer keeps apart: "heavy",
    "heavier", "heaviest" (stems heavi, heavier, heaviest). A -y verb (one with an -ied form)
    makes agent nouns instead ("classifier", "carrier"): those are left alone."""
    for ending in ("iest", "ier", "y"):
        if word.endswith(ending):
            root = word[: -len(ending)]
            break
    else:
        return []
    if len(root) < 3 or root[-1] in "aeiouy" or cache.words.get(root + "ied", 0):
        return []
    forms = (root + "y", root + "ier", root + "iest")
    return [f for f in forms if f != word and cache.words.get(f, 0)]


def _name_group(cache: SearchCache, term: Term, n: int) -> Group | None:
    """A guest's or speaker's name ("Hugo", "Bowne-Anderson"): a name group, else None.

    A word counts as a name only when it is rare in the transcripts: "Will" is a guest, but
    "will" is everywhere."""
    words = term.words
    if any(len(w) < 3 or w in STOP_WORDS for w in words):
        return None
    speakers: set[str] | None = None
    episodes: set[str] | None = None
    for w in words:
        if cache.words.get(w, 0) > NAME_MAX_SHARE * n:
            return None
        sp = cache.name_speakers.get(w, set())
        eps = cache.name_episodes.get(w)
        if not sp and eps is None:
            return None
        speakers = set(sp) if speakers is None else speakers | sp
        episodes = set(eps or ()) if episodes is None else episodes & set(eps or ())
    return Group(
        term.raw,
        [Alt(words, weight=0.5)],
        role=Role.NAME,
        speakers=frozenset(speakers or ()),
        guest_episodes=frozenset(episodes or ()),
    )


def _joined_name(cache: SearchCache, terms: list[Term], i: int) -> tuple[int, Group] | None:
    """ "Lars Albertsson" -> the guest stored as the id ``larsalbertsson`` (an episode folder
    ingested without the site's profiles): two or three typed words that, joined, are a
    guest's id. Returns (end, name group)."""
    words: list[str] = []
    for j in range(i, min(len(terms), i + 3)):
        term = terms[j]
        if term.kind == "phrase" or any(w in STOP_WORDS for w in term.words):
            return None
        words += term.words
        if len(words) < 2:
            continue
        episodes = cache.name_episodes.get("".join(words))
        if episodes:
            raw = " ".join(t.raw for t in terms[i : j + 1])
            # Speakers of those episodes whose name is one of the typed words ("Lars").
            speakers = {
                stored
                for w in words
                for stored in cache.name_speakers.get(w, ())
                if cache.speaker_episodes.get(stored, set()) & episodes
            }
            group = Group(
                raw,
                [Alt(tuple(words), weight=0.5)],
                role=Role.NAME,
                speakers=frozenset(speakers),
                guest_episodes=frozenset(episodes),
            )
            return j + 1, group
    return None


def _splits(cache: SearchCache, word: str) -> list[Alt]:
    """ "metaflow" -> "meta flow", "kdnuggets" -> "kd nuggets", "pydata" -> "pi data",
    "towardsdatascience" -> "towards data science": ways captions write one word as several.

    A two-letter head is also tried as the two-letter words that sound like it ("py" / "pi"),
    and needs to be in the transcripts only once (captions say "KD" rarely); the phrase match
    that follows keeps it precise."""
    found: list[tuple[int, tuple[str, ...]]] = []
    for k in range(2, len(word) - 2):
        a, b = word[:k], word[k:]
        if a in STOP_WORDS or b in STOP_WORDS:
            continue
        db = cache.words.get(b, 0)
        if db < 2:
            continue
        heads = _short_heads(cache, a) if k == 2 else [a]
        for head in heads:
            da = cache.words.get(head, 0)
            if da >= (1 if k == 2 else 2):
                found.append((min(da, db), (head, b)))
    if len(word) >= 12:
        for k in range(3, len(word) - 5):
            a = word[:k]
            da = cache.words.get(a, 0)
            if a in STOP_WORDS or da < 2:
                continue
            for _, rest in _known_pairs(cache, word[k:]):
                found.append((min(da, *(cache.words[r] for r in rest)), (a, *rest)))
    found.sort(reverse=True)
    return [
        Alt(words, weight=0.9, via=f"heard as “{' '.join(words)}”")
        for _, words in found[:SPLIT_ALTS]
    ]


def _known_pairs(cache: SearchCache, word: str) -> list[tuple[int, tuple[str, str]]]:
    out = []
    for k in range(3, len(word) - 2):
        a, b = word[:k], word[k:]
        if a in STOP_WORDS or b in STOP_WORDS:
            continue
        da, db = cache.words.get(a, 0), cache.words.get(b, 0)
        if da >= 2 and db >= 2:
            out.append((min(da, db), (a, b)))
    return out


def _short_heads(cache: SearchCache, head: str) -> list[str]:
    """A two-letter head and the two-letter words that sound like it ("py": pi)."""
    key = metaphone(head)
    out = [head]
    for w in cache.sound_index().get(key, ()) if len(head) >= 3 else _two_letter(cache, key):
        if w != head and w[0] == head[0] and w not in STOP_WORDS:
            out.append(w)
    return out[:3]


def _two_letter(cache: SearchCache, key: str) -> list[str]:
    return [w for w in cache.two_letter_words() if metaphone(w) == key]


def _sound_alikes(cache: SearchCache, word: str, *, unknown: bool, min_key: int = 5) -> list[Alt]:
    """Vocabulary words that sound like ``word`` and are spelled much like it: a name the
    captions spell by ear ("Marc" as "mark", "Andreessen" as "andreon", "Kaggle" as "cagle").

    Same Metaphone key, or (for a word the transcripts never say, with a key of five sounds or
    more) one sound apart, and letters at least SOUND_MIN_RATIO alike: a word that only rhymes
    ("sputnik", "splunk") does not stand in."""
    key = metaphone(word)
    if len(key) < 2:
        return []
    sounds = cache.sound_index()
    keys = [(key, 0)]
    if unknown and len(key) >= min_key:
        # Like typos past one edit, a sound-alike keeps its first sound.
        keys += [(k, 1) for k in _keys_one_apart(key, sounds) if k[0] == key[0]]
    found = []
    for k, apart in keys:
        for w in sounds.get(k, ()):
            if w == word or w in STOP_WORDS:
                continue
            if apart and w[0] != word[0]:  # "zorbification" is not "certification"
                continue
            alike = fuzz.ratio(word, w)
            if alike >= SOUND_MIN_RATIO + 10 * apart:
                found.append((apart, -alike, -cache.words.get(w, 0), w))
    found.sort()
    return [Alt((w,), weight=0.8, via=f"sounds like “{w}”") for *_, w in found[:2]]


def _keys_one_apart(key: str, sounds: dict[str, list[str]]) -> list[str]:
    """The sound keys one edit from ``key`` (a sound left out, added or changed), made and
    looked up rather than compared with every key: a few hundred look-ups, not ~30,000
    distances."""
    out: set[str] = set()
    for i in range(len(key) + 1):
        if i < len(key):
            out.add(key[:i] + key[i + 1 :])
        for ch in _SOUND_LETTERS:
            out.add(key[:i] + ch + key[i:])
            if i < len(key):
                out.add(key[:i] + ch + key[i + 1 :])
    out.discard(key)
    return sorted(k for k in out if k in sounds)


# What Metaphone writes: its consonants, "0" for "th", and the vowels it keeps at the start.
_SOUND_LETTERS = "0ABEFHIJKLMNOPRSTUWXY"
