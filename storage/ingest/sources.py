"""Reading transcript files from disk: size limits, text encodings, sidecar metadata.

Everything here turns a user's mistake into a :class:`ParseError` that says which line is
wrong and what to do, never a traceback: the 200 MB video dropped into the transcripts folder,
the file saved as UTF-16 by a Windows editor, the sidecar with ``date: 12/03/2024``.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from dataclasses import fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.catalogue import youtube_id
from storage.clock import iso_date, iso_duration, parse_clock
from storage.ingest.formats import NestingError, ParseError, check_seconds, check_whole
from storage.ingest.formats.base import TOO_MANY_DIGITS
from storage.ingest.formats.yaml_fields import check_episode_id, load_yaml
from storage.models import Chapter, EpisodeMeta

# One transcript, even three hours of Whisper JSON with word times, is well under this.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_SIDECAR_BYTES = 1024 * 1024
SIDECAR_SUFFIXES = (".json", ".yaml", ".yml")
# Keys that make a JSON/YAML file episode metadata rather than a transcript.
SIDECAR_KEYS = {
    "title", "url", "guests", "guest", "date", "episode_id", "id", "youtube", "youtube_id",
    "links", "topics", "chapters", "duration", "description", "season", "episode",
}  # fmt: skip
TRANSCRIPT_KEYS = {"segments", "transcript", "events", "cues", "text"}

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_TRANSCRIBE = "transcribe it first (Whisper, or the platform's captions), then ingest that"
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (a .docx or .zip?)", "export or unzip the text first"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first"),
    (b"%PDF", "a PDF document", "export its text first"),
    (b"\x89PNG", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
    (b"ID3", "MP3 audio", _TRANSCRIBE),
    (b"\xff\xfb", "MP3 audio", _TRANSCRIBE),
    (b"fLaC", "FLAC audio", _TRANSCRIBE),
    (b"OggS", "Ogg audio", _TRANSCRIBE),
    (b"RIFF", "a WAV/AVI media file", _TRANSCRIBE),
    (b"\x1aE\xdf\xa3", "a WebM/MKV video", _TRANSCRIBE),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _line_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _too_big(size: int, max_bytes: int) -> ParseError:
    return ParseError(
        f"file is {size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB limit for one "
        "transcript; check it is a transcript (not a video or an archive), or split it "
        "into episodes"
    )


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words: ``a pipe (FIFO)``, ``a device``..."""
    return (
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a pipe (FIFO)" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "not a regular file"
    )  # fmt: skip


def _check_regular(mode: int) -> None:
    """A device, pipe or socket reports no real size and may never end: refuse it."""
    if stat.S_ISREG(mode):
        return
    raise ParseError(
        f"this is {file_kind(mode)}, not a transcript file; give the path of a saved file"
    )


def check_size(path: Path, max_bytes: int = MAX_FILE_BYTES) -> int:
    """The size of regular file ``path``, or a ParseError if it is too big to be one transcript
    or not a regular file (a device, a pipe). Nothing is read."""
    st = path.stat()
    _check_regular(st.st_mode)
    if st.st_size > max_bytes:
        raise _too_big(st.st_size, max_bytes)
    return st.st_size


def read_limited(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of regular file ``path``; ParseError if it is too big or not a regular file.

    At most ``max_bytes + 1`` bytes are read whatever the file claims, so a file growing while
    it is read cannot exhaust memory; opening does not wait (a FIFO would block on open).

    Example:
        >>> raw = read_limited(Path("episode.vtt"))   # doctest: +SKIP
    """
    check_size(path, max_bytes)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        _check_regular(os.fstat(f.fileno()).st_mode)  # swapped since the check above
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_big(len(raw), max_bytes)
    return raw


def decode(raw: bytes) -> tuple[str, str | None]:
    """Bytes to text: (text, note about the encoding or None), or a ParseError.

    UTF-8 (with or without BOM), UTF-16 and UTF-32 (with BOM, or UTF-16 without one) are read
    as such; other bytes are read as Windows-1252/Latin-1, with a note. Binary files (media,
    archives, anything full of control bytes) are refused, saying what they look like.
    """
    for magic, what, hint in _MAGIC:
        if raw.startswith(magic):
            raise ParseError(
                f"this is {what}, not a text transcript" + (f"; {hint}" if hint else "")
            )
    if raw[4:8] == b"ftyp":
        raise ParseError(f"this is an MP4/M4A media file, not a text transcript; {_TRANSCRIBE}")
    text, note = _decode_text(raw)
    if not text.strip():
        raise ParseError("file is empty; nothing to ingest")
    sample = text[:8192]
    controls = len(_CONTROL.findall(sample))
    if controls > max(2, len(sample) // 100):
        first = _CONTROL.search(text)
        line = text.count("\n", 0, first.start()) + 1 if first else None
        raise ParseError("binary data (control bytes), not a text transcript", line)
    return text, note


def _decode_text(raw: bytes) -> tuple[str, str | None]:
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(codec), None
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"starts with a {name} byte-order mark but is not valid {name} "
                    f"(byte {exc.start + len(bom)}); re-save the file as UTF-8",
                    _line_at(raw, exc.start + len(bom)) if name == "UTF-8" else None,
                ) from None
    if not raw.strip():
        raise ParseError("file is empty; nothing to ingest")
    nul = raw.find(b"\x00", 0, 8192)
    if nul >= 0:
        utf16 = _utf16_without_bom(raw)
        if utf16 is not None:
            return utf16, None
        raise ParseError(
            "binary file (it contains NUL bytes), not a text transcript", _line_at(raw, nul)
        )
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = _line_at(raw, exc.start)
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text, f"not UTF-8 (from line {line}), read as Windows-1252/Latin-1; save it as UTF-8"


def _utf16_without_bom(raw: bytes) -> str | None:
    """Text saved as UTF-16 without a BOM: mostly ASCII, so every other byte is zero."""
    sample = raw[:8192]
    half = len(sample) // 2 or 1
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if max(even, odd) < 0.3 * half or min(even, odd) > 0.05 * half:
        return None
    try:
        text = raw.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return text if "\x00" not in text else None


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, bytes, str | None]:
    """Return (text, raw bytes, note about the encoding) or raise ParseError.

    The size is checked before anything is read, so a huge file costs nothing.

    Example:
        >>> text, raw, note = read_text(Path("episode.vtt"))   # doctest: +SKIP
    """
    raw = read_limited(path, max_bytes)
    text, note = decode(raw)
    return text, raw, note


# --- Sidecar metadata -------------------------------------------------------------------------


def sidecar_candidates(path: Path) -> list[Path]:
    """``talk.vtt`` -> ``talk.json``, ``talk.yaml``, ``talk.yml`` beside it (those that exist)."""
    out = []
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate != path and candidate.is_file():
            out.append(candidate)
    return out


def load_mapping(path: Path) -> dict[str, Any] | None:
    """A JSON/YAML file's top-level mapping; None if it is not one (a list, a transcript...).

    Raises ParseError for a file that is meant as metadata but cannot be read (bad syntax).
    """
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        return None
    text, _ = decode(read_limited(path, MAX_SIDECAR_BYTES))
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
        except RecursionError:
            raise NestingError(
                "JSON nested too deeply to read (no transcript or metadata is)", 1
            ) from None
        except ValueError as exc:  # a number of more than 4,300 digits
            raise ParseError(TOO_MANY_DIGITS, None) from exc
    else:
        data = load_yaml(text, hint="fix the syntax (quote values holding ': ')")
    return data if isinstance(data, dict) else None


def is_sidecar(path: Path) -> bool:
    """A small JSON/YAML mapping of metadata fields, with no transcript inside.

    Raises NestingError for a file nested (or aliased) too deeply to tell.
    """
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    try:
        data = load_mapping(path)
    except NestingError:
        raise  # not metadata, not a transcript either: its own failure (see ingest's _classify)
    except (ParseError, OSError):
        return path.suffix.lower() != ".json"  # broken YAML is broken metadata, not a transcript
    if data is None:
        return False
    keys = set(data)
    return bool(keys & SIDECAR_KEYS) and not (keys & TRANSCRIPT_KEYS)


def sidecar_for(path: Path) -> tuple[Path, dict[str, Any]] | None:
    """The sidecar beside ``path`` and its fields, or None. ParseError if it is unreadable.

    A ``.json`` beside a transcript may be another transcript of the same talk (YouTube JSON),
    so only a mapping of metadata fields counts; a ``.yaml`` can only be metadata.
    """
    for candidate in sidecar_candidates(path):
        try:
            data = load_mapping(candidate)
        except ParseError as exc:
            if candidate.suffix.lower() == ".json" and exc.message.startswith("invalid JSON"):
                continue  # a broken JSON transcript, reported when it is ingested itself
            raise SidecarError(candidate, exc.message, exc.line) from None
        if data is None:
            continue
        keys = set(data)
        if keys & TRANSCRIPT_KEYS or not keys & SIDECAR_KEYS:
            continue
        return candidate, data
    return None


def key_line(path: Path, key: str) -> int | None:
    """The line of a sidecar where ``key`` is given (for messages), if it can be found."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    m = re.search(rf"""(?:^|[{{,\s])(["']?{re.escape(key)}["']?)\s*:""", text, re.M)
    return text.count("\n", 0, m.start(1)) + 1 if m else None


class SidecarError(ParseError):
    """A problem in a sidecar file (``path``) rather than in the transcript itself."""

    def __init__(self, path: Path, message: str, line: int | None = None):
        super().__init__(message, line)
        self.path = path


def check_date(value: Any, label: str) -> str:
    """A publication date as ``YYYY-MM-DD``, or a ParseError naming ``label``."""
    date = iso_date(value)
    if date is not None:
        return date
    raise ParseError(
        f"{label} {str(value).strip()!r} is not a date; write it as YYYY-MM-DD "
        "(for example 2024-03-12)"
    )


def check_url(value: Any, label: str) -> str:
    """A full http(s) URL, or a ParseError naming ``label``."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        hint = f"https://{text}" if parts and not parts.scheme and "." in text else None
        raise ParseError(
            f"{label} {text!r} is not a web address; give the full URL"
            + (f" ({hint})" if hint else " starting with https://")
        )
    if re.search(r"\s", text):
        raise ParseError(f"{label} {text!r} contains spaces; encode them as %20")
    bad = re.search(r"[<>|]", text)
    if bad:
        # Slack's link syntax is <url|label>: these would cut the link short.
        code = {"<": "%3C", ">": "%3E", "|": "%7C"}[bad[0]]
        raise ParseError(f"{label} {text!r} contains {bad[0]!r}; encode it as {code}")
    return text


def _seconds(value: Any, label: str) -> float:
    """Seconds from a number, ``H:MM:SS``/``MM:SS`` or ISO-8601 ``PT1H2M3S``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return check_seconds(value, label)
    text = str(value).strip()
    seconds = parse_clock(text, fraction=True)
    if seconds is None:
        seconds = iso_duration(text)
    if seconds is not None:
        return check_seconds(seconds, label)
    raise ParseError(f"{label} {text[:40]!r} is not a time; give seconds, H:MM:SS or MM:SS")


def _names(value: Any, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ParseError(f"{label} must be a list of names (or one comma-separated line)")


def meta_from_mapping(data: dict[str, Any], where: str = "") -> EpisodeMeta:
    """Sidecar fields to EpisodeMeta; raises ParseError (naming ``where`` and the field).

    Fields: ``title``, ``url``, ``guests`` (or ``guest``), ``date``, ``episode_id`` (or ``id``),
    ``youtube_id``, ``links``, ``topics``, ``chapters`` (``[{title, start}]``), ``duration``,
    ``description``, ``season``, ``episode``.
    """

    def field(label: str) -> str:
        return f"{where}: '{label}'" if where else f"'{label}'"

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value).strip() or None
        raise ParseError(f"{field(key)} must be text, not {type(value).__name__}")

    url = text("url")
    if url is not None:
        url = check_url(url, field("url"))
    links = data.get("links") or {}
    if not isinstance(links, dict):
        raise ParseError(f"{field('links')} must be a mapping of name: URL")
    links = {str(k): check_url(v, field(f"links.{k}")) for k, v in links.items()}
    date = data.get("date")
    chapters = []
    if not isinstance(data.get("chapters") or [], list):
        raise ParseError(f"{field('chapters')} must be a list of {{title, start}}")
    for k, ch in enumerate(data.get("chapters") or []):
        if not isinstance(ch, dict) or "title" not in ch or "start" not in ch:
            raise ParseError(f"{field('chapters')}: chapter {k + 1} needs 'title' and 'start'")
        chapters.append(
            Chapter(str(ch["title"]).strip(), _seconds(ch["start"], field(f"chapters[{k}].start")))
        )
    duration = data.get("duration")
    yt = text("youtube_id") or text("youtube")
    if yt is not None and youtube_id(f"https://youtu.be/{yt}") is None:
        yt = youtube_id(yt)
        if yt is None:
            raise ParseError(f"{field('youtube_id')} is not an 11-character YouTube video id")

    id_key = "episode_id" if text("episode_id") else "id"
    episode_id = text(id_key)
    return EpisodeMeta(
        id=check_episode_id(episode_id, field(id_key)) if episode_id else None,
        title=text("title"),
        guests=_names(data.get("guests", data.get("guest")), field("guests")),
        date=check_date(date, field("date")) if date is not None else None,
        duration=_seconds(duration, field("duration")) if duration is not None else None,
        url=url,
        youtube_id=yt or youtube_id(url),
        links=links,
        topics=_names(data.get("topics"), field("topics")),
        season=check_whole(data.get("season"), field("season")),
        number=check_whole(data.get("episode"), field("episode")),
        description=text("description"),
        chapters=tuple(sorted(chapters, key=lambda c: c.start)),
    )


def meta_from_flags(
    *,
    title: str | None = None,
    url: str | None = None,
    guests: list[str] | tuple[str, ...] = (),
    date: str | None = None,
    episode_id: str | None = None,
) -> EpisodeMeta:
    """``--title --url --guest --date --episode-id`` to EpisodeMeta; ParseError naming the flag.

    Example:
        >>> meta_from_flags(date="2024-03-12", url="https://youtu.be/z7BvslwVRbQ").youtube_id
        'z7BvslwVRbQ'
    """
    if url is not None:
        url = check_url(url, "--url")
    if date is not None:
        date = check_date(date, "--date")
    if episode_id is not None:
        episode_id = check_episode_id(episode_id, "--episode-id")
    return EpisodeMeta(
        id=episode_id.strip() if episode_id else None,
        title=title.strip() if title and title.strip() else None,
        guests=tuple(g.strip() for g in guests if g and g.strip()),
        date=date,
        url=url,
        youtube_id=youtube_id(url),
    )


def merge_meta(base: EpisodeMeta, *overlays: EpisodeMeta) -> EpisodeMeta:
    """Later overlays win, field by field, wherever they say something."""
    result = base
    for overlay in overlays:
        changes = {}
        for f in fields(EpisodeMeta):
            value = getattr(overlay, f.name)
            if value not in (None, (), {}, ""):
                changes[f.name] = value
        if overlay.url and not overlay.youtube_id:
            # A new URL replaces the old video: its id is the URL's (None if not YouTube).
            changes["youtube_id"] = youtube_id(overlay.url)
        result = replace(result, **changes)
    return result
