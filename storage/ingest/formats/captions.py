"""Caption lines as copied from YouTube's transcript panel: ``M:SS text`` or ``HH:MM:SS text``.

Also recognises chapter lists (``HH:MM:SS Title``, one short title a line, minutes apart), which
look like caption lines but are not transcripts; see :func:`looks_like_chapter_list`.
"""

from __future__ import annotations

import re
from pathlib import Path

from storage.clock import clock_seconds
from storage.ingest.formats.base import Format, NotATranscript, ParseError
from storage.ingest.formats.cues import check_order, check_time
from storage.models import Chapter, EpisodeMeta, Segment, Transcript, TranscriptKind

_LINE = re.compile(r"^\s*(?:\[)?(?:(\d{1,2}):)?(\d{1,3}):(\d{2})(?:[.,](\d{1,3}))?(?:\])?\s*(.*)$")


def timed_lines(text: str) -> list[tuple[int, float, str]]:
    """(line number, seconds, text) for every timestamped line.

    A line without a time continues the line before it: YouTube's transcript panel copies
    as a time on one line and its words on the next, and long captions wrap. Text before the
    first time is an error.
    """
    out: list[list] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        m = _LINE.match(raw)
        if not m:
            if not out:
                raise ParseError(
                    f"expected 'M:SS text' or 'HH:MM:SS text', found {raw.strip()[:60]!r}", no
                )
            out[-1][2] = f"{out[-1][2]} {raw.strip()}".lstrip()
            continue
        h, mi, s, frac, rest = m.groups()
        if int(s) >= 60 or (h is not None and int(mi) >= 60):
            raise ParseError(f"impossible time {raw.split()[0]!r} (seconds or minutes ≥ 60)", no)
        out.append([no, clock_seconds(h, mi, s, frac), rest.strip()])
    return [(no, sec, body) for no, sec, body in out]


def looks_like_chapter_list(lines: list[tuple[int, float, str]]) -> bool:
    """Chapter lists: few lines, minutes apart, each a short title in Title Case."""
    if not lines or len(lines) > 80:
        return False
    gaps = [b[1] - a[1] for a, b in zip(lines, lines[1:], strict=False)]
    median_gap = sorted(gaps)[len(gaps) // 2] if gaps else 0
    titled = sum(1 for _, _, t in lines if t[:1].isupper() and len(t.split()) <= 14)
    return (len(lines) == 1 or median_gap >= 45) and titled >= 0.8 * len(lines)


def chapters_from_lines(lines: list[tuple[int, float, str]]) -> tuple[Chapter, ...]:
    return tuple(Chapter(t, s) for _, s, t in lines if t)


def parse(text: str, path: Path) -> Transcript:
    lines = timed_lines(text)
    if not lines:
        raise ParseError("no timestamped lines found", 1)
    if looks_like_chapter_list(lines):
        raise NotATranscript(
            "a chapter list (HH:MM:SS Title lines), not a transcript", chapter_list=True
        )
    segments = []
    previous: float | None = None
    for no, sec, body in lines:
        check_time(sec, no)
        check_order(sec, previous, no)
        previous = sec
        if body:
            segments.append(Segment(sec, None, None, body, None, no))
    # A caption ends where the next one starts.
    segments = [
        Segment(
            s.start,
            segments[i + 1].start if i + 1 < len(segments) else None,
            None,
            s.text,
            None,
            s.line,
        )
        for i, s in enumerate(segments)
    ]
    return Transcript(
        meta=EpisodeMeta(),
        segments=tuple(segments),
        format="captions",
        kind=TranscriptKind.CAPTIONS,
    )


def _sniff(head: str) -> bool:
    lines = [ln for ln in head.splitlines()[:20] if ln.strip()]
    if not lines or not _LINE.match(lines[0]):
        return False
    # One caption a line, or (transcript panel copies) a time line then a text line.
    return sum(1 for ln in lines if _LINE.match(ln)) >= max(1, int(len(lines) * 0.45))


FORMAT = Format(
    name="captions",
    extensions=(".txt",),
    parse=parse,
    sniff=_sniff,
    help="caption lines 'M:SS text' or 'HH:MM:SS text' (YouTube transcript panel copies)",
)
