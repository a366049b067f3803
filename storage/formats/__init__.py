"""Transcript format parsers: one module per format, one registry that picks among them.

A parser is a function ``parse(text, path) -> Transcript`` that raises :class:`ParseError`
(with the 1-based line) for input it cannot take. It never touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.models import Transcript


class ParseError(Exception):
    """Input a parser cannot take: ``line`` (1-based, or None) and what to do about it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class NotATranscript(Exception):
    """A file that is recognisably something else (a guest profile, a chapter list, ...)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Format:
    """A transcript format. ``claims_extension``: a file with this extension is this format
    even if it does not look like it (so a broken ``.srt`` gets the SRT parser's error)."""

    name: str
    extensions: tuple[str, ...]
    parse: Callable[[str, Path], Transcript]
    sniff: Callable[[str], bool]
    help: str
    claims_extension: bool = False


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


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


# The built-in formats register themselves on import; the order is the sniffing order when
# the extension does not decide (the loosest sniffer, caption lines, goes last).
from storage.formats import (  # noqa: E402, F401, I001
    markdown,
    vtt,
    srt,
    whisper_json,
    youtube_json,
    captions,
)
