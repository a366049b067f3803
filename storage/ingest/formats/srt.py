"""SubRip (``.srt``) subtitles, read tolerantly: SRT files are often made by hand.

Handles: ``,`` or ``.`` before the milliseconds and 1-3 digits of them (``00:28:00,00``), hours
left out, cue numbers missing or wrong, blank lines missing between cues (a timing line starts a
new cue wherever it is), cues that overlap or step back a little, ``<i>``/``<font>``/``{\\an8}``
markup, and ``Name: text`` speaker labels (the speaker carries over to later cues until the next
label; several speakers in one cue become separate segments). What it cannot read, it reports as
``line N: what is wrong``.
"""

from __future__ import annotations

import re
from pathlib import Path

from storage.ingest.formats.base import Format, ParseError
from storage.ingest.formats.cues import (
    TIMING,
    Cue,
    check_order,
    cue_transcript,
    parse_timing,
)
from storage.models import Transcript

_INDEX = re.compile(r"^\s*\d+\s*$")
_BARE_TIME = re.compile(r"^\s*(?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?\s*(?:-{1,2}>?\s*)?$")
_MARKUP = re.compile(r"</?(?:i|b|u|s|font)\b[^>]*>|\{\\[^{}]*\}", re.I)


def _after_index(cues: list[Cue], lines: list[str], no: int) -> bool:
    """Is line ``no`` right after a cue number (which read_cues put in the last cue's text)?"""
    last = cues[-1].lines
    return bool(last) and last[-1][0] == no - 1 and _INDEX.match(lines[no - 2]) is not None


def read_cues(text: str) -> list[Cue]:
    lines = text.splitlines()
    cues: list[Cue] = []
    previous_start: float | None = None
    for no, line in enumerate(lines, start=1):
        if "->" in line and (TIMING.match(line) or line.lstrip()[:1].isdigit()):
            start, end, _ = parse_timing(line, no)
            check_order(start, previous_start, no)
            previous_start = start
            if cues and cues[-1].lines and _INDEX.match(cues[-1].lines[-1][1]):
                # The cue number belongs to this cue, even with no blank line before it.
                cues[-1].lines.pop()
            cues.append(Cue(start, end, [], no))
            continue
        if not line.strip():
            continue
        if _BARE_TIME.match(line) and (not cues or _after_index(cues, lines, no)):
            # A cue number, then a time with no '-->': a broken timing line, not words.
            parse_timing(line, no)
        if not cues:
            if _INDEX.match(line):
                continue
            raise ParseError(
                f"expected a cue number or a timing line '00:00:01,000 --> 00:00:02,000', "
                f"found {line.strip()[:60]!r}",
                no,
            )
        cues[-1].lines.append((no, _MARKUP.sub("", line), None))
    if cues and cues[-1].lines and _INDEX.match(cues[-1].lines[-1][1]):
        cues[-1].lines.pop()  # a trailing cue number with no cue after it
    return cues


def parse(text: str, path: Path) -> Transcript:
    cues = read_cues(text)
    return cue_transcript(
        cues, "srt", empty="no cues found (timing lines like '00:00:01,000 --> 00:00:02,500')"
    )


_SNIFF = re.compile(
    r"\A\s*(?:\d+\s*\n\s*)?(?:\d{1,3}:)?\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-{1,2}>\s*", re.M
)


def _sniff(head: str) -> bool:
    return bool(_SNIFF.match(head.lstrip("\ufeff")))


FORMAT = Format(
    name="srt",
    extensions=(".srt",),
    parse=parse,
    sniff=_sniff,
    claims_extension=True,
    help="SubRip subtitles: numbered cues '00:00:01,000 --> 00:00:02,500', 'Name:' speakers",
)
