"""Whisper JSON: ``{"text", "segments": [{"start", "end", "text"}], "language"}``.

The Podcasting 2.0 JSON transcript (``{"version", "segments": [{"speaker", "startTime",
"endTime", "body"}]}``, what feeds link with ``<podcast:transcript type="application/json">``)
has the same shape under other names and is read here too.

The openai-whisper command line writes this; WhisperX and faster-whisper exports add a
``speaker`` (``SPEAKER_00``) to each segment, which is kept. Whisper segments are sentence-ish
captions with precise times, so they are merged into passages like captions.
"""

from __future__ import annotations

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


def _segment(item: Any, k: int) -> tuple[float, float | None, str, str | None] | None:
    if not isinstance(item, dict):
        raise ValueError(f"segment {k + 1} is not an object with start, end and text")
    if "start" not in item and "startTime" in item:  # Podcasting 2.0 JSON
        item = {"start": item["startTime"], "end": item.get("endTime"),
                "text": item.get("body", ""), "speaker": item.get("speaker")}  # fmt: skip
    for key in ("start", "text"):
        if key not in item:
            raise ValueError(f"segment {k + 1} has no '{key}'")
    text = item["text"]
    if not isinstance(text, str):
        raise ValueError(f"segment {k + 1}: 'text' must be a string, found {text!r:.40}")
    start = number(item["start"], f"segment {k + 1}: 'start'")
    end = number(item["end"], f"segment {k + 1}: 'end'") if item.get("end") is not None else None
    speaker = item.get("speaker")
    speaker = str(speaker).strip() or None if speaker is not None else None
    text = " ".join(text.split())
    if not text:
        return None
    return start, (end if end is not None and end > start else None), text, speaker


def parse(text: str, path: Path) -> Transcript:
    data, notes = load_json(text, "the JSON")
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise ParseError(
            "expected a Whisper JSON object with a 'segments' list of {start, end, text}", 1
        )
    cues = read_cues(
        data["segments"], _segment, "segment",
        lambda k: json_item_line(text, k, "segments") if not notes else None,
    )  # fmt: skip
    return cue_transcript(
        cues, "whisper-json", empty="the Whisper JSON has no segments with text", notes=notes
    )


def _sniff(head: str) -> bool:
    head = head.lstrip("\ufeff \t\r\n")
    # The full text comes first and can fill the head, so '{"text":' alone is enough.
    return head.startswith("{") and ('"segments"' in head or head[1:].lstrip().startswith('"text"'))


FORMAT = Format(
    name="whisper-json",
    extensions=(".json",),
    parse=parse,
    sniff=_sniff,
    help="Whisper JSON: {segments: [{start, end, text}]} (openai-whisper, WhisperX)",
)
