"""The search query language: plain words, "quoted phrases", -exclusions and filters.

``parse_query`` never fails: whatever a member types becomes a :class:`ParsedQuery`, and words
are reduced to the same lower-case, accent-free tokens the full-text index holds, so nothing a
user types ever reaches SQLite's ``MATCH`` syntax. :data:`QUERY_SYNTAX` lists the language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from storage.clock import period_bound

# Long pastes are cut here; enough for any sentence someone remembers.
MAX_QUERY_CHARS = 2000
MAX_TERMS = 32

# The tokens of the full-text index (unicode61): runs of letters and digits; "_" separates.
_TOKEN = re.compile(r"[^\W_]+")
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "”": "”"}


@dataclass(frozen=True)
class SyntaxRow:
    """One row of the query language as help shows it: an example, what it does, and for a
    filter its name and the other names it answers to."""

    example: str
    meaning: str
    filter: str | None = None
    aliases: tuple[str, ...] = ()


# The query language, in the one place help (Slack, the CLI) and the parser read it from.
QUERY_SYNTAX: tuple[SyntaxRow, ...] = (
    SyntaxRow('"argo workflows"', "exact phrase"),
    SyntaxRow("-spark", "leave out a word"),
    SyntaxRow("guest:hugo", "episodes with this guest", "guest"),
    SyntaxRow("speaker:alexey", "said by this person", "speaker", ("who",)),
    SyntaxRow(
        "episode:devrel",
        "in episodes whose id or title has these words",
        "episode",
        ("ep", "title"),
    ),  # fmt: skip
    SyntaxRow("after:2023-01", "published after", "after", ("since",)),
    SyntaxRow("before:2024-06-30", "published before", "before", ("until",)),
)
_FILTER_NAMES = {
    name: row.filter for row in QUERY_SYNTAX if row.filter for name in (row.filter, *row.aliases)
}
_FILTER = re.compile(rf"(?i)(?<![^\s(])({'|'.join(_FILTER_NAMES)}):")


def syntax_line() -> str:
    """The query language in one line, for a command-line epilog."""
    return ", ".join(f"{row.example} ({row.meaning})" for row in QUERY_SYNTAX)


# Contractions and possessives: "who's" is "who", "Hugo's" is "Hugo", "don't" is "don".
_CONTRACTION = re.compile(r"(?i)['’](s|re|ve|ll|d|m|t)$")


# Not storage.text.word_tokens: this must equal SQLite's unicode61 remove_diacritics exactly
# (lower(), combining marks only, ß kept), or a typed word would miss its own index token.
def fold_as_index(word: str) -> str:
    """Lower case without accents, as the index's ``remove_diacritics`` tokenizer stores it.

    >>> fold_as_index("Müller")
    'muller'
    """
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: the MATCH syntax for a phrase (its double quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def tokens(text: str) -> list[str]:
    """The index tokens of ``text``.

    >>> tokens("Scikit-Learn's API")
    ['scikit', 'learn', 's', 'api']
    """
    found = _TOKEN.findall(text.lower())
    if text.isascii():
        return found
    return [w if w.isascii() else fold_as_index(w) for w in found]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Index tokens of ``text`` with their character offsets (for quoting around a match)."""
    if text.isascii():
        return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]
    return [(fold_as_index(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]


@dataclass(frozen=True)
class Term:
    """One thing to look for.

    ``words`` are index tokens. ``kind`` is ``word`` (one token), ``compound`` (one written
    word the index splits, like ``scikit-learn`` or ``A/B``) or ``phrase`` (the user quoted
    it: the words must appear in this order). ``raw`` is the text as typed, for display.
    """

    words: tuple[str, ...]
    kind: str = "word"
    raw: str = ""
    negated: bool = False


@dataclass(frozen=True)
class DateRange:
    start: str | None = None  # inclusive ISO date
    end: str | None = None  # inclusive ISO date


@dataclass(frozen=True)
class Filters:
    guest: tuple[str, ...] = ()
    speaker: tuple[str, ...] = ()
    episode: tuple[str, ...] = ()
    dates: DateRange = DateRange()

    @property
    def any(self) -> bool:
        return bool(
            self.guest or self.speaker or self.episode or self.dates.start or self.dates.end
        )


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[Term, ...] = ()
    filters: Filters = Filters()
    notices: tuple[str, ...] = field(default=())

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.negated)

    @property
    def negative(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.negated)


def _read_value(text: str, i: int) -> tuple[str, int]:
    """A filter value at ``text[i:]``: a quoted string or up to the next space."""
    if i < len(text) and text[i] in _QUOTES:
        close = _QUOTES[text[i]]
        j = text.find(close, i + 1)
        if j == -1:
            return text[i + 1 :].strip(), len(text)
        return text[i + 1 : j].strip(), j + 1
    j = i
    while j < len(text) and not text[j].isspace():
        j += 1
    return text[i:j], j


def _chunk_term(chunk: str, negated: bool) -> Term | None:
    """A whitespace-separated chunk as a term: ``scikit-learn`` is one compound term."""
    chunk = chunk.strip("\"'“”‘’„«»()[]{}<>.,;:!?*")
    chunk = _CONTRACTION.sub("", chunk)
    words = tuple(tokens(chunk))
    if not words:
        return None
    kind = "compound" if len(words) > 1 else "word"
    return Term(words, kind, chunk, negated)


def parse_query(text: str) -> ParsedQuery:
    """Split what a member typed into terms and filters. Never raises.

    >>> q = parse_query('guest:hugo "argo scheduler" -spark after:2023')
    >>> [t.words for t in q.terms], q.filters.guest, q.filters.dates.start
    ([('argo', 'scheduler'), ('spark',)], ('hugo',), '2023-01-01')
    """
    text = (text or "")[:MAX_QUERY_CHARS].replace("\x00", " ")
    terms: list[Term] = []
    filters: dict[str, list[str]] = {"guest": [], "speaker": [], "episode": []}
    dates = {"start": None, "end": None}
    notices: list[str] = []
    i, n = 0, len(text)
    negate_next = False
    while i < n and len(terms) < MAX_TERMS:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        m = _FILTER.match(text, i)
        if m:
            name = _FILTER_NAMES[m.group(1).lower()]
            start = m.end()
            while start < n and text[start] == " ":  # "speaker: alexey" as typed in chat
                start += 1
            value, j = _read_value(text, start)
            if value:
                i = j
                if name in ("after", "before"):
                    parsed = period_bound(value, end=name == "before")
                    if parsed is None:
                        notices.append(
                            f"{m.group(1)}:{value} is not a date (use YYYY-MM-DD, YYYY-MM or "
                            "YYYY); that filter was left out"
                        )
                    else:
                        dates["start" if name == "after" else "end"] = parsed
                else:
                    filters[name].append(value)
                negate_next = False
                continue
            # "guest:" with nothing after it: just words.
        negated = negate_next
        negate_next = False
        if ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            negated, i = True, i + 1
            ch = text[i]
        if ch in _QUOTES:
            close = _QUOTES[ch]
            j = text.find(close, i + 1)
            if j != -1:
                inner = text[i + 1 : j]
                words = tuple(tokens(inner))
                if words:
                    terms.append(Term(words, "phrase", inner.strip(), negated))
                i = j + 1
                continue
            i += 1  # an unclosed quote: the rest are plain words
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _QUOTES:
            j += 1
        chunk = text[i:j]
        i = j
        if chunk == "NOT":
            negate_next = True
            continue
        term = _chunk_term(chunk, negated)
        if term is not None:
            terms.append(term)
    return ParsedQuery(
        text=text,
        terms=tuple(terms),
        filters=Filters(
            guest=tuple(filters["guest"]),
            speaker=tuple(filters["speaker"]),
            episode=tuple(filters["episode"]),
            dates=DateRange(dates["start"], dates["end"]),
        ),
        notices=tuple(notices),
    )


def with_filters(
    parsed: ParsedQuery,
    *,
    guest: str | None = None,
    episode: str | None = None,
    after: str | None = None,
    before: str | None = None,
) -> ParsedQuery:
    """``parsed`` narrowed by filters given as data (a form's choices), never as query text.

    ``guest`` is a guest's name, ``episode`` an episode id, ``after``/``before`` dates
    (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``, inclusive). They combine with filters typed in
    the query: both must hold (the later start and the earlier end of two date ranges).

    >>> q = with_filters(parse_query("argo after:2022"), guest="Hugo", after="2023-05-01")
    >>> q.filters.guest, q.filters.dates.start
    (('Hugo',), '2023-05-01')
    """
    filters, notices = parsed.filters, list(parsed.notices)
    dates = {"start": filters.dates.start, "end": filters.dates.end}
    for name, value in (("after", after), ("before", before)):
        if not value:
            continue
        bound = period_bound(value, end=name == "before")
        if bound is None:
            notices.append(f"{value} is not a date (use YYYY-MM-DD); that filter was left out")
            continue
        key = "start" if name == "after" else "end"
        have = dates[key]
        dates[key] = bound if have is None else (max if key == "start" else min)(have, bound)
    return replace(
        parsed,
        filters=Filters(
            guest=filters.guest + ((guest,) if guest else ()),
            speaker=filters.speaker,
            episode=filters.episode + ((episode,) if episode else ()),
            dates=DateRange(dates["start"], dates["end"]),
        ),
        notices=tuple(notices),
    )


# Words that never decide a match: function words and question words ("how did", "what does").
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each either else ever few for from further get gets getting got had hadn has
    hasn have haven having he her here hers herself him himself his how i if in into is isn it
    its itself just let lets like me might more most much must mustn my myself no nor not now
    of off on once only or other ought our ours ourselves out over own per please quite rather
    really s same shall she should shouldn so some such t than that the their theirs them
    themselves then there these they this those though through to too under until up upon us
    very via was wasn we were weren what whats when where whether which while who whom whose
    why will with within without won would wouldn yet you your yours yourself yourselves ve ll
    re d m
    """.split()
)
# Words people say to a bot around the thing they want ("tell me about", "the episode where"):
# they count if present but never decide a match.
WEAK_WORDS = frozenset(
    """
    tell told talk talked talking talks discuss discussed discussing mention mentioned mentions
    explain explained explains say says said anyone someone somebody something anything thing
    things know knows want wanted wants remember find show shows one ones guy guys
    episode episodes podcast podcasts
    """.split()
)
# Words that say "I want an episode" rather than a moment: they strengthen title matches.
EPISODE_WORDS = frozenset("episode episodes podcast podcasts".split())
