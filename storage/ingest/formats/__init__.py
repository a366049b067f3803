"""Transcript format parsers: one module per format, one table that picks among them.

A parser is a function ``parse(text, path) -> Transcript`` that raises :class:`ParseError`
(with the 1-based line) for input it cannot take. It never touches the database.
"""

from __future__ import annotations

from pathlib import Path

from storage.ingest.formats import captions, markdown, srt, vtt, whisper_json, youtube_json
from storage.ingest.formats.base import (
    MAX_EPISODE_SECONDS,
    Format,
    NestingError,
    NotATranscript,
    ParseError,
    check_seconds,
    check_whole,
)

__all__ = [
    "FORMATS",
    "MAX_EPISODE_SECONDS",
    "Format",
    "NestingError",
    "NotATranscript",
    "ParseError",
    "check_seconds",
    "check_whole",
    "detect",
]

# The order is the sniffing order when the extension does not decide (the loosest sniffer,
# caption lines, goes last).
FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        markdown.FORMAT,
        vtt.FORMAT,
        srt.FORMAT,
        whisper_json.FORMAT,
        youtube_json.FORMAT,
        captions.FORMAT,
    )
}


def detect(path: Path, text: str) -> Format | None:
    """Pick the format from content first (extensions lie: .txt can be anything), then name."""
    head = text[:4096]
    suffix = "".join(path.suffixes[-2:]).lower()
    ext = path.suffix.lower()
    by_ext = [f for f in FORMATS.values() if ext in f.extensions or suffix in f.extensions]
    for fmt in by_ext:
        if fmt.sniff(head):
            return fmt
    for fmt in FORMATS.values():
        if fmt.sniff(head):
            return fmt
    claimed = [f for f in by_ext if f.claims_extension]
    return claimed[0] if claimed else None
