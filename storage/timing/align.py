"""Aligning an edited transcript's words to caption words, so edited quotes get caption times.

Edited transcripts read well but carry one coarse timestamp per paragraph; auto-captions are
garbled but timed to the second. :func:`align` pairs the two word streams and gives every edited
word the caption time of the word it was matched to, interpolating for words in between.

The matching is patience-diff style, so it stays linear-ish on an hour (10k words) and is not
fooled by common words: n-grams that occur exactly once on both sides anchor the alignment (the
longest increasing chain of them, so a stray repeat cannot pull it out of order), the gaps
between anchors are matched the same way with their own, now local, unique n-grams, and what
is left in small gaps is filled by a longest-common-subsequence (rapidfuzz, C). Speech
recognition errors ("metaphor" for Metaflow) and edits simply stay unmatched; their times are
interpolated between the matched words around them.

Pure functions, no database: ``storage.timing.tracks`` stores and applies the result.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import LCSseq

from storage.text import normalise_word, word_tokens
from storage.timing.passages import SPEECH_RATE

# n-gram sizes tried for anchors, longest first, in every region, with the largest region (in
# tokens, the longer side) where an n-gram that is unique on both sides is still evidence
# rather than chance: a lone "we'll" unique in 250 tokens of an omitted intro is not.
ANCHOR_SIZES = ((4, 1 << 30), (3, 1000), (2, 120), (1, 30))
# A gap without unique anchors is matched by LCS only when both sides are at most this many
# tokens: in longer gaps an LCS would scatter common words ("the", "so") across the gap.
MAX_FILL = 80
# Captions are taken as this transcript's recording when at least MIN_MATCHED of its words (or
# half, for a short one) and MIN_DENSITY of the words in the part they cover are found.
MIN_MATCHED = 50
MIN_DENSITY = 0.5


def tokenise(words: Sequence[str]) -> tuple[list[str], list[int]]:
    """All tokens of ``words`` and, for each token, the index of the word it came from."""
    tokens: list[str] = []
    owner: list[int] = []
    for i, word in enumerate(words):
        for token in word_tokens(word):
            tokens.append(token)
            owner.append(i)
    return tokens, owner


def _unique_ngrams(seq: Sequence[str], lo: int, hi: int, n: int) -> dict[tuple[str, ...], int]:
    """n-grams of ``seq[lo:hi]`` that occur exactly once there, with their start."""
    seen: dict[tuple[str, ...], int] = {}
    repeated: set[tuple[str, ...]] = set()
    for k in range(lo, hi - n + 1):
        gram = tuple(seq[k : k + n])
        if gram in seen:
            repeated.add(gram)
        else:
            seen[gram] = k
    for gram in repeated:
        del seen[gram]
    return seen


def _longest_chain(anchors: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of (i, j) pairs (sorted by i) whose j also increase."""
    tails: list[int] = []  # tails[k]: smallest j ending a chain of length k + 1
    tail_at: list[int] = []  # index into anchors of that chain end
    back: list[int] = [-1] * len(anchors)
    for idx, (_, j) in enumerate(anchors):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(idx)
        else:
            tails[k] = j
            tail_at[k] = idx
        back[idx] = tail_at[k - 1] if k else -1
    chain = []
    idx = tail_at[-1] if tail_at else -1
    while idx >= 0:
        chain.append(anchors[idx])
        idx = back[idx]
    return chain[::-1]


def match_tokens(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Monotonic pairs (i, j) with ``a[i] == b[j]``: the alignment of two token streams.

    >>> match_tokens("so we use argo now".split(), "uh so we use the argo scheduler".split())
    [(0, 1), (1, 2), (2, 3), (3, 5)]
    """
    pairs: list[tuple[int, int]] = []
    regions = [(0, len(a), 0, len(b))]
    while regions:
        a0, a1, b0, b1 = regions.pop()
        # Equal tokens at the region's edges match outright (cheap, and common).
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:
            pairs.append((a0, b0))
            a0, b0 = a0 + 1, b0 + 1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:
            a1, b1 = a1 - 1, b1 - 1
            pairs.append((a1, b1))
        if a0 >= a1 or b0 >= b1:
            continue
        chain: list[tuple[int, int]] = []
        for n, most in ANCHOR_SIZES:
            if n > a1 - a0 or n > b1 - b0 or max(a1 - a0, b1 - b0) > most:
                continue
            in_b = _unique_ngrams(b, b0, b1, n)
            if not in_b:
                continue
            in_a = _unique_ngrams(a, a0, a1, n)
            anchors = sorted((i, in_b[g]) for g, i in in_a.items() if g in in_b)
            if anchors:
                chain = _longest_chain(anchors)
                size = n
                break
        if not chain:
            if a1 - a0 <= MAX_FILL and b1 - b0 <= MAX_FILL:
                for op in LCSseq.opcodes(a[a0:a1], b[b0:b1]):
                    if op.tag == "equal":
                        pairs.extend(
                            (a0 + k, b0 + op.dest_start - op.src_start + k)
                            for k in range(op.src_start, op.src_end)
                        )
            continue
        # Matched anchors split the region; the gaps between them are new regions.
        prev_i, prev_j = a0, b0
        for i, j in chain:
            if i < prev_i or j < prev_j:
                continue  # overlaps the previous anchor inconsistently
            regions.append((prev_i, i, prev_j, j))
            pairs.extend((i + k, j + k) for k in range(size))
            prev_i, prev_j = i + size, j + size
        regions.append((prev_i, a1, prev_j, b1))
    pairs.sort()
    return pairs


@dataclass(frozen=True)
class Alignment:
    """Times for an edited word stream, taken from captions.

    ``times[k]`` is when edited word ``k`` is spoken. ``matched`` edited words were found in
    the captions (the rest are interpolated), ``first`` to ``last`` (word indexes) is the part
    of the transcript the captions cover.
    """

    times: tuple[float, ...]
    matched: int
    first: int = 0
    last: int = -1

    @property
    def coverage(self) -> float:
        """Share of the edited words found in the captions."""
        return self.matched / len(self.times) if self.times else 0.0

    @property
    def usable(self) -> bool:
        """The captions are this recording: within the part they cover, most words match.

        Unrelated episodes share only scattered common phrases (2-4% of words, spread over the
        whole text); captions of part of the recording match densely over that part.
        """
        span = self.last - self.first + 1
        enough = min(MIN_MATCHED, (len(self.times) + 1) // 2)
        return self.matched >= max(enough, 1) and self.matched >= MIN_DENSITY * span


def _at(times: Sequence[float], position: float) -> float:
    """The time at a fractional caption-word position (linear between neighbours)."""
    k = int(position)
    if k >= len(times) - 1:
        return times[-1]
    return times[k] + (times[k + 1] - times[k]) * (position - k)


def align(
    edited: Sequence[str],
    captions: Sequence[str],
    caption_times: Sequence[float],
    fallback: Sequence[float] | None = None,
) -> Alignment:
    """Give each edited word the caption time it is spoken at.

    Args:
        edited: the edited transcript's word stream (``storage.timing.passages.segment_words``).
        captions: the captions' word stream.
        caption_times: a time per caption word (``storage.timing.passages.word_times``).
        fallback: the edited transcript's own time per word, used where the captions stop
            (captions of part of the recording).

    Words matched to a caption word take its time. Words between two matched words are placed
    proportionally between them in caption-word position (so a pause in speech stays a pause).
    Words before the first or after the last match keep their ``fallback`` times shifted to meet
    the matched ones, or without a fallback are extrapolated at speaking pace.

    Example:
        >>> result = align("So, Argo schedules it.".split(), "so argo schedules it".split(),
        ...                [10.0, 10.5, 11.0, 12.0])
        >>> result.times, result.matched
        ((10.0, 10.5, 11.0, 12.0), 4)
    """
    if len(captions) != len(caption_times):
        raise ValueError("one time per caption word is needed")
    if fallback is not None and len(fallback) != len(edited):
        raise ValueError("one fallback time per edited word is needed")
    a, a_owner = tokenise(edited)
    b, b_owner = tokenise(captions)
    n = len(edited)
    # Each edited word takes the caption position of its first matched token.
    position: list[float | None] = [None] * n
    for i, j in match_tokens(a, b):
        w = a_owner[i]
        if position[w] is None:
            position[w] = float(b_owner[j])
    known = [w for w in range(n) if position[w] is not None]
    if not known:
        return Alignment(tuple(fallback or (0.0,) * n), 0)
    times = [0.0] * n
    for w in known:
        times[w] = caption_times[int(position[w])]  # type: ignore[arg-type]
    for left, right in zip(known, known[1:], strict=False):
        if right - left > 1:
            p0, p1 = position[left], position[right]
            for w in range(left + 1, right):
                where = p0 + (p1 - p0) * (w - left) / (right - left)  # type: ignore[operator]
                times[w] = _at(caption_times, where)
    first, last = known[0], known[-1]
    for w in range(first):
        if fallback is not None:
            guess = fallback[w] + times[first] - fallback[first]
        else:
            guess = times[first] - (first - w) / SPEECH_RATE
        times[w] = min(max(0.0, guess), times[first])
    for w in range(last + 1, n):
        if fallback is not None:
            guess = fallback[w] + times[last] - fallback[last]
        else:
            guess = times[last] + (w - last) / SPEECH_RATE
        times[w] = max(guess, times[last])
    return Alignment(tuple(round(t, 2) for t in times), len(known), first, last)


def phrase_matches(
    lines: Sequence[Sequence[str]], words: Sequence[str], min_words: int = 5
) -> list[tuple[int, int]]:
    """Lines found verbatim, exactly once, in a word stream: ``(line index, word index)``.

    The yardstick for alignment, independent of it: a caption line of at least ``min_words``
    words that occurs once in the edited text pins the edited word where it starts to the
    caption line's time. Words compare by :func:`storage.text.normalise_word`.

    >>> phrase_matches([["the", "Argo", "scheduler"]], "with the argo scheduler, so".split(), 3)
    [(0, 1)]
    """
    norm = [normalise_word(w) for w in words]
    starts, pos = [], 1
    for w in norm:
        starts.append(pos)
        pos += len(w) + 1
    haystack = " " + " ".join(norm) + " "
    found = []
    for k, line in enumerate(lines):
        phrase = [t for t in (normalise_word(w) for w in line) if t]
        if len(phrase) < min_words:
            continue
        needle = " " + " ".join(phrase) + " "
        at = haystack.find(needle)
        if at < 0 or haystack.find(needle, at + 1) >= 0:
            continue
        found.append((k, bisect_right(starts, at + 1) - 1))
    return found
