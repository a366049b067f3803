"""Ingest: transcript files in, episodes, segments and passages out; one transaction a file."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.db import Store, utc_now
from storage.formats import FORMATS, NotATranscript, ParseError, detect
from storage.formats.markdown import load_front_matter
from storage.links import youtube_id
from storage.models import EpisodeMeta, Transcript
from storage.passages import build_passages
from storage.sources import (
    is_sidecar,
    load_mapping,
    merge_meta,
    meta_from_mapping,
    read_text,
    sidecar_for,
)
from storage.timing import apply_captions, attach_captions  # precise timestamps (issue 6)

# Extensions worth opening when walking a folder; anything else is listed as skipped.
TRANSCRIPT_EXTENSIONS = {".md", ".markdown", ".txt", ".vtt", ".srt", ".json"}
_SEASON_EPISODE = re.compile(r"s(\d{1,3})e(\d{1,3})", re.I)


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``status``: added, replaced, unchanged, skipped or failed.

    Or ``aligned``: captions that re-timed a stored edited episode (``storage.timing``).
    """

    path: str
    status: str
    episode_id: str | None = None
    title: str | None = None
    passages: int = 0
    seconds: float = 0.0
    message: str | None = None
    line: int | None = None

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}" if self.message else where


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed: float = 0.0

    def of(self, *statuses: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def failed(self) -> list[FileOutcome]:
        return self.of("failed")

    def summary(self) -> str:
        stored = self.of("added", "replaced")
        hours = sum(o.seconds for o in stored) / 3600
        parts = [
            f"{len(stored)} episodes ingested",
            f"{sum(o.passages for o in stored)} passages",
            f"{hours:.1f} h of audio",
            f"{self.elapsed:.1f} s",
        ]
        if self.of("unchanged"):
            parts.append(f"{len(self.of('unchanged'))} unchanged")
        if self.of("aligned"):
            parts.append(f"{len(self.of('aligned'))} caption files aligned to episodes")
        if self.of("skipped"):
            parts.append(f"{len(self.of('skipped'))} skipped")
        parts.append(f"{len(self.failed)} files failed")
        return ", ".join(parts)


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Files to try, in a stable order, and outcomes for what a folder walk passes over."""
    files: list[Path] = []
    skipped: list[FileOutcome] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or not child.is_file():
                    continue
                if child.suffix.lower() not in TRANSCRIPT_EXTENSIONS:
                    skipped.append(FileOutcome(str(child), "skipped", message="not a transcript"))
                else:
                    files.append(child)
        else:
            files.append(path)
    return files, skipped


def file_hash(raw: bytes, *extra: str) -> str:
    digest = hashlib.sha256(raw)
    for item in extra:
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "episode"


def _profile(text: str, path: Path) -> tuple[str, str] | None:
    """A guest profile (``_people/<id>.md``): (id, full name), or None."""
    try:
        loaded = load_front_matter(text, path)
    except ParseError:
        return None
    if loaded is None:
        return None
    data, _ = loaded
    name = data.get("title")
    if not isinstance(name, str) or "transcript" in data:
        return None
    person_id = data.get("short") if isinstance(data.get("short"), str) else path.stem
    return person_id, name.strip()


async def learn_people(store: Store, files: list[Path]) -> set[Path]:
    """Store guest names from every ``_people`` profile among ``files``; return those files."""
    profiles: dict[Path, tuple[str, str]] = {}
    for path in files:
        if path.parent.name != "_people" or path.suffix.lower() not in (".md", ".markdown"):
            continue
        try:
            found = _profile(path.read_text(encoding="utf-8-sig", errors="replace"), path)
        except OSError:
            continue
        if found:
            profiles[path] = found
    if profiles:
        async with store.transaction() as conn:
            await conn.executemany(
                "INSERT INTO people(id, name) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                list(profiles.values()),
            )
    return set(profiles)


async def _guest_names(store: Store, meta: EpisodeMeta) -> tuple[str, ...]:
    if meta.guests:
        return meta.guests
    names = []
    for gid in meta.guest_ids:
        row = await store.fetchone("SELECT name FROM people WHERE id = ?", (gid,))
        names.append(row["name"] if row else gid)
    return tuple(names)


def parse_file(path: Path, text: str, fmt_name: str | None) -> Transcript:
    fmt = FORMATS.get(fmt_name) if fmt_name else detect(path, text)
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ParseError(f"unrecognised transcript format; pass --format (one of: {known})", None)
    return fmt.parse(text, path)


async def ingest_file(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    overrides: EpisodeMeta | None = None,
) -> FileOutcome:
    """Ingest one file in one transaction. Never raises for bad input: returns a failed outcome."""
    name = str(path)
    try:
        text, raw, note = read_text(path)
        transcript = parse_file(path, text, fmt)
    except NotATranscript as exc:
        return FileOutcome(name, "skipped", message=exc.what)
    except ParseError as exc:
        return FileOutcome(name, "failed", message=exc.message, line=exc.line)
    except (OSError, RecursionError, MemoryError) as exc:
        return FileOutcome(name, "failed", message=f"cannot read: {exc}")
    sidecar = sidecar_for(path)
    layers = [transcript.meta]
    if sidecar is not None:
        try:
            layers.append(meta_from_mapping(load_mapping(sidecar) or {}, str(sidecar)))
        except ParseError as exc:
            return FileOutcome(name, "failed", message=exc.message)
    if overrides is not None:
        layers.append(overrides)
    meta = merge_meta(*layers)
    episode_id = meta.id or slug(path.stem)
    if meta.youtube_id is None and meta.url:
        meta = replace(meta, youtube_id=youtube_id(meta.url))
    meta = replace(meta, id=episode_id, title=meta.title or path.stem.replace("_", " "))
    meta = replace(meta, guests=await _guest_names(store, meta))
    digest = file_hash(
        raw, transcript.format, repr(overrides), sidecar.read_text() if sidecar else ""
    )
    if transcript.kind == "captions":  # issue 6: captions of a stored edited episode only time it
        attached = await attach_captions(store, path, transcript, meta, digest)
        if attached is not None:
            return attached
    existing = await store.fetchone("SELECT source_hash FROM episodes WHERE id = ?", (episode_id,))
    if existing is not None and existing["source_hash"] == digest:
        return FileOutcome(name, "unchanged", episode_id, meta.title, message="unchanged, skipped")
    passages = build_passages(transcript.segments, transcript.kind)
    if not passages:
        return FileOutcome(name, "failed", message="no transcript text found in the file")
    last = transcript.segments[-1]
    duration = meta.duration or max(last.end or last.start, passages[-1].end)
    timing = "interpolated" if transcript.kind == "edited" else "as-given"
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        await conn.execute(
            "INSERT INTO episodes(id, title, guests, date, duration, url, youtube_id, links,"
            " topics, season, number, description, kind, timing, source_path, source_format,"
            " source_hash, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                episode_id, meta.title, json.dumps(list(meta.guests)), meta.date, duration,
                meta.url, meta.youtube_id, json.dumps(meta.links), json.dumps(list(meta.topics)),
                meta.season, meta.number, meta.description, transcript.kind, timing,
                str(path.resolve()), transcript.format, digest, utc_now(),
            ),
        )  # fmt: skip
        await conn.executemany(
            "INSERT INTO chapters(episode_id, idx, title, start) VALUES (?,?,?,?)",
            [(episode_id, i, c.title, c.start) for i, c in enumerate(meta.chapters)],
        )
        await conn.executemany(
            "INSERT INTO segments(episode_id, idx, start, end, speaker, text) VALUES (?,?,?,?,?,?)",
            [
                (episode_id, i, s.start, s.end, s.speaker, s.text)
                for i, s in enumerate(transcript.segments)
            ],
        )
        await conn.executemany(
            "INSERT INTO passages(episode_id, idx, start, end, speaker, chapter, text,"
            " word_start, word_end) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (episode_id, i, p.start, p.end, p.speaker, p.chapter, p.text, p.word_start,
                 p.word_end)
                for i, p in enumerate(passages)
            ],
        )  # fmt: skip
        # issue 6: per-word times, and an edited episode takes the times of its captions.
        timing_note = await apply_captions(conn, episode_id, meta, transcript)
    note = "; ".join(n for n in (note, timing_note) if n) or None
    return FileOutcome(
        name,
        "replaced" if existing is not None else "added",
        episode_id,
        meta.title,
        passages=len(passages),
        seconds=duration,
        message=note,
    )


async def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    fmt: str | None = None,
    overrides: EpisodeMeta | None = None,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
) -> IngestReport:
    """Ingest files and folders (recursively). Profiles are read first so guests get names.

    Example:
        >>> report = await ingest_paths(store, [Path("examples")])  # doctest: +SKIP
        >>> print(report.summary())                                  # doctest: +SKIP
    """
    started = time.perf_counter()
    report = IngestReport()
    paths = list(paths)
    missing = [p for p in paths if not p.exists()]
    report.outcomes.extend(
        FileOutcome(str(p), "failed", message="no such file or folder") for p in missing
    )
    files, skipped = expand(p for p in paths if p.exists())
    report.outcomes.extend(skipped)
    explicit = {p for p in paths if p.is_file()}
    profiles = await learn_people(store, files)
    for path in profiles:
        report.outcomes.append(
            FileOutcome(str(path), "skipped", message="guest profile (names guests)")
        )
    chapter_lists: list[Path] = []
    todo = [f for f in files if f not in profiles]
    for path in progress(todo) if progress else todo:
        if path not in explicit and is_sidecar(path):
            report.outcomes.append(
                FileOutcome(str(path), "skipped", message="episode metadata sidecar")
            )
            continue
        outcome = await ingest_file(store, path, fmt=fmt, overrides=overrides)
        if outcome.status == "skipped" and "chapter list" in (outcome.message or ""):
            chapter_lists.append(path)
            continue
        report.outcomes.append(outcome)
    for path in chapter_lists:
        report.outcomes.append(await _attach_chapter_list(store, path))
    report.elapsed = time.perf_counter() - started
    return report


async def _attach_chapter_list(store: Store, path: Path) -> FileOutcome:
    """``sXXeYY-*.txt`` chapter lists give chapters to that episode when it has none."""
    from storage.formats.captions import chapters_from_lines, timed_lines

    m = _SEASON_EPISODE.search(path.name)
    note = "chapter list, not a transcript"
    if not m:
        return FileOutcome(str(path), "skipped", message=note)
    rows = await store.fetchall(
        "SELECT id FROM episodes WHERE season = ? AND number = ?", (int(m[1]), int(m[2]))
    )
    if len(rows) != 1:
        return FileOutcome(
            str(path), "skipped", message=f"{note} (no single episode s{m[1]}e{m[2]})"
        )
    episode_id = rows[0]["id"]
    have = await store.fetchone("SELECT 1 FROM chapters WHERE episode_id = ?", (episode_id,))
    if have:
        return FileOutcome(
            str(path), "skipped", episode_id, message=f"{note}; {episode_id} has chapters"
        )
    chapters = chapters_from_lines(timed_lines(read_text(path)[0]))
    async with store.transaction() as conn:
        await conn.executemany(
            "INSERT INTO chapters(episode_id, idx, title, start) VALUES (?,?,?,?)",
            [(episode_id, i, c.title, c.start) for i, c in enumerate(chapters)],
        )
    return FileOutcome(
        str(path), "skipped", episode_id, message=f"{note}; chapters added to {episode_id}"
    )
