"""From transcript segments to quotable passages with a start second each.

Two steps. :func:`word_times` gives every word of the episode a time: caption fragments
spread their words over their own few seconds; edited paragraphs spread theirs between this
paragraph's timestamp and the next distinct one (so a two-minute paragraph's later sentences
don't all claim its first second). Alignment with captions (``storage.align``) can replace
those times. :func:`build_passages` then cuts the word stream into passages: caption fragments
are merged, long paragraphs split at sentence ends, always breaking at speaker changes,
chapters and long pauses.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Passage, Segment
from storage.text import clean, sentences

# Passage size, in words (speech runs at about 2.5 words a second).
TARGET_WORDS = 55
MAX_WORDS = 90
MIN_WORDS = 18
MAX_SECONDS = 40.0
PAUSE_SECONDS = 4.0
# Edited paragraphs: words per second bounds used when the gap to the next timestamp
# is missing or implausible.
SPEECH_RATE = 2.6
SLOWEST_RATE = 1.2


def segment_words(segments: Sequence[Segment]) -> list[list[str]]:
    """The cleaned words of each segment, in order; the episode's word stream."""
    return [clean(seg.text).split() for seg in segments]


def word_times(
    segments: Sequence[Segment], kind: str, per_segment: list[list[str]] | None = None
) -> list[float]:
    """A start time for every word of the cleaned word stream."""
    if per_segment is None:
        per_segment = segment_words(segments)
    times: list[float] = []
    n = len(segments)
    if kind == "captions":
        for i, (seg, ws) in enumerate(zip(segments, per_segment, strict=True)):
            nxt = segments[i + 1].start if i + 1 < n else None
            end = seg.end if seg.end is not None and seg.end > seg.start else nxt
            if nxt is not None and nxt > seg.start and (end is None or end > nxt):
                end = nxt  # overlapping cues: the next cue's words start then
            span = (
                (end - seg.start) if end is not None and end > seg.start else len(ws) / SPEECH_RATE
            )
            times.extend(seg.start + span * k / max(len(ws), 1) for k in range(len(ws)))
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
        natural = run_words / SPEECH_RATE
        if nxt is not None and nxt > start:
            span = min(nxt - start, run_words / SLOWEST_RATE)
        else:
            span = natural
        k = 0
        for ws in per_segment[i : j + 1]:
            for _ in ws:
                times.append(start + span * k / max(run_words, 1))
                k += 1
        i = j + 1
    return times


def _pieces(segments: Sequence[Segment], per_segment: list[list[str]]):
    """Yield (segment index, first word index, word count, text) for each sentence-ish piece."""
    offset = 0
    for i, ws in enumerate(per_segment):
        if not ws:
            continue
        text = " ".join(ws)
        parts = sentences(text)
        for part in parts:
            pw = part.split()
            # A run-on "sentence" longer than a passage is cut into passage-sized pieces.
            for k in range(0, len(pw), MAX_WORDS - MIN_WORDS):
                chunk = pw[k : k + MAX_WORDS - MIN_WORDS]
                yield i, offset, len(chunk), " ".join(chunk)
                offset += len(chunk)


def build_passages(
    segments: Sequence[Segment], kind: str, times: Sequence[float] | None = None
) -> list[Passage]:
    """Cut an episode's segments into passages; ``times`` overrides :func:`word_times`."""
    per_segment = segment_words(segments)
    if times is None:
        times = word_times(segments, kind, per_segment)
    total = len(times)
    passages: list[Passage] = []
    cur: list[tuple[int, int, int, str]] = []

    def flush() -> None:
        if not cur:
            return
        seg = segments[cur[0][0]]
        w0 = cur[0][1]
        w1 = cur[-1][1] + cur[-1][2]
        last_seg = segments[cur[-1][0]]
        end = times[w1] if w1 < total else (last_seg.end or times[w1 - 1] + 1.0)
        start = times[w0]
        if last_seg.end is not None and w1 >= total:
            end = max(end, last_seg.end)
        passages.append(
            Passage(
                start=round(start, 2),
                end=round(max(end, start), 2),
                speaker=seg.speaker,
                chapter=seg.chapter,
                text=" ".join(p[3] for p in cur),
                word_start=w0,
                word_end=w1,
            )
        )
        cur.clear()

    for piece in _pieces(segments, per_segment):
        seg_idx, w0, count, text = piece
        if cur:
            prev_seg = segments[cur[-1][0]]
            seg = segments[seg_idx]
            cur_words = sum(p[2] for p in cur)
            cur_start = times[cur[0][1]]
            piece_end = times[min(w0 + count, total - 1)]
            prev_last_word = cur[-1][1] + cur[-1][2] - 1
            gap = times[w0] - times[prev_last_word]
            ends_sentence = cur[-1][3].rstrip("\"'”’)").endswith((".", "!", "?", "…"))
            if (
                seg.speaker != prev_seg.speaker
                or seg.chapter != prev_seg.chapter
                or (kind == "captions" and gap > PAUSE_SECONDS and cur_words >= MIN_WORDS // 2)
                or cur_words + count > MAX_WORDS
                or (piece_end - cur_start > MAX_SECONDS and cur_words >= MIN_WORDS)
                or (cur_words >= TARGET_WORDS and (ends_sentence or kind == "captions"))
            ):
                flush()
        cur.append(piece)
    flush()
    return passages
