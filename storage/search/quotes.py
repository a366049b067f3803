"""Quotes: the one to three sentences of a passage that hold the match, and when they start.

A passage can be 90 words; a Slack quote should read on its own and stay short. We keep whole
sentences around the matched words (or, for unpunctuated captions, a window of about 10-25 s),
at most about 300 characters, and give the quote its own start second by word position within
the passage, so a link lands on the quote and not on the passage's first word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from storage.text import clean, sentence_spans

MAX_CHARS = 300
# Below this a quote reads as a fragment; we add a neighbouring sentence.
COMFORTABLE_CHARS = 150
MAX_SENTENCES = 3
# A sentence whose matched words come this many seconds after it starts is entered at a
# clause break nearer them, so the link lands on the moment, not on a long wind-up.
MAX_LEAD_SECONDS = 6.0
# Words that open a clause: a quote may start right after them ("...was that | we use Argo").
_CLAUSE_OPENERS = {
    "that", "so", "because", "and", "but", "which", "when", "where", "then", "like", "if",
    "whether", "while", "although", "though", "since",
}  # fmt: skip

# Annotations that survive cleaning when the source forgot the closing bracket: "[laughs Okay."
_LOOSE_ANNOTATION = re.compile(
    r"\[\s*(?:laughs?|laughter|chuckles?|cross-?talk|inaudible|audio cuts out|music|applause|"
    r"pause|silence|sighs?|coughs?)\b[^\[\]]{0,30}?(?:\]|(?=\s))",
    re.I,
)
_FILLER_SENTENCE = re.compile(
    r"^(?:yeah|yes|yep|okay|ok|right|sure|exactly|cool|great|nice|mm-?hmm|uh-?huh|wow|"
    r"absolutely|indeed|true|totally|definitely|so|well|and|um|uh)[\s,.!?…]*$",
    re.I,
)


@dataclass(frozen=True)
class Quote:
    text: str
    start: float
    end: float


def tidy(text: str) -> str:
    """Passage text fit to quote: bracketed annotations and stuttered fillers removed."""
    if "[" in text:
        text = _LOOSE_ANNOTATION.sub(" ", text)
    return clean(text)


def _time_at(text: str, char: int, start: float, end: float) -> float:
    """The time of the word at ``char``, spreading the passage's words evenly over its span."""
    total = len(text.split()) or 1
    before = len(text[:char].split())
    return round(start + (end - start) * min(before, total) / total, 2)


def _window(
    text: str, a: int, b: int, focus: list[tuple[int, float]], limit: int
) -> tuple[int, int]:
    """Cut ``text[a:b]`` to at most ``limit`` characters around the weightiest cluster of
    ``focus`` (offset, weight) matches, at word boundaries, preferring a clause break."""
    centre = a
    if focus:
        # The window (starting a little before some match) holding the most match weight.
        def held(start: int) -> float:
            lo = max(a, start - limit // 4)
            return sum(w for o, w in focus if lo <= o < lo + limit - 20)

        centre = max((o for o, _ in focus), key=lambda o: (held(o), -o))
    lo = max(a, centre - limit // 4)
    hi = min(b, lo + limit)
    lo = max(a, min(lo, hi - limit))
    # Snap to word boundaries.
    if lo > a:
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < centre else lo
    if hi < b:
        space = text.rfind(" ", lo, hi)
        hi = space if space > lo else hi
        comma = max(text.rfind(", ", lo, hi), text.rfind("; ", lo, hi), text.rfind(" – ", lo, hi))
        if comma > lo + limit // 2 and comma > max((o for o, _ in focus), default=lo):
            hi = comma
    return lo, hi


def _lead_in(text: str, a: int, first_match: int, time_of: Callable[[int], float]) -> int:
    """Where a quote of the sentence starting at ``a`` should start (a character offset).

    The sentence start, unless the first matched word comes more than MAX_LEAD_SECONDS after
    it: then the latest clause break that keeps two words of context before the match.
    """
    if time_of(first_match) - time_of(a) <= MAX_LEAD_SECONDS:
        return a
    best = a
    for m in re.finditer(r"\S+\s+", text[a:first_match]):
        word = m.group().strip()
        cut = a + m.end()
        if len(text[cut:first_match].split()) < 2:
            break
        if word.endswith((",", ";", ":")) or word.lower().strip("\"'“”") in _CLAUSE_OPENERS:
            best = cut
    return best


def _on_the_line(
    text: str,
    a: int,
    b: int,
    hits: list[tuple[int, float]],
    line_starts: list[float],
    limit: int,
    prefix: str,
    suffix: str,
) -> tuple[int, int, str, str]:
    """``text[a:b]`` moved to start at the caption line that holds its first matched word."""
    first_match = min((h for h, _ in hits if a <= h < b), default=None)
    if first_match is None:
        return a, b, prefix, suffix
    offsets = [m.start() for m in re.finditer(r"\S+", text)]
    k = min(len(text[:first_match].split()), len(offsets) - 1)
    j = k
    while j > 0 and line_starts[j - 1] == line_starts[k]:
        j -= 1
    line = offsets[j]
    if line == a:
        return a, b, prefix, suffix
    a = line
    prefix = "" if not text[:a].strip() or text[:a].rstrip().endswith((".", "?", "!")) else "…"
    if b - a < COMFORTABLE_CHARS and b < len(text):
        b, suffix = len(text), ""
    if b - a > limit:
        cut = text.rfind(" ", a, a + limit)
        b, suffix = (cut if cut > first_match else a + limit), "…"
    return a, b, prefix, suffix


def make_quote(
    text: str,
    matches: list[tuple[int, int]] | list[tuple[int, int, float]],
    start: float,
    end: float,
    limit: int = MAX_CHARS,
    word_times: list[float] | None = None,
    line_starts: list[float] | None = None,
) -> Quote:
    """The quote of a passage for matched character spans ``matches`` (start, end and,
    optionally, a weight: rarer query words weigh more).

    ``word_times`` (one per word of ``text.split()``, from the captions) time the quote
    exactly; without them its words are spread evenly over the passage's span.
    ``line_starts`` (one per word: when its caption line starts; captions-only episodes) make
    the quote start, and link, at the line where the first matched word is spoken.

    >>> text = "Yeah. We use Argo. It schedules the models. Then we ship."
    >>> q = make_quote(text, [(13, 17)], 0, 10)
    >>> q.text, q.start
    ('We use Argo. It schedules the models. Then we ship.', 0.91)
    """
    text = text.strip()
    if not text:
        return Quote("", start, end)
    timed = bool(word_times) and len(word_times) == len(text.split())

    def time_of(char: int) -> float:
        if timed:
            return word_times[min(len(text[:char].split()), len(word_times) - 1)]
        return _time_at(text, char, start, end)

    spans = sentence_spans(text)
    hits = [(m[0], m[2] if len(m) > 2 else 1.0) for m in matches]

    def weight(span: tuple[int, int]) -> float:
        return sum(w for h, w in hits if span[0] <= h < span[1])

    best = max(range(len(spans)), key=lambda i: (weight(spans[i]), -i)) if hits else 0
    lo_i = hi_i = best

    def size(i: int, j: int) -> int:
        return spans[j][1] - spans[i][0]

    if size(lo_i, hi_i) <= limit:
        # Grow with whole sentences: forward first (an answer continues), then back.
        while hi_i - lo_i + 1 < MAX_SENTENCES:
            grown = False
            if size(lo_i, hi_i) < COMFORTABLE_CHARS or weight(spans[min(hi_i + 1, len(spans) - 1)]):
                if hi_i + 1 < len(spans) and size(lo_i, hi_i + 1) <= limit:
                    hi_i, grown = hi_i + 1, True
            if not grown and size(lo_i, hi_i) < COMFORTABLE_CHARS and lo_i > 0:
                if size(lo_i - 1, hi_i) <= limit and not _FILLER_SENTENCE.match(
                    text[spans[lo_i - 1][0] : spans[lo_i - 1][1]]
                ):
                    lo_i, grown = lo_i - 1, True
            if not grown:
                break
        # A leading "Yeah." or "Okay." says nothing; drop it when there is more.
        while lo_i < hi_i and _FILLER_SENTENCE.match(text[spans[lo_i][0] : spans[lo_i][1]]):
            lo_i += 1
        a, b = spans[lo_i][0], spans[hi_i][1]
        prefix = suffix = ""
        first_match = min((h for h, _ in hits if a <= h < b), default=None)
        if first_match is not None and lo_i == best:
            cut = _lead_in(text, a, first_match, time_of)
            if cut > a:
                a, prefix = cut, "…"
    else:
        # One sentence (or unpunctuated captions) longer than a quote: a window of words.
        a, b = spans[best]
        focus = sorted((h, w) for h, w in hits if a <= h < b)
        a2, b2 = _window(text, a, b, focus, limit - 2)
        prefix = "…" if a2 > a else ""
        suffix = "…" if b2 < b else ""
        a, b = a2, b2
    if timed and line_starts is not None and len(line_starts) == len(word_times):
        a, b, prefix, suffix = _on_the_line(text, a, b, hits, line_starts, limit, prefix, suffix)
    body = text[a:b].strip()
    if suffix and body.endswith((",", ";", " –")):
        body = body.rstrip(",; –")
    if timed:
        first = len(text[:a].split())
        last = max(first, len(text[:b].split()) - 1)
        q_start = word_times[min(first, len(word_times) - 1)]
        q_end = word_times[last + 1] if last + 1 < len(word_times) else end
        return Quote(prefix + body + suffix, round(q_start, 2), round(max(q_end, q_start), 2))
    return Quote(
        prefix + body + suffix,
        _time_at(text, a, start, end),
        _time_at(text, b, start, end),
    )
