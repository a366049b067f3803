"""What every format parser shares: the :class:`Format` record and the two ways a file is
turned down (:class:`ParseError`: broken input; :class:`NotATranscript`: something else)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.models import Transcript

# No transcript runs a day; a time beyond that is a typo or a unit mix-up (ms for s).
MAX_EPISODE_SECONDS = 24 * 3600
# Season and episode numbers: far above any real show's, far below what SQLite (64-bit) holds.
MAX_EPISODE_NUMBER = 1_000_000
# Python refuses to read an integer of more than 4,300 digits (a ValueError, not a JSON error).
TOO_MANY_DIGITS = (
    "invalid JSON: a number of more than 4,300 digits (no time or count has that many)"
)


class ParseError(Exception):
    """Input a parser cannot take: ``line`` (1-based, or None) and what to do about it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class NestingError(ParseError):
    """JSON or YAML nested (or aliased) beyond what a transcript or its metadata needs."""


def shown_number(value: Any) -> str:
    """A number as a message may show it: short even when the file holds 5,000 digits."""
    text = repr(value) if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} characters)"


def check_whole(value: Any, label: str, line: int | None = None) -> int | None:
    """A season or episode number from a file: a whole number from 0 to
    :data:`MAX_EPISODE_NUMBER` (or a string of one), None when absent; ParseError otherwise, so
    a 20-digit number never reaches SQLite (which holds 64 bits) or a formatter.

    Example:
        >>> check_whole("7", "'episode'"), check_whole(None, "'episode'")
        (7, None)
    """
    if value is None:
        return None
    shown = value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        shown = value.strip()
        value = int(shown) if len(shown) <= 40 else MAX_EPISODE_NUMBER + 1
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= MAX_EPISODE_NUMBER:
            return value
        raise ParseError(
            f"{label} {shown_number(shown)} is out of range; give a whole number from 0 to "
            f"{MAX_EPISODE_NUMBER:,}",
            line,
        )
    raise ParseError(f"{label} must be a whole number, found {str(value)[:40]!r}", line)


def check_seconds(value: float, label: str, line: int | None = None) -> float:
    """A time or duration in seconds: finite, from 0 to 24 hours; ParseError otherwise.

    Example:
        >>> check_seconds(83.5, "'start'")
        83.5
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ParseError(
            f"{label} {shown_number(value)} is not a finite number; give seconds from the start",
            line,
        )
    if value < 0 or value > MAX_EPISODE_SECONDS:
        raise ParseError(
            f"{label} {shown_number(value)} is out of range; give seconds from 0 to "
            f"{MAX_EPISODE_SECONDS:,} (24 hours)",
            line,
        )
    return float(value)


class NotATranscript(Exception):
    """A file that is recognisably something else (a guest profile, a chapter list, ...)."""

    def __init__(self, what: str, *, chapter_list: bool = False):
        super().__init__(what)
        self.what = what
        self.chapter_list = chapter_list  # ingest gives these to their episodes afterwards


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
