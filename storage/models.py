"""The small frozen records that cross the storage boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class TranscriptKind(StrEnum):
    """What a transcript is, as ``episodes.kind`` stores it."""

    EDITED = "edited"  # paragraphs, one entry per speaker turn, coarse times
    CAPTIONS = "captions"  # fragments of a few seconds each, precise times


class EpisodeTiming(StrEnum):
    """Where an episode's word times come from, as ``episodes.timing`` stores it."""

    AS_GIVEN = "as-given"  # captions: the file's own times
    INTERPOLATED = "interpolated"  # edited: spread between the paragraphs' timestamps
    CAPTIONS_ALIGNED = "captions-aligned"  # edited, re-timed by its captions (storage.timing)


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float


@dataclass(frozen=True)
class Segment:
    """One transcript entry exactly as the source gave it (times already resolved to seconds).

    ``line`` is the 1-based source line it came from, for error messages.
    ``chapter`` is the chapter the source placed it under, when the source says so.
    """

    start: float
    end: float | None
    speaker: str | None
    text: str
    chapter: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class EpisodeMeta:
    """Episode metadata as far as a source file (plus flags or a sidecar) knows it."""

    id: str | None = None
    title: str | None = None
    guests: tuple[str, ...] = ()
    guest_ids: tuple[str, ...] = ()
    date: str | None = None
    duration: float | None = None
    url: str | None = None
    youtube_id: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    season: int | None = None
    number: int | None = None
    description: str | None = None
    chapters: tuple[Chapter, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """What a format parser returns for one file.

    ``kind`` is :attr:`TranscriptKind.EDITED` for paragraph transcripts (one entry per speaker
    turn, coarse times) or :attr:`TranscriptKind.CAPTIONS` for caption fragments (a few seconds
    each, precise times).
    ``notes`` are warnings worth showing the user (the file went in, but something was off).
    """

    meta: EpisodeMeta
    segments: tuple[Segment, ...]
    format: str
    kind: TranscriptKind
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A quotable unit: a few sentences, or 10-40 s of captions, by one speaker."""

    start: float
    end: float
    speaker: str | None
    chapter: str | None
    text: str
    word_start: int
    word_end: int


@dataclass(frozen=True)
class Episode:
    id: str
    title: str
    guests: tuple[str, ...]
    date: str | None
    duration: float | None
    url: str | None
    links: dict[str, str]
    topics: tuple[str, ...]
    season: int | None
    number: int | None
    description: str | None
    chapters: tuple[Chapter, ...]
    source_path: str
    source_format: str
    timing: EpisodeTiming
    ingested_at: str
    passage_count: int = 0


@dataclass(frozen=True)
class Hit:
    """One search result: a quote at the second it starts, with a link to that second."""

    episode_id: str
    episode_title: str
    start: float
    end: float
    speaker: str | None
    quote: str
    url: str | None
    score: float
    chapter: str | None = None
    passage_id: int | None = None
    matched_via: str | None = None  # e.g. 'heard as “psychic learn”' when a glossary entry matched


@dataclass(frozen=True)
class SearchResult:
    """Hits for one page of a query, plus a "did you mean" when nothing (or little) matched.

    ``notices`` are short sentences for the member about the query itself, e.g. a filter
    that matched nothing or a date that could not be read.
    """

    query: str
    hits: tuple[Hit, ...]
    suggestion: str | None = None
    has_more: bool = False
    notices: tuple[str, ...] = ()


class Outcome(StrEnum):
    """What ingest did with one file."""

    ADDED = "added"  # a new episode
    REPLACED = "replaced"  # the file changed: its episode was stored again
    UNCHANGED = "unchanged"  # same content (and sidecar and flags) as stored: nothing to do
    ALIGNED = "aligned"  # captions that re-timed a stored edited episode (storage.timing)
    SKIPPED = "skipped"  # not a transcript (a profile, an image, ...): nothing to do
    FAILED = "failed"  # bad input: nothing of it was stored


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``status``: added, replaced, unchanged, skipped or failed.

    Or ``aligned``: captions that re-timed a stored edited episode (``storage.timing.tracks``).
    ``reason`` is a short, shared description for summing up many skipped files in one line.
    """

    path: str
    status: Outcome
    episode_id: str | None = None
    title: str | None = None
    passages: int = 0
    seconds: float = 0.0
    message: str | None = None
    line: int | None = None
    reason: str | None = None
    chapter_list: bool = False  # a podcast-timestamps list, given to its episode after the run

    def describe(self) -> str:
        """``FILE:LINE: what is wrong`` (or ``FILE: ...`` when no line applies)."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}" if self.message else where
