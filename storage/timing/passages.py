"""From transcript segments to quotable passages with a start second each.

Two steps. :func:`word_times` gives every word of the episode a time: caption fragments
spread their words over their own few seconds; edited paragraphs spread theirs between this
paragraph's timestamp and the next distinct one (so a two-minute paragraph's later sentences
don't all claim its first second). Alignment with captions (``storage.timing.tracks``) can replace
those times: :func:`build_passages` takes them as ``times=``.

:func:`build_passages` then cuts the word stream into passages. First into *runs* that must not
be crossed: a change of speaker (named, or a caption's ``- ``/``>>`` mark), of chapter, or (for
captions) a pause. Then each run into passages of about ``TARGET_WORDS``, cut between sentences
(between paragraphs when one is near), balanced so a run of 70 words stays whole and one of 120
becomes two of 60, never a 55 and a 15. Caption fragments are merged this way; long paragraphs
are split into a few sentences each.

The word stream is ``segment_words``: passage ``p`` holds words ``p.word_start:p.word_end`` and
``p.text`` is exactly those words joined by single spaces.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import ceil

from storage.models import Passage, Segment, TranscriptKind
from storage.text import clean, sentences, starts_turn

# Passage size, in words (speech runs at about 2.5 words a second).
TARGET_WORDS = 55
MAX_WORDS = 90
MIN_WORDS = 18
MAX_PASSAGE_SECONDS = 40.0
PAUSE_SECONDS = 4.0
# Edited paragraphs whose timestamps jump (cut material, or a slip in the file) by more than
# this beyond their words' length are not joined into one passage.
JUMP_SECONDS = 30.0
# Edited paragraphs: words per second bounds used when the gap to the next timestamp
# is missing or implausible.
SPEECH_RATE = 2.6
SLOWEST_RATE = 1.2
# A passage ends where its next word starts, but no later than this after its last word starts.
LAST_WORD_SECONDS = 1.5
# How many words a cut may move to land between paragraphs (or, in captions, sentences).
_PARAGRAPH_PULL = 12
_SENTENCE_PULL = 5
_SENTENCE_FINAL_SUFFIXES = (".", "!", "?", "…", '."', ".”", "?”", "!”", ".)", "?)")
# Unpunctuated captions have no sentences: cut where a clause likely starts, not after a word
# that cannot end one ("host of the banished | ingredients podcast" loses the show's name).
_CLAUSE_STARTS = frozenset(
    "so and but because yeah yes okay ok now then well i we you they he she it this that "
    "what how why when where which who if like actually also".split()
)
_NOT_FINAL = frozenset(
    "the a an of to in on at for with from by about into and or but my your our their his her "
    "its is are was were be been this that these those very".split()
)


def segment_words(segments: Sequence[Segment]) -> list[list[str]]:
    """The cleaned words of each segment, in order; the episode's word stream."""
    return [clean(seg.text).split() for seg in segments]


def line_starts(segments: Sequence[Segment]) -> list[float]:
    """For every word of a captions word stream, the second its caption line starts.

    A captions quote starts (and links) at the line where its first matched word is spoken:
    the line's own time, not a time spread across the line's words.
    """
    per_segment = segment_words(segments)
    times = word_times(segments, TranscriptKind.CAPTIONS, per_segment)
    out: list[float] = []
    for ws in per_segment:
        if ws:
            out.extend([times[len(out)]] * len(ws))
    return out


def word_times(
    segments: Sequence[Segment], kind: TranscriptKind, per_segment: list[list[str]] | None = None
) -> list[float]:
    """A start time for every word of the cleaned word stream."""
    if per_segment is None:
        per_segment = segment_words(segments)
    times: list[float] = []
    n = len(segments)
    if kind == TranscriptKind.CAPTIONS:
        floor = 0.0
        for i, (seg, ws) in enumerate(zip(segments, per_segment, strict=True)):
            if not ws:
                continue
            start = max(seg.start, floor)  # cues that step back a little keep time moving on
            nxt = segments[i + 1].start if i + 1 < n else None
            end = seg.end if seg.end is not None and seg.end > start else nxt
            if nxt is not None and nxt > start and (end is None or end > nxt):
                end = nxt  # overlapping cues: the next cue's words start then
            count = len(ws)
            span = (end - start) if end is not None and end > start else count / SPEECH_RATE
            step = span / count
            times.extend([start + step * k for k in range(count)])
            floor = start + step * (count - 1)
        return times
    # Edited: runs of entries sharing one timestamp are spread together up to the next one.
    i = 0
    while i < n:
        j = i
        while j + 1 < n and segments[j + 1].start == segments[i].start:
            j += 1
        run_words = sum(len(ws) for ws in per_segment[i : j + 1])
        start = segments[i].start
        nxt = segments[j + 1].start if j + 1 < n else None
        if nxt is not None and nxt > start:
            span = min(nxt - start, run_words / SLOWEST_RATE)
        else:
            span = run_words / SPEECH_RATE
        step = span / max(run_words, 1)
        times.extend([start + step * k for k in range(run_words)])
        i = j + 1
    return times


@dataclass
class _Pieces:
    """Sentence-ish pieces as parallel lists: segment index, first word, word count, text."""

    seg_of: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def end_word(self, b: int) -> int:
        """The word index just past pieces ``:b``."""
        return self.first[b - 1] + self.count[b - 1]


def _pieces(per_segment: list[list[str]]) -> _Pieces:
    pieces = _Pieces()
    seg_of, first, count, text = pieces.seg_of, pieces.first, pieces.count, pieces.text
    offset = 0
    longest = MAX_WORDS - MIN_WORDS
    for i, ws in enumerate(per_segment):
        if not ws:
            continue
        for part in sentences(" ".join(ws)):
            n = part.count(" ") + 1
            if n <= longest:
                seg_of.append(i)
                first.append(offset)
                count.append(n)
                text.append(part)
                offset += n
                continue
            # A run-on "sentence" longer than a passage: equal chunks, not a long one and a stub.
            pw = part.split()
            size = ceil(n / ceil(n / longest))
            for k in range(0, n, size):
                chunk = pw[k : k + size]
                seg_of.append(i)
                first.append(offset)
                count.append(len(chunk))
                text.append(" ".join(chunk))
                offset += len(chunk)
    return pieces


def build_passages(
    segments: Sequence[Segment], kind: TranscriptKind, times: Sequence[float] | None = None
) -> list[Passage]:
    """Cut an episode's segments into passages; ``times`` overrides :func:`word_times`.

    Example:
        >>> segs = [Segment(0.0, None, "Ana", "Feature stores keep features. They help.")]
        >>> [p.text for p in build_passages(segs, "edited")]
        ['Feature stores keep features. They help.']
    """
    per_segment = segment_words(segments)
    if times is None:
        times = word_times(segments, kind, per_segment)
    total = len(times)
    if total == 0:
        return []
    pieces = _pieces(per_segment)
    captions = kind == TranscriptKind.CAPTIONS
    passages: list[Passage] = []
    run_start = 0
    n = len(pieces.seg_of)
    for p in range(1, n + 1):
        if p < n and not _boundary(segments, pieces, times, p, captions):
            continue
        for a, b in _split_run(pieces, times, run_start, p, captions):
            passages.append(_passage(segments, pieces, times, a, b))
        run_start = p
    return passages


def _boundary(
    segments: Sequence[Segment], pieces: _Pieces, times: Sequence[float], p: int, captions: bool
) -> bool:
    """Must a passage end before piece ``p``?"""
    seg_of, first = pieces.seg_of, pieces.first
    i, prev_i = seg_of[p], seg_of[p - 1]
    if i == prev_i:
        return False
    seg, prev = segments[i], segments[prev_i]
    if seg.speaker != prev.speaker or seg.chapter != prev.chapter:
        return True
    if not captions:
        return abs(times[first[p]] - times[first[p] - 1]) > JUMP_SECONDS
    if starts_turn(seg.text):
        return True
    if prev.end is not None:
        gap = seg.start - prev.end
    else:
        gap = times[first[p]] - times[first[p] - 1] - 1 / SPEECH_RATE
    return gap > PAUSE_SECONDS


def _split_run(
    pieces: _Pieces, times: Sequence[float], a: int, b: int, captions: bool
) -> list[tuple[int, int]]:
    """Pieces ``a:b`` (one speaker, one chapter) as balanced passages: [(first, end), ...]."""
    seg_of, first, text = pieces.seg_of, pieces.first, pieces.text
    words = pieces.end_word(b) - first[a]
    span = _time(times, pieces.end_word(b) - 1) - times[first[a]]
    if b - a == 1 or (words <= MAX_WORDS and (not captions or span <= MAX_PASSAGE_SECONDS)):
        return [(a, b)]
    parts = max(1, round(words / TARGET_WORDS))
    while words / parts > MAX_WORDS:
        parts += 1
    if parts == 1:
        parts = 2  # over the time limit only
    # Word offsets (from the run's start) where a cut can go: after each piece but the last.
    offsets = [first[k] - first[a] for k in range(a + 1, b)]
    cuts: list[int] = []
    lowest = 0
    for j in range(1, parts):
        ideal = words * j / parts
        best, best_cost = None, None
        lo = bisect_left(offsets, ideal - _PARAGRAPH_PULL - 1, lowest)
        for k in range(lo, len(offsets)):
            off = offsets[k]
            if off > ideal + _PARAGRAPH_PULL + 1:
                break
            cost = abs(off - ideal)
            piece = a + 1 + k  # the piece the cut would start
            if captions:
                cost -= _caption_cut_bonus(text[piece - 1], text[piece])
            elif seg_of[piece] != seg_of[piece - 1]:
                cost -= _PARAGRAPH_PULL
            if best_cost is None or cost < best_cost:
                best, best_cost = k, cost
        if best is None:  # no piece boundary near: the nearest one after the last cut
            best = min(bisect_left(offsets, ideal, lowest), len(offsets) - 1)
        if best < lowest:
            continue
        cuts.append(a + 1 + best)
        lowest = best + 1
    bounds = [a, *cuts, b]
    out: list[tuple[int, int]] = []
    for x, y in zip(bounds, bounds[1:], strict=False):
        if y <= x:
            continue
        n = pieces.end_word(y) - first[x]
        s = _time(times, pieces.end_word(y) - 1) - times[first[x]]
        if y - x > 1 and (
            n > MAX_WORDS or (captions and s > MAX_PASSAGE_SECONDS and n >= MIN_WORDS)
        ):
            out.extend(_split_run(pieces, times, x, y, captions))
        else:
            out.append((x, y))
    return out


def _caption_cut_bonus(before: str, after: str) -> float:
    """How much better (in words) a cut between two caption pieces is than an arbitrary one.

    Any cut at a sentence end or before a likely clause start within reach beats any other.
    """
    if before.endswith(_SENTENCE_FINAL_SUFFIXES):
        return 4 * _PARAGRAPH_PULL
    last = before.rsplit(" ", 1)[-1].lower().strip(",;:")
    first = after.split(" ", 1)[0].lower().strip(",;:")
    bonus = 3 * _PARAGRAPH_PULL if first in _CLAUSE_STARTS else 0.0
    return bonus - (_PARAGRAPH_PULL if last in _NOT_FINAL else 0.0)


def _time(times: Sequence[float], k: int) -> float:
    return times[min(k, len(times) - 1)]


def _passage(
    segments: Sequence[Segment], pieces: _Pieces, times: Sequence[float], a: int, b: int
) -> Passage:
    seg_of, text = pieces.seg_of, pieces.text
    w0 = pieces.first[a]
    w1 = pieces.end_word(b)
    start = times[w0]
    last_word = times[w1 - 1]
    following = times[w1] if w1 < len(times) else None
    last_seg = segments[seg_of[b - 1]]
    ends_segment = b == len(seg_of) or seg_of[b] != seg_of[b - 1]
    if ends_segment and last_seg.end is not None and last_seg.end > last_word:
        # The cue says when its words end; overlapping cues end when the next one starts.
        end = min(last_seg.end, following) if following is not None else last_seg.end
    else:
        end = last_word + LAST_WORD_SECONDS
        if following is not None:
            end = min(end, following)
    seg = segments[seg_of[a]]
    return Passage(
        start=round(start, 2),
        end=round(max(end, start), 2),
        speaker=seg.speaker,
        chapter=seg.chapter,
        text=" ".join(text[a:b]),
        word_start=w0,
        word_end=w1,
    )
