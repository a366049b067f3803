"""Episode Markdown: YAML front matter holding metadata and a ``transcript`` list.

This is the DataTalks.Club site format (``_podcast/*.md``). It tolerates that corpus's quirks:
a stray line before the front matter, entries without ``sec`` (continue from the previous),
duplicated entries without speaker or time, speaker fields holding paragraph text, malformed or
unquoted ``time`` values (``sec`` is used instead), ``=`` left at the start of a paragraph.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from storage.catalogue import youtube_id
from storage.clock import iso_date, iso_duration, parse_clock
from storage.ingest.formats.base import (
    MAX_EPISODE_SECONDS,
    Format,
    NotATranscript,
    ParseError,
    check_seconds,
    check_whole,
    shown_number,
)
from storage.ingest.formats.yaml_fields import YamlLoader, check_episode_id, load_yaml
from storage.models import Chapter, EpisodeMeta, Segment, Transcript, TranscriptKind


class _LineLoader(YamlLoader):
    """Safe loader that remembers the source line of every mapping (for error messages)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def split_front_matter(text: str) -> tuple[str, int] | None:
    """Return (front matter YAML, line number where it starts), or None if there is none.

    A stray line before the opening ``---`` (seen in drafts) is tolerated.
    """
    lines = text.splitlines()
    opening = None
    for i, line in enumerate(lines[:3]):
        if line.strip() == "---":
            opening = i
            break
    if opening is None:
        return None
    for j in range(opening + 1, len(lines)):
        if lines[j].strip() in ("---", "..."):
            return "\n".join(lines[opening + 1 : j]), opening + 2
    return None


def load_front_matter(text: str, path: Path) -> tuple[dict[str, Any], int] | None:
    found = split_front_matter(text)
    if found is None:
        return None
    body, first_line = found
    data = load_yaml(body, loader=_LineLoader, first_line=first_line, what="YAML front matter")
    if not isinstance(data, dict):
        raise ParseError("front matter is not a YAML mapping of fields", first_line)
    return data, first_line


def episode_id_from_path(path: Path) -> str:
    """``_theme-park.md`` -> ``theme-park``; ``hiring.md.md`` -> ``hiring``."""
    name = path.name
    while name.lower().endswith((".md", ".markdown")):
        name = name.rsplit(".", 1)[0]
    return name.lstrip("_") or name


def parse_duration(value: Any, line: int | None = None) -> float | None:
    """Seconds of a ``duration`` field (a number or ``PT1H2M3S``); ParseError out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return check_seconds(value, "'duration'", line)
    seconds = iso_duration(value) if isinstance(value, str) else None
    return check_seconds(seconds, "'duration'", line) if seconds is not None else None


def key_line(text: str, key: str, default: int | None) -> int | None:
    """The line of a top-level front matter ``key:`` (for messages), else ``default``."""
    m = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else default


def _date(value: Any) -> str | None:
    # The site's own dates, read as written (a quirky one is kept, never refused).
    return iso_date(value, checked=False)


def _clock(value: Any) -> float | None:
    """``'1:02:03'`` -> 3723; YAML 1.1 already turned unquoted ``1:23`` into 83."""
    if isinstance(value, int):
        return float(value)
    return parse_clock(value) if isinstance(value, str) else None


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None and not isinstance(v, dict))
    return ()


def _looks_like_name(value: str) -> bool:
    return 0 < len(value.split()) <= 3 and len(value) <= 40 and not re.search(r"[.!?,;]", value)


def meta_from_front_matter(
    data: dict[str, Any], path: Path, line_of: Callable[[str], int | None] = lambda key: None
) -> EpisodeMeta:
    """The episode's metadata; ParseError (at ``line_of(key)``) for a number out of range."""
    ids = data.get("ids") if isinstance(data.get("ids"), dict) else {}
    links = data.get("links") if isinstance(data.get("links"), dict) else {}
    links = {str(k): str(v) for k, v in links.items() if isinstance(v, str) and k != "__line__"}
    yt = ids.get("youtube") if isinstance(ids.get("youtube"), str) else None
    yt = yt or youtube_id(links.get("youtube"))
    url = links.get("youtube") or (f"https://www.youtube.com/watch?v={yt}" if yt else None)
    if not url and isinstance(data.get("url"), str):
        url = data["url"]
    chapters = []
    clips = data.get("quotableClips")
    for clip in clips if isinstance(clips, list) else []:
        if isinstance(clip, dict) and clip.get("name") is not None:
            start = clip.get("startOffset")
            if isinstance(start, int | float) and 0 <= start <= MAX_EPISODE_SECONDS:
                chapters.append(Chapter(str(clip["name"]), float(start)))
    # The site's numbers are read as written; one no show could have is refused with its line.
    season, number = (
        check_whole(data[key], f"'{key}'", line_of(key))
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool)
        else None
        for key in ("season", "episode")
    )
    title = data.get("title")
    return EpisodeMeta(
        id=str(data["id"]).strip()
        if isinstance(data.get("id"), str)
        else episode_id_from_path(path),
        title=str(title).strip() if title is not None else None,
        guest_ids=_str_list(data.get("guests")),
        date=_date(data.get("dateadded")) or _date(data.get("date")),
        duration=parse_duration(data.get("duration"), line_of("duration")),
        url=url,
        youtube_id=yt,
        links=links,
        topics=_str_list(data.get("topics")),
        season=season,
        number=number,
        description=str(data["description"]).strip() if data.get("description") else None,
        chapters=tuple(sorted(chapters, key=lambda c: c.start)),
    )


def _segments(items: list[Any], first_line: int) -> list[Segment]:
    segments: list[Segment] = []
    chapter: str | None = None
    last_sec: float | None = None
    pending_dupe: str | None = None
    # A 'line' that is only a speaker's name ('Dan') is a label that slipped into the text:
    # it names the speaker of the next line (whose 'who' is often wrong), it was not said.
    names = {
        str(i["who"]).strip()
        for i in items
        if isinstance(i, dict) and i.get("who") and _looks_like_name(str(i["who"]))
    }
    named_next: str | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        line_no = item.get("__line__")
        line_no = first_line + line_no - 1 if isinstance(line_no, int) else None
        if "header" in item and "line" not in item:
            chapter = str(item["header"]).strip() or chapter
            continue
        text = item.get("line")
        if text is None:
            continue
        text = str(text).strip()
        who = item.get("who")
        # Some files write the speaker as a label ("Theo:"); the name is what we keep.
        who = str(who).strip().rstrip(":").strip() if who is not None else None
        sec = item.get("sec")
        if who and not _looks_like_name(who):
            # The speaker field holds paragraph text (an editing slip): keep the words.
            if _looks_like_name(text):
                text, who = who, text
            else:
                text, who = f"{who} {text}", None
        text = text.lstrip("=").strip()
        if not text:
            continue
        if text.rstrip(":") in names and len(text.split()) <= 2:
            named_next = text.rstrip(":")
            continue
        if sec is None and who is None and item.get("time") is None:
            # A duplicate entry the site keeps just before the same text with all its fields.
            pending_dupe = text
            continue
        if pending_dupe is not None and pending_dupe != text:
            # It was not a duplicate after all: keep it, continuing the previous timestamp.
            segments.append(Segment(last_sec or 0.0, None, None, pending_dupe, chapter, line_no))
        pending_dupe = None
        if isinstance(sec, bool) or not isinstance(sec, int | float):
            sec = _clock(item.get("time"))
        if sec is None:
            sec = last_sec if last_sec is not None else 0.0
        if sec < 0 or sec > MAX_EPISODE_SECONDS or not math.isfinite(sec):  # big ints first
            raise ParseError(
                f"timestamp sec: {shown_number(sec)} is out of range (0 to {MAX_EPISODE_SECONDS}); "
                "fix or remove it",
                line_no,
            )
        last_sec = float(sec)
        if named_next is not None:
            who, named_next = named_next, None
        segments.append(Segment(float(sec), None, who or None, text, chapter, line_no))
    if pending_dupe is not None:
        segments.append(Segment(last_sec or 0.0, None, None, pending_dupe, chapter, None))
    return segments


def parse(text: str, path: Path) -> Transcript:
    loaded = load_front_matter(text, path)
    if loaded is None:
        raise ParseError("no YAML front matter (a block between '---' lines) at the top", 1)
    data, first_line = loaded
    items = data.get("transcript")
    if items is None:
        person = {"picture", "short", "twitter", "linkedin", "github"}
        if "transcript" not in data and "guests" not in data and person & set(data):
            raise NotATranscript("a profile page, not an episode (no transcript)")
        if "transcript" not in data:
            # An episode page without its transcript (or any other page of a site).
            raise NotATranscript(
                "a Markdown page with no 'transcript:' list in its front matter (ingest the "
                "episode's transcript file with a sidecar or --title/--url instead)"
            )
        raise ParseError("'transcript:' is empty; add {line, sec, who} items", first_line)
    if not isinstance(items, list):
        raise ParseError("'transcript:' must be a list of {line, sec, who} items", first_line)
    segments = _segments(items, first_line)
    if not segments:
        raise ParseError("the transcript has no lines with text", first_line)
    if isinstance(data.get("id"), str):
        check_episode_id(data["id"], "front matter 'id'", key_line(text, "id", first_line))
    meta = meta_from_front_matter(data, path, lambda key: key_line(text, key, first_line))
    if not meta.chapters:
        # Chapters from the transcript's headers, each starting at its first line.
        seen: dict[str, float] = {}
        for seg in segments:
            if seg.chapter and seg.chapter not in seen:
                seen[seg.chapter] = seg.start
        meta = replace(meta, chapters=tuple(Chapter(t, s) for t, s in seen.items()))
    return Transcript(
        meta=meta, segments=tuple(segments), format="markdown", kind=TranscriptKind.EDITED
    )


def _sniff(head: str) -> bool:
    return split_front_matter(head + "\n---") is not None and (
        "transcript:" in head or "title:" in head
    )


FORMAT = Format(
    name="markdown",
    extensions=(".md", ".markdown", ".md.md"),
    parse=parse,
    sniff=_sniff,
    help="Markdown with YAML front matter and a 'transcript:' list of {line, sec, who}",
)
