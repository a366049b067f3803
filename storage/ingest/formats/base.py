"""What every format parser shares: the :class:`Format` record and the two ways a file is
turned down (:class:`ParseError`: broken input; :class:`NotATranscript`: something else)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.models import Transcript

# No transcript runs a day; a time beyond that is a typo or a unit mix-up (ms for s).
MAX_EPISODE_SECONDS = 24 * 3600


class ParseError(Exception):
    """Input a parser cannot take: ``line`` (1-based, or None) and what to do about it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


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
