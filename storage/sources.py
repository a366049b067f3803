"""Reading transcript files from disk: size limits, text encodings, sidecar metadata."""

from __future__ import annotations

import codecs
import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from storage.formats import ParseError
from storage.models import Chapter, EpisodeMeta

MAX_FILE_BYTES = 64 * 1024 * 1024
SIDECAR_SUFFIXES = (".json", ".yaml", ".yml")
# Keys that make a JSON/YAML file episode metadata rather than a transcript.
SIDECAR_KEYS = {
    "title", "url", "guests", "guest", "date", "episode_id", "id", "youtube", "youtube_id",
    "links", "topics", "chapters", "duration", "description", "season", "episode",
}  # fmt: skip
TRANSCRIPT_KEYS = {"segments", "transcript", "events", "cues", "text"}


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, bytes, str | None]:
    """Return (text, raw bytes, note about the encoding) or raise ParseError.

    UTF-8 (with or without BOM) and UTF-16 (with BOM, or detectably without) are read as such;
    other bytes fall back to Windows-1252/Latin-1 with a note. Binary files are refused.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise ParseError(
            f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit for one "
            "transcript; check it is really a transcript, or split it into episodes",
            None,
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise ParseError("file is empty; nothing to ingest", None)
    note = None
    if raw.startswith(codecs.BOM_UTF8):
        text = raw[3:].decode("utf-8", errors="strict") if _utf8(raw[3:]) else None
        if text is None:
            raise ParseError("file starts with a UTF-8 BOM but is not valid UTF-8", None)
        return text, raw, None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), raw, None
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"file has a UTF-16 BOM but is not valid UTF-16 ({exc.reason})"
            ) from None
    sample = raw[:4096]
    if b"\x00" in sample:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if max(even, odd) > 0.4 * (len(sample) / 2) and min(even, odd) < 0.05 * len(sample):
            try:
                return raw.decode("utf-16-le" if odd > even else "utf-16-be"), raw, None
            except UnicodeDecodeError:
                pass
        raise ParseError("binary file (contains NUL bytes), not a text transcript", None)
    try:
        return raw.decode("utf-8"), raw, None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        text = raw.decode("cp1252", errors="replace")
        if text.count("\ufffd") > 10:
            raise ParseError(
                "not text in any encoding we know (UTF-8, UTF-16, Latin-1)", line
            ) from None
        note = f"line {line}: not UTF-8; read as Windows-1252/Latin-1"
        return text, raw, note


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sidecar_for(path: Path) -> Path | None:
    """``talk.vtt`` -> ``talk.json`` / ``talk.yaml`` beside it, if one holds episode metadata."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate != path and candidate.is_file() and is_sidecar(candidate):
            return candidate
    return None


def load_mapping(path: Path) -> dict[str, Any] | None:
    if path.stat().st_size > 1024 * 1024:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def is_sidecar(path: Path) -> bool:
    """A small JSON/YAML mapping of metadata fields, with no transcript inside."""
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    data = load_mapping(path)
    if data is None:
        return False
    keys = set(data)
    return bool(keys & SIDECAR_KEYS) and not (keys & TRANSCRIPT_KEYS)


def meta_from_mapping(data: dict[str, Any], where: str) -> EpisodeMeta:
    """Sidecar or command-line fields to EpisodeMeta; raises ParseError on wrong types."""

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value).strip() or None
        raise ParseError(f"{where}: '{key}' must be text, not {type(value).__name__}")

    guests = data.get("guests", data.get("guest"))
    if isinstance(guests, str):
        guests = [g.strip() for g in guests.split(",") if g.strip()]
    if guests is not None and not isinstance(guests, list):
        raise ParseError(f"{where}: 'guests' must be a list of names")
    topics = data.get("topics") or []
    chapters = []
    for ch in data.get("chapters") or []:
        if isinstance(ch, dict) and "title" in ch and isinstance(ch.get("start"), int | float):
            chapters.append(Chapter(str(ch["title"]), float(ch["start"])))
        else:
            raise ParseError(f"{where}: each chapter needs 'title' and 'start' (seconds)")
    date = data.get("date")
    links = data.get("links") if isinstance(data.get("links"), dict) else {}
    from storage.links import youtube_id

    url = text("url")
    duration = data.get("duration")
    return EpisodeMeta(
        id=text("episode_id") or text("id"),
        title=text("title"),
        guests=tuple(str(g) for g in guests or ()),
        date=str(date)[:10] if date is not None else None,
        duration=float(duration) if isinstance(duration, int | float) else None,
        url=url,
        youtube_id=text("youtube_id") or youtube_id(url),
        links={str(k): str(v) for k, v in links.items()},
        topics=tuple(str(t) for t in topics) if isinstance(topics, list) else (),
        description=text("description"),
        chapters=tuple(chapters),
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
        result = replace(result, **changes)
    return result
