"""WebVTT (``.vtt``) captions.

Handles: the ``WEBVTT`` header and its metadata lines, cue identifiers, cue settings after the
times (``align:start position:0%``), ``NOTE``/``STYLE``/``REGION`` blocks, ``<v Name>`` voice
tags (the speaker), other markup (``<c>``, ``<i>``, inline ``<00:00:01.520>`` word times),
character references (``&amp;``), ``- `` speaker-change dashes and ``Name:`` labels, and the
rolling captions YouTube's automatic VTT files repeat from cue to cue.
"""

from __future__ import annotations

import html
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

_SKIPPED_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?(?:\s+([^>]*))?>")
_TAG = re.compile(r"<[^>]*>")
_INLINE_TIME = re.compile(r"<\d{1,2}:\d{2}(?::\d{2})?\.\d{3}>")


def _payload(no: int, line: str) -> list[tuple[int, str, str | None]]:
    """One cue text line as (line, text, voice) pieces: a ``<v Name>`` tag starts a piece."""
    if "<v" not in line:
        text = _TAG.sub("", line) if "<" in line else line
        return [(no, html.unescape(text) if "&" in text else text, None)]
    pieces = []
    parts = _VOICE.split(line)
    # re.split with one group: [before, name1, text1, name2, text2, ...]
    if parts[0].strip():
        pieces.append((no, html.unescape(_TAG.sub("", parts[0])), None))
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        voice = html.unescape(name).strip() if name else None
        pieces.append((no, html.unescape(_TAG.sub("", text)), voice or None))
    return pieces


def read_cues(text: str) -> list[Cue]:
    lines = text.splitlines()
    n = len(lines)
    i = 0
    if lines and lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        # The header block: WEBVTT and metadata lines up to the first blank line.
        while i < n and lines[i].strip():
            i += 1
    cues: list[Cue] = []
    previous_start: float | None = None
    block_start = True
    skipping = False
    while i < n:
        line = lines[i]
        no = i + 1
        i += 1
        if not line.strip():
            block_start, skipping = True, False
            continue
        if skipping:
            continue
        if "-->" in line:
            if TIMING.match(line) is None:
                raise ParseError(
                    f"expected a cue timing line 'HH:MM:SS.mmm --> HH:MM:SS.mmm', "
                    f"found {line.strip()[:60]!r}",
                    no,
                )
            start, end, _settings = parse_timing(line, no)
            check_order(start, previous_start, no)
            previous_start = start
            cues.append(Cue(start, end, [], no))
            block_start = False
            continue
        if block_start:
            block_start = False
            if _SKIPPED_BLOCK.match(line):
                skipping = True
                continue
            if i < n and "-->" in lines[i]:
                continue  # a cue identifier
        if not cues:
            raise ParseError(
                f"expected a cue ('00:00:01.000 --> 00:00:02.000' then its text), "
                f"found {line.strip()[:60]!r}",
                no,
            )
        cues[-1].lines.extend(_payload(no, line))
    if _INLINE_TIME.search(text):
        cues = _drop_rolling_repeats(cues)
    return cues


def _drop_rolling_repeats(cues: list[Cue]) -> list[Cue]:
    """YouTube's automatic VTT shows two lines at a time, so each cue repeats the last one's
    text (and a 10 ms cue repeats it again). Keep each line of speech once."""
    kept: list[Cue] = []
    last = ""
    for cue in cues:
        lines = [entry for entry in cue.lines if entry[1].strip()]
        while lines and lines[0][1].strip() == last:
            lines.pop(0)
        if lines:
            last = lines[-1][1].strip()
            kept.append(Cue(cue.start, cue.end, lines, cue.line))
    return kept


def parse(text: str, path: Path) -> Transcript:
    cues = read_cues(text)
    return cue_transcript(
        cues, "vtt", empty="no cues found (timing lines like '00:00:01.000 --> 00:00:02.500')"
    )


def _sniff(head: str) -> bool:
    return head.lstrip("\ufeff \t\r\n").startswith("WEBVTT")


FORMAT = Format(
    name="vtt",
    extensions=(".vtt",),
    parse=parse,
    sniff=_sniff,
    claims_extension=True,
    help="WebVTT captions: 'WEBVTT' header, cues '00:00:01.000 --> 00:00:02.500'",
)
