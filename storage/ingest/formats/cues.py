"""What the cue formats (WebVTT, SRT, caption JSON) share: times, speaker labels, turns.

A cue is a few seconds of captions with a start and end. Speakers show up in three ways, all
handled here: a ``Name: text`` label (the name then carries over to later cues until the next
label), a WebVTT voice tag (``<v Name>``, turned into a label by the VTT parser), or an unnamed
change of speaker marked ``- text`` (or ``>> text`` in YouTube captions). One cue can hold several
turns (``Bekah: Yes. Dan: No.`` or ``- Bye, everyone. - Bye.``); each becomes its own segment,
with the cue's time shared out by length.

Unnamed turns keep their leading ``- ``/``>>`` in the segment text (segments are verbatim);
:func:`storage.text.starts_turn` is how passage building sees the change of speaker.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.clock import clock_seconds, exact_clock
from storage.ingest.formats.base import (
    MAX_EPISODE_SECONDS,
    TOO_MANY_DIGITS,
    NestingError,
    ParseError,
    shown_number,
)
from storage.models import EpisodeMeta, Segment, Transcript, TranscriptKind
from storage.text import TURN_MARK, starts_turn

# Cues may overlap or step back a little (hand-made SRT does); further back is a misordered file.
MAX_BACKSTEP = 30.0

_TIME = r"(-?)(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,:](\d{1,3}))?"
TIMING = re.compile(rf"^\s*{_TIME}\s*-{{1,2}}>\s*{_TIME}(?![\w:.,])(.*)$")
# A name of one to four capitalised words (with van/de/... particles) and a colon.
_LABEL = re.compile(r"^\s*(?:>>\s*)?([^\W\d_][\w'’.\-]*(?:\s+[\w'’.\-]+){0,4}?):\s+(?=\S)")
_PARTICLES = {"van", "von", "de", "da", "del", "der", "di", "du", "la", "le", "bin", "al", "ten"}
# Capitalised words that start ordinary sentences with a colon, not speaker names.
_NOT_NAMES = {
    "note", "warning", "example", "update", "edit", "ps", "p.s.", "step", "tip", "source",
    "link", "links", "http", "https", "todo", "re", "subject", "date", "time", "chapter",
    "part", "summary", "transcript", "answer", "question", "translation", "caption", "music",
}  # fmt: skip
_MID_TURN = re.compile(rf"(?<=[.!?…,\"”])\s+(?={TURN_MARK}\S)")
_SPEAKER_NUMBER = re.compile(r"^(?:SPEAKER|Speaker)[ _]?\d+$")


def check_time(value: float, line: int | None, what: str = "time") -> float:
    """A time in seconds that is possible for a recording, or a ParseError saying why not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ParseError(f"{what} {value} is not a finite number of seconds", line)
    if value < 0:
        raise ParseError(f"{what} {value} is negative; times count from the start at 0", line)
    if value > MAX_EPISODE_SECONDS:
        shown = exact_clock(value) if value < 1e7 else f"{shown_number(value)} s"
        raise ParseError(
            f"{what} {shown} is beyond 24 hours; is it in milliseconds? "
            "Times must be in seconds from the start",
            line,
        )
    return value


def parse_timing(line: str, line_no: int) -> tuple[float, float | None, str]:
    """``00:00:03,450 --> 00:00:04,410 align:start`` -> (3.45, 4.41, 'align:start')."""
    m = TIMING.match(line)
    if m is None:
        raise ParseError(
            f"expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm', found {line.strip()[:60]!r}", line_no
        )
    g = m.groups()
    for hours, minutes, secs in ((g[1], g[2], g[3]), (g[6], g[7], g[8])):
        if int(secs) >= 60 or (hours is not None and int(minutes) >= 60):
            raise ParseError(
                f"impossible time in {line.strip()!r} (minutes or seconds ≥ 60)", line_no
            )
    start = check_time(clock_seconds(*g[1:5], negative=bool(g[0])), line_no, "start time")
    end = check_time(clock_seconds(*g[6:10], negative=bool(g[5])), line_no, "end time")
    # An end before its start is a slip in the file; the next cue's start will do instead.
    return start, (end if end > start else None), g[10].strip()


def check_order(start: float, previous: float | None, line: int | None) -> None:
    if previous is not None and start < previous - MAX_BACKSTEP:
        raise ParseError(
            f"time goes back from {exact_clock(previous)} to {exact_clock(start)}; cues must be in "
            "time order (fix the order, or split the file if it holds two recordings)",
            line,
        )


def read_cues(
    items: Sequence[Any],
    read: Callable[[Any, int], tuple | None],
    what: str,
    line_of: Callable[[int], int | None],
) -> list[Cue]:
    """Cues from the items of a JSON caption list, each checked: possible times, in order.

    ``read(item, k)`` gives ``(start, end, text)`` or ``(start, end, text, speaker)``, None for
    an empty item, or raises ValueError/ParseError; the error becomes a ParseError naming
    ``what`` and its number (``segment 3: ...``) at line ``line_of(k)``.
    """
    cues: list[Cue] = []
    previous: float | None = None
    for k, item in enumerate(items):
        try:
            got = read(item, k)
            if got is None:
                continue
            start, end, body, *speaker = got
            check_time(start, None, f"{what} {k + 1}: start")
            if end is not None:
                check_time(end, None, f"{what} {k + 1}: end")
            check_order(start, previous, None)
        except (ValueError, ParseError) as exc:
            message = exc.message if isinstance(exc, ParseError) else str(exc)
            if isinstance(exc, ParseError) and not message.startswith(f"{what} "):
                message = f"{what} {k + 1}: {message}"
            raise ParseError(message, line_of(k)) from None
        previous = start
        cues.append(Cue(start, end, [(None, body, speaker[0] if speaker else None)], None))
    return cues


def speaker_label(line: str) -> tuple[str, str] | None:
    """``'Dan Ott: And I'm Dan.'`` -> ``('Dan Ott', "And I'm Dan.")``; None if no label."""
    m = _LABEL.match(line)
    if m is None:
        return None
    name = m[1].strip()
    words = name.split()
    if len(name) > 40 or words[0].lower() in _NOT_NAMES or name.endswith("."):
        return None
    if not _SPEAKER_NUMBER.match(name) and not all(
        w[0].isupper() or w in _PARTICLES for w in words
    ):
        return None
    return name, line[m.end() :]


@dataclass
class Cue:
    """One cue as read: its times, and its text lines as (line number, text, voice).

    ``voice`` is a speaker the format names outside the text (a WebVTT ``<v Name>`` tag).
    """

    start: float
    end: float | None
    lines: list[tuple[int | None, str, str | None]]
    line: int | None


@dataclass
class _Turn:
    speaker: str | None
    text: str
    line: int | None


def _split_mid_line(text: str, known: set[str]) -> list[tuple[str | None, bool, str]]:
    """Split ``A. - B.`` and ``A. Dan: B.`` (a known name) inside one line.

    Returns (speaker named by a label, whether a label named it, text) for each piece.
    """
    pieces: list[tuple[str | None, bool, str]] = []
    parts = _MID_TURN.split(text) if starts_turn(text) else [text]
    for part in parts:
        if known and ": " in part:
            names = "|".join(re.escape(n) for n in sorted(known, key=len, reverse=True))
            split = re.split(rf"(?<=[.!?…])\s+(?=(?:{names}):\s)", part)
        else:
            split = [part]
        for k, piece in enumerate(split):
            label = speaker_label(piece) if k > 0 else None
            pieces.append((label[0], True, label[1]) if label else (None, False, piece))
    return pieces


def turns(cues: Sequence[Cue], *, labels: bool = True) -> list[Segment]:
    """Cues to segments: one per speaker turn within a cue; times shared out by length.

    ``labels=False`` leaves ``Name:`` prefixes as text (for files that never use them).
    """
    # Names that label a line somewhere in the file; only these split a line mid-way.
    known: set[str] = set()
    if labels:
        for cue in cues:
            for _, text, voice in cue.lines:
                label = (voice, "") if voice else speaker_label(text)
                if label is not None:
                    known.add(label[0])
    speaker: str | None = None
    segments: list[Segment] = []
    for cue in cues:
        cue_turns: list[_Turn] = []
        for line_no, raw, voice in cue.lines:
            text = raw.strip()
            if not text:
                continue
            label = (voice, text) if voice else speaker_label(text) if labels else None
            if label is not None:
                speaker, text = label
                cue_turns.append(_Turn(speaker, text, line_no))
            elif starts_turn(text):
                speaker = None
                cue_turns.append(_Turn(None, text, line_no))
            elif cue_turns:
                cue_turns[-1].text += " " + text
            else:
                cue_turns.append(_Turn(speaker, text, line_no))
        split: list[_Turn] = []
        for turn in cue_turns:
            current = turn.speaker
            pieces = _split_mid_line(turn.text, known if labels else set())
            for k, (name, named, piece) in enumerate(pieces):
                if k > 0:
                    # A later piece starts a turn: a known name's label, or an unnamed dash.
                    current = name if named else None
                split.append(_Turn(current, piece, turn.line))
        if split:
            speaker = split[-1].speaker
        segments.extend(_timed(cue, [t for t in split if t.text.strip()]))
    return segments


def _timed(cue: Cue, cue_turns: list[_Turn]) -> Iterable[Segment]:
    if len(cue_turns) == 1:
        t = cue_turns[0]
        yield Segment(cue.start, cue.end, t.speaker, t.text.strip(), None, t.line)
        return
    if not cue_turns:
        return
    # Several turns in one cue: share the cue's time out in proportion to their length.
    span = (cue.end - cue.start) if cue.end is not None else None
    total = sum(len(t.text) for t in cue_turns) or 1
    at = cue.start
    for t in cue_turns:
        share = span * len(t.text) / total if span is not None else None
        end = round(at + share, 3) if share is not None else None
        yield Segment(round(at, 3), end, t.speaker, t.text.strip(), None, t.line)
        if end is not None:
            at = end


def canonical_speakers(segments: list[Segment]) -> list[Segment]:
    """``Bekah`` -> ``Bekah Hawrot Weigel`` when exactly one labelled full name starts so.

    Podcasts often label a speaker in full once, then by first name; passages break at speaker
    changes, so both forms must be one speaker.
    """
    names = {s.speaker for s in segments if s.speaker}
    full: dict[str, set[str]] = {}
    for name in names:
        if " " in name:
            full.setdefault(name.split()[0], set()).add(name)
    mapping = {n: next(iter(full[n])) for n in names if " " not in n and len(full.get(n, ())) == 1}
    if not mapping:
        return segments
    return [
        Segment(s.start, s.end, mapping.get(s.speaker, s.speaker), s.text, s.chapter, s.line)
        if s.speaker in mapping
        else s
        for s in segments
    ]


def labels_in_use(cues: Sequence[Cue]) -> bool:
    """Does the file mark speakers with ``Name:`` labels? (Two or more labelled lines.)

    One stray ``Thesis: ...`` line in an unlabelled talk must not become a speaker.
    """
    count = 0
    for cue in cues:
        for _, text, _voice in cue.lines:
            if speaker_label(text) is not None:
                count += 1
                if count >= 2:
                    return True
    return False


# Python literals are parsed into a syntax tree many times their size; beyond this, refuse.
MAX_REPR_BYTES = 16 * 1024 * 1024


def load_json(text: str, what: str) -> tuple[Any, tuple[str, ...]]:
    """Parse JSON; return (data, notes). A Python ``repr`` (single quotes) is read safely.

    Some tools save captions with ``print(list_of_dicts)`` instead of ``json.dump``: the data is
    intact but it is not JSON. ``ast.literal_eval`` reads literals only (never runs code), so it
    is safe; the file gets a note asking for real JSON next time.
    """
    try:
        return json.loads(text), ()
    except json.JSONDecodeError as exc:
        error = exc
    except RecursionError:
        raise NestingError(f"{what} is nested too deeply to be a transcript", 1) from None
    except ValueError as exc:  # not a JSONDecodeError: a number of more than 4,300 digits
        raise ParseError(TOO_MANY_DIGITS, None) from exc
    stripped = text.lstrip()
    if stripped[:2] in ("[{", "{'", "[]") or stripped.startswith("[\n"):
        if len(text) > MAX_REPR_BYTES:
            raise ParseError(
                f"not JSON (it looks like a Python repr with single quotes), and at "
                f"{len(text) / 1e6:.0f} MB too big to read safely as one; re-save it with "
                "json.dump",
                error.lineno,
            )
        try:
            data = ast.literal_eval(stripped)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
        else:
            return data, (
                "not JSON but a Python repr (single quotes); read safely as a literal. "
                "Re-save it with json.dump to make it standard JSON",
            )
    raise ParseError(f"invalid JSON: {error.msg} (column {error.colno})", error.lineno)


def json_item_line(text: str, index: int, key: str | None = None) -> int | None:
    """The line where item ``index`` of the top-level list (or of list ``key``) starts.

    Only called to report an error, so it may walk the file item by item.
    """
    decoder = json.JSONDecoder()
    if key is None:
        pos = text.find("[")
        if pos < 0:
            return None
        pos += 1
    else:
        m = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
        if m is None:
            return None
        pos = m.end()
    for k in range(index + 1):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if k == index:
            return text.count("\n", 0, pos) + 1
        try:
            _, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return None
    return None


def number(value: Any, what: str) -> float:
    """A JSON number (or numeric string) of seconds; ParseError text otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number of seconds, found {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{what} must be a number of seconds, found {value[:40]!r}") from None
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an int too big for a float
            seconds = math.inf
        if not math.isfinite(seconds):
            raise ValueError(
                f"{what} must be a finite number of seconds, found {shown_number(value)}"
            )
        return seconds
    raise ValueError(f"{what} must be a number of seconds, found {str(value)[:40]!r}")


def cue_transcript(
    cues: Sequence[Cue], fmt: str, *, empty: str, notes: tuple[str, ...] = ()
) -> Transcript:
    """The captions transcript of ``cues``: speaker turns, each speaker under one name.

    ``empty`` says what was expected when the file has no cues at all.
    """
    if not cues:
        raise ParseError(empty, 1)
    segments = canonical_speakers(turns(cues, labels=labels_in_use(cues)))
    if not segments:
        raise ParseError("the cues have no text", cues[0].line)
    return Transcript(
        EpisodeMeta(), tuple(segments), format=fmt, kind=TranscriptKind.CAPTIONS, notes=notes
    )
