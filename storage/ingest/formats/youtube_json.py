"""YouTube transcript JSON: ``[{"text", "start", "duration"}]`` as youtube-transcript-api saves it.

Also reads YouTube's own ``json3`` caption files (``{"events": [{"tStartMs", "dDurationMs",
"segs": [{"utf8"}]}]}``) and, with a note, the same list saved as a Python ``repr`` (single
quotes; read with ``ast.literal_eval``, which never runs code). Cues overlap (each is shown until
the next-but-one starts), so a cue's words are timed up to the next cue's start, not its own end.
Speaker changes marked ``>>`` (newer automatic captions) and ``Name:`` labels are kept.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from storage.ingest.formats.base import Format, ParseError
from storage.ingest.formats.cues import (
    cue_transcript,
    json_item_line,
    load_json,
    number,
    read_cues,
)
from storage.models import Transcript


def _cue_list(data: Any) -> tuple[list[Any], str | None]:
    """The list of cues, and the key it sits under (None: the top-level list)."""
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict):
        for key in ("events", "transcript", "captions", "snippets"):
            if isinstance(data.get(key), list):
                return data[key], key
    raise ParseError(
        'expected a JSON list of cues like [{"text": ..., "start": ..., "duration": ...}]',
        1,
    )


def _cue(item: Any, k: int) -> tuple[float, float | None, str] | None:
    """(start, end, text) of one cue; None for an empty one. ValueError says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"cue {k + 1} is not an object with text and start")
    if "tStartMs" in item:  # YouTube json3
        segs = item.get("segs") or []
        text = "".join(s.get("utf8", "") for s in segs if isinstance(s, dict))
        start = number(item["tStartMs"], f"cue {k + 1}: 'tStartMs'") / 1000
        duration = item.get("dDurationMs")
        length = number(duration, f"cue {k + 1}: 'dDurationMs'") / 1000 if duration else None
    else:
        if "start" not in item:
            raise ValueError(f"cue {k + 1} has no 'start' (seconds)")
        text = item.get("text")
        if not isinstance(text, str):
            raise ValueError(f"cue {k + 1}: 'text' must be a string, found {text!r:.40}")
        start = number(item["start"], f"cue {k + 1}: 'start'")
        duration = item.get("duration", item.get("dur"))
        length = number(duration, f"cue {k + 1}: 'duration'") if duration is not None else None
    text = " ".join(html.unescape(text).split()) if "&" in text else " ".join(text.split())
    if not text:
        return None
    end = start + length if length is not None and length > 0 else None
    return start, end, text


def parse(text: str, path: Path) -> Transcript:
    data, notes = load_json(text, "the JSON")
    items, key = _cue_list(data)
    cues = read_cues(
        items, _cue, "cue", lambda k: json_item_line(text, k, key) if not notes else None
    )
    return cue_transcript(
        cues, "youtube-json", empty="the JSON list has no cues with text", notes=notes
    )


def _sniff(head: str) -> bool:
    head = head.lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        body = head[1:].lstrip()
        return body.startswith("{") and ("text" in head[:400] and "start" in head[:400])
    return head.startswith("{") and ('"events"' in head[:400] or '"wireMagic"' in head[:100])


FORMAT = Format(
    name="youtube-json",
    extensions=(".json",),
    parse=parse,
    sniff=_sniff,
    help="YouTube transcript JSON: [{text, start, duration}] (youtube-transcript-api), json3",
)
