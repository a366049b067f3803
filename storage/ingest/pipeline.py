"""Ingest: transcript files in, episodes, segments and passages out; one transaction a file.

A file goes through three steps:

1. :func:`read_job` (main process): size check, read, content hash. A file whose hash is stored
   already is *unchanged* and goes no further.
2. :func:`prepare` (pure, no database; run in worker processes when there are many files):
   decode, detect the format, parse, merge metadata from the file, its sidecar and the command
   line, build passages.
3. :func:`store_prepared` (main process): resolve guest names, then write the episode in one
   transaction. Captions of an edited episode stored already only re-time it (``storage.timing``).

A file that fails at any step leaves nothing behind and the others still go in.
A site folder's guest profiles and chapter lists are read by :mod:`storage.ingest.site`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.catalogue import youtube_id
from storage.db import FailureKind, Store, failure_kind, refresh_search_vocabulary
from storage.ingest.formats import FORMATS, NestingError, NotATranscript, ParseError, detect
from storage.ingest.site import attach_chapter_list, find_profiles, guest_names, learn_people
from storage.ingest.sources import (
    SIDECAR_SUFFIXES,
    SidecarError,
    decode,
    file_kind,
    is_sidecar,
    key_line,
    merge_meta,
    meta_from_mapping,
    read_limited,
    sidecar_for,
)
from storage.models import (
    Chapter,
    EpisodeMeta,
    EpisodeTiming,
    FileOutcome,
    Outcome,
    Passage,
    Segment,
    Transcript,
    TranscriptKind,
)
from storage.segments import pack as pack_segments
from storage.text import printable, visible
from storage.timing import (  # precise timestamps (issue 6)
    apply_captions,
    attach_captions,
    build_passages,
)

log = logging.getLogger(__name__)

# Bump when parsing or passage building changes what a file turns into: stored episodes then
# count as changed and are rebuilt on the next ingest instead of being skipped as unchanged.
INGEST_VERSION = "3"
# Extensions worth opening when walking a folder; anything else is listed as skipped.
TRANSCRIPT_EXTENSIONS = {".md", ".markdown", ".txt", ".vtt", ".srt", ".json"}
# Below this many files, starting worker processes costs more than it saves.
_POOL_MIN_FILES = 12
# Skipped or unchanged files sharing a reason are summed up in one line above this many.
_GROUP_ABOVE = 3
# prctl(2): the signal a process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1
# SQLite's result codes (the low byte of an extended one) for a full disk and an I/O error;
# an I/O error counts as a full disk when less than this is left on it.
_SQLITE_FULL, _SQLITE_IOERR = 13, 10
_FULL_BELOW_BYTES = 4 * 2**20


class IngestError(ValueError):
    """A request ingest cannot carry out as asked (one episode's flags with many files)."""


class DiskFull(Exception):
    """The database's disk (or SQLite's size limit) is full: no later file can be stored."""


def _disk_full(exc: BaseException, db_path: str) -> bool:
    """SQLITE_FULL, or an I/O error writing while the database's disk has no room left.

    With WAL a full disk often shows as ``disk I/O error`` at COMMIT rather than SQLITE_FULL.
    """
    if not isinstance(exc, sqlite3.Error):
        return False
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _SQLITE_FULL or "database or disk is full" in str(exc):
        return True
    if code != _SQLITE_IOERR and "disk I/O error" not in str(exc):
        return False
    try:
        st = os.statvfs(Path(db_path).resolve().parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _FULL_BELOW_BYTES


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed: float = 0.0
    unit: str = "files"  # what an outcome is about: a file, or a feed's item
    # Why the run stopped before its last file (the disk is full), in one line; None if it
    # went through every file.
    stopped: str | None = None

    def of(self, *statuses: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def failed(self) -> list[FileOutcome]:
        return self.of(Outcome.FAILED)

    def summary(self) -> str:
        """One line: episodes, passages, hours of audio, seconds taken, files failed."""
        stored = self.of(Outcome.ADDED, Outcome.REPLACED)
        hours = sum(o.seconds for o in stored) / 3600
        parts = [
            f"{len(stored)} episodes ingested",
            f"{sum(o.passages for o in stored)} passages",
            f"{hours:.1f} h of audio",
            f"{self.elapsed:.1f} s",
        ]
        if self.of(Outcome.UNCHANGED):
            parts.append(f"{len(self.of('unchanged'))} unchanged")
        if self.of(Outcome.ALIGNED):
            parts.append(f"{len(self.of('aligned'))} caption files aligned to episodes")
        if self.of(Outcome.SKIPPED):
            parts.append(f"{len(self.of('skipped'))} skipped")
        parts.append(f"{len(self.failed)} {self.unit} failed")
        if self.stopped:
            parts.append("stopped early (the disk is full)")
        return ", ".join(parts)

    def lines(self, *, verbose: bool = False, quiet: bool = False) -> list[str]:
        """What to tell the user about individual files, failures first.

        Every failure gets its own ``FILE:LINE: what is wrong`` line, and a run that stopped
        early says why. Notes on stored files follow (not when ``quiet``). Skipped and
        unchanged files are summed up by reason (``verbose``: one line each), so a site folder
        with 367 profiles and chapter lists is a few lines, not 367. Control characters in
        file names are shown as escapes (``\\n``, ``\\x1b``): a name cannot break a line or
        send the terminal a command.
        """
        out = [visible(o.describe()) for o in self.failed]
        if self.stopped:
            out.append(self.stopped)
        if quiet:
            return out
        return out + [visible(line) for line in self._notes(verbose)]

    def _notes(self, verbose: bool) -> list[str]:
        out: list[str] = []
        out += [
            o.describe()
            for o in self.of(Outcome.ADDED, Outcome.REPLACED, Outcome.ALIGNED)
            if o.message
        ]
        failed = {o.path for o in self.failed}  # a broken sidecar: its failure says it all
        quiet = [o for o in self.of(Outcome.SKIPPED, Outcome.UNCHANGED) if o.path not in failed]
        if verbose:
            return out + [o.describe() for o in quiet]
        groups = Counter((o.status, o.reason or o.message or "") for o in quiet)
        shown: set[tuple[str, str]] = set()
        for o in quiet:
            key = (o.status, o.reason or o.message or "")
            if groups[key] <= _GROUP_ABOVE:
                out.append(o.describe())
            elif key not in shown:
                shown.add(key)
                verb = "unchanged" if o.status == Outcome.UNCHANGED else "skipped"
                out.append(
                    f"{groups[key]} {self.unit} {verb}: {key[1]} (for example {o.path}; "
                    "--verbose lists them all)"
                )
        return out


@dataclass(frozen=True)
class Job:
    """A file read and hashed, to be prepared (crosses to worker processes, so plain data)."""

    path: Path
    raw: bytes
    digest: str
    fmt: str | None
    overrides: EpisodeMeta | None
    explicit: bool
    # Where the bytes came from, as stored in source_path: a feed's transcript URL. Default: the
    # file's absolute path. A fetched transcript has no folder, so no sidecar is looked for.
    source: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A file parsed and cut into passages, ready to store; ``notes`` are warnings to show.

    Segments and passages travel as plain tuples (rows): they come back from worker
    processes, and unpickling tens of thousands of dataclasses would cost the writer more
    than writing them.
    """

    path: Path
    meta: EpisodeMeta
    format: str
    kind: TranscriptKind
    segment_rows: tuple[tuple, ...]  # Segment fields, in order
    passage_rows: tuple[tuple, ...]  # Passage fields, in order
    digest: str
    notes: tuple[str, ...] = ()
    id_from_name: bool = False  # the id is the file's name, not one the user gave
    # The segments packed for storage, compressed in the worker rather than by the writer.
    segments_blob: bytes = b""
    source: str = ""  # Job.source: where the bytes came from, if not the file at path

    @property
    def source_path(self) -> str:
        return self.source or str(self.path.resolve())

    @classmethod
    def of(
        cls,
        path: Path,
        meta: EpisodeMeta,
        transcript: Transcript,
        passages: list[Passage],
        digest: str,
        notes: tuple[str, ...],
        id_from_name: bool = False,
        source: str = "",
    ) -> Prepared:
        segment_rows = tuple(
            (s.start, s.end, s.speaker, s.text, s.chapter, s.line) for s in transcript.segments
        )
        passage_rows = tuple(
            (p.start, p.end, p.speaker, p.chapter, p.text, p.word_start, p.word_end)
            for p in passages
        )
        return cls(
            path, meta, transcript.format, transcript.kind, segment_rows, passage_rows, digest,
            notes, id_from_name, pack_segments(segment_rows), source,
        )  # fmt: skip

    @property
    def transcript(self) -> Transcript:
        segments = tuple(Segment(*row) for row in self.segment_rows)
        return Transcript(self.meta, segments, self.format, self.kind, self.notes)

    @property
    def passages(self) -> tuple[Passage, ...]:
        return tuple(Passage(*row) for row in self.passage_rows)


def _not_a_file(path: Path) -> str | None:
    """Why a folder entry that is not a folder cannot be read as a file, or None if it can."""
    if path.is_file() or path.is_dir():
        return None
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"a broken symbolic link (to {target}, which cannot be opened)"
    try:
        return f"{file_kind(path.lstat().st_mode)}, not a file"
    except OSError as exc:  # gone since the folder was listed
        return f"cannot read it: {exc.strerror or exc}"


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Files to try, in a stable order, and outcomes for what a folder walk passes over
    (other file types, and pipes, sockets, devices and broken links, each with its reason)."""
    files: list[Path] = []
    skipped: list[FileOutcome] = []
    wanted = TRANSCRIPT_EXTENSIONS | set(SIDECAR_SUFFIXES)
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for child in sorted(path.rglob("*")):
            rel = child.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or child.is_dir():
                continue
            odd = _not_a_file(child)
            if odd is not None:
                skipped.append(
                    FileOutcome(
                        str(child),
                        Outcome.SKIPPED,
                        message=odd,
                        reason="not regular files (pipes, sockets, devices, broken links)",
                    )  # fmt: skip
                )
                continue
            if child.suffix.lower() in wanted:
                files.append(child)
            else:
                kind = child.suffix.lower() or "no extension"
                skipped.append(
                    FileOutcome(
                        str(child),
                        Outcome.SKIPPED,
                        message=f"not a transcript ({kind})",
                        reason="not a transcript file type",
                    )  # fmt: skip
                )
    return files, skipped


def file_hash(raw: bytes, *extra: str) -> str:
    digest = hashlib.sha256(raw)
    for item in extra:
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "episode"


def parse_file(path: Path, text: str, fmt_name: str | None) -> Transcript:
    fmt = FORMATS.get(fmt_name) if fmt_name else detect(path, text)
    if fmt is None and path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except RecursionError:  # say so, rather than "unrecognised format"
            raise NestingError("JSON nested too deeply to read (no transcript is)", 1) from None
        except ValueError:
            pass
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ParseError(f"unrecognised transcript format; pass --format (one of: {known})", None)
    return fmt.parse(text, path)


def _with_chapters(segments: tuple[Segment, ...], chapters: tuple[Chapter, ...]):
    """Segments placed in the episode's chapters by time, when the transcript itself did not
    place them (captions with chapters from a sidecar), so passages break at chapters too."""
    if not chapters or any(s.chapter for s in segments):
        return segments
    ordered = sorted(chapters, key=lambda c: c.start)
    out, k, current = [], 0, None
    for seg in segments:
        while k < len(ordered) and ordered[k].start <= seg.start + 0.5:
            current = ordered[k].title
            k += 1
        out.append(replace(seg, chapter=current) if current else seg)
    return tuple(out)


def prepare(job: Job) -> Prepared | FileOutcome:
    """Decode, parse, merge metadata and build passages for one file. Touches no database.

    This is the step issue 6 (alignment) or any other enrichment of passages hooks into
    before storage: ``build_passages(segments, kind, times=...)`` takes per-word times.
    """
    name = str(job.path)
    try:
        text, note = decode(job.raw)
        transcript = parse_file(job.path, text, job.fmt)
        sidecar = sidecar_for(job.path) if job.source is None else None
    except NotATranscript as exc:
        if job.explicit and not exc.chapter_list:
            return FileOutcome(name, Outcome.FAILED, message=f"{exc.what}; nothing to ingest")
        return FileOutcome(
            name, Outcome.SKIPPED, message=exc.what, reason=exc.what,
            chapter_list=exc.chapter_list,
        )  # fmt: skip
    except SidecarError as exc:
        return FileOutcome(
            str(exc.path), Outcome.FAILED, line=exc.line,
            message=f"{exc.message} (sidecar of {job.path.name}, which was not ingested)",
        )  # fmt: skip
    except ParseError as exc:
        if not job.explicit and exc.message.startswith("unrecognised transcript format"):
            return FileOutcome(
                name, Outcome.SKIPPED, message="not a transcript (no format recognised)",
                reason="not a transcript (no format recognised)",
            )  # fmt: skip
        return FileOutcome(name, Outcome.FAILED, message=exc.message, line=exc.line)
    except (RecursionError, MemoryError):
        return FileOutcome(name, Outcome.FAILED, message="too deeply nested or too large to read")
    layers = [transcript.meta]
    if sidecar is not None:
        try:
            layers.append(meta_from_mapping(sidecar[1]))
        except ParseError as exc:
            field = re.match(r"'([\w-]+)", exc.message)
            return FileOutcome(
                str(sidecar[0]), Outcome.FAILED,
                line=key_line(sidecar[0], field[1]) if field else None,
                message=f"{exc.message} (sidecar of {job.path.name}, which was not ingested)",
            )  # fmt: skip
    if job.overrides is not None:
        layers.append(job.overrides)
    meta = merge_meta(*layers)
    id_from_name = not meta.id
    meta = replace(
        meta,
        youtube_id=youtube_id(meta.url) or meta.youtube_id,
        id=meta.id or slug(job.path.stem),
        # A file name may hold a newline or a terminal escape; a title shows as words only.
        title=printable(meta.title or job.path.stem.replace("_", " ")) or "Untitled episode",
    )
    segments = _with_chapters(transcript.segments, meta.chapters)
    transcript = replace(transcript, segments=segments)
    passages = build_passages(segments, transcript.kind)
    if not passages:
        return FileOutcome(name, Outcome.FAILED, message="no transcript text found in the file")
    notes = tuple(n for n in (note, *transcript.notes) if n)
    return Prepared.of(
        job.path, meta, transcript, passages, job.digest, notes, id_from_name, job.source or ""
    )


def _prepare_safely(job: Job) -> Prepared | FileOutcome:
    """:func:`prepare` that turns a bug into one failed file instead of a stopped ingest."""
    try:
        return prepare(job)
    except Exception as exc:  # noqa: BLE001 - reported, with its type, as this file's failure
        return FileOutcome(
            str(job.path), Outcome.FAILED,
            message=f"unexpected error while reading it ({type(exc).__name__}: {exc}); "
            "this is a bug in episode-bot, please report it with the file",
        )  # fmt: skip


async def read_job(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    overrides: EpisodeMeta | None = None,
    explicit: bool = True,
) -> Job | FileOutcome:
    """Check the size, read and hash one file; an outcome if it is unchanged or unreadable."""
    name = str(path)
    try:
        raw = read_limited(path)
        sidecar = b"".join(
            c.read_bytes() for c in (path.with_suffix(s) for s in SIDECAR_SUFFIXES)
            if c != path and c.is_file() and c.stat().st_size < 2**20
        )  # fmt: skip
    except ParseError as exc:
        return FileOutcome(name, Outcome.FAILED, message=exc.message, line=exc.line)
    except OSError as exc:
        return FileOutcome(name, Outcome.FAILED, message=f"cannot read it: {exc.strerror or exc}")
    digest = file_hash(raw, INGEST_VERSION, path.name, fmt or "", repr(overrides), sidecar.hex())
    row = await store.fetchone("SELECT id, title FROM episodes WHERE source_hash = ?", (digest,))
    if row is not None:
        return FileOutcome(
            name, Outcome.UNCHANGED, row["id"], row["title"],
            message="unchanged since it was ingested",
            reason="unchanged since they were last ingested (nothing to do)",
        )  # fmt: skip
    return Job(path, raw, digest, fmt, overrides, explicit)


async def store_prepared(store: Store, prepared: Prepared) -> FileOutcome:
    """Write one prepared file: the episode, its chapters, segments and passages, atomically.

    An episode with the same id is replaced in the same transaction. A file the database
    refuses is this file's failure (nothing of it written); a full disk raises
    :class:`DiskFull`, as no later file can go in either.
    """
    try:
        async with _full_disk_stops(store):
            return await _write(store, prepared)
    except (sqlite3.Error, OverflowError, ValueError) as exc:
        busy = failure_kind(exc) == FailureKind.BUSY
        return FileOutcome(
            str(prepared.path), Outcome.FAILED,
            message="the database is busy (another process is writing to it); nothing of this "
            "file was stored; run ingest again when it is done" if busy
            else f"the database refused it ({type(exc).__name__}: {exc}); nothing of it was "
            "stored; this is a bug in episode-bot, please report it with the file",
        )  # fmt: skip


@asynccontextmanager
async def _full_disk_stops(store: Store) -> AsyncIterator[None]:
    """A full disk while writing raises DiskFull (Store.transaction has rolled it back)."""
    try:
        yield
    except sqlite3.Error as exc:
        if _disk_full(exc, store.path):
            raise DiskFull(str(exc)) from exc
        raise


async def _write(store: Store, prepared: Prepared) -> FileOutcome:
    """:func:`store_prepared`'s work, which may raise what the database says."""
    path, digest, kind = prepared.path, prepared.digest, prepared.kind
    name = str(path)
    meta = replace(prepared.meta, guests=await guest_names(store, prepared.meta))
    episode_id = meta.id
    note = "; ".join(prepared.notes) or None
    if kind == TranscriptKind.CAPTIONS:  # issue 6: captions of a stored edited episode only time it
        attached = await attach_captions(
            store, path, prepared.transcript, meta, digest, prepared.source_path
        )
        if attached is not None:
            return attached
    existing = await store.fetchone(
        "SELECT source_hash, source_path, kind FROM episodes WHERE id = ?", (episode_id,)
    )
    if (
        existing is not None
        and prepared.id_from_name
        and existing["kind"] == kind
        and existing["source_path"] != prepared.source_path
    ):
        # Another file of the same name holds this id (talk.vtt beside talk.srt): keep both,
        # this one under its format's name, rather than each replacing the other every run.
        taken_by = existing["source_path"]
        episode_id = f"{episode_id}-{slug(prepared.format)}"
        meta = replace(meta, id=episode_id)
        note = "; ".join(
            n
            for n in (
                note,
                f"stored as {episode_id}: {taken_by} has the id its name gives (set "
                "episode_id in a sidecar to choose)",
            )
            if n
        )
        existing = await store.fetchone(
            "SELECT source_hash, source_path, kind FROM episodes WHERE id = ?", (episode_id,)
        )
    if existing is not None and existing["source_hash"] == digest:
        return FileOutcome(
            name, Outcome.UNCHANGED, episode_id, meta.title, message="unchanged, skipped"
        )
    if existing is not None and existing["source_path"] != prepared.source_path:
        note = "; ".join(
            n
            for n in (
                note,
                f"replaces episode {episode_id} from {existing['source_path']} (same id)",
            )
            if n
        )
    segments, passages = prepared.segment_rows, prepared.passage_rows
    last_start, last_end = segments[-1][0], segments[-1][1]
    duration = meta.duration or max(last_end or last_start, passages[-1][1])
    timing = EpisodeTiming.INTERPOLATED if kind == TranscriptKind.EDITED else EpisodeTiming.AS_GIVEN
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
        await conn.execute(
            "INSERT INTO episodes(id, title, guests, date, duration, url, youtube_id, links,"
            " topics, season, number, description, kind, timing, source_path, source_format,"
            " source_hash, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                episode_id, meta.title, json.dumps(list(meta.guests), ensure_ascii=False),
                meta.date, duration, meta.url, meta.youtube_id,
                json.dumps(meta.links, ensure_ascii=False),
                json.dumps(list(meta.topics), ensure_ascii=False), meta.season, meta.number,
                meta.description, kind, timing, prepared.source_path, prepared.format, digest,
                store.stamp(),
            ),
        )  # fmt: skip
        await conn.executemany(
            "INSERT INTO chapters(episode_id, idx, title, start) VALUES (?,?,?,?)",
            [(episode_id, i, c.title, c.start) for i, c in enumerate(meta.chapters)],
        )
        await conn.execute(
            "INSERT INTO episode_segments(episode_id, count, data) VALUES (?, ?, ?)",
            (episode_id, len(segments), prepared.segments_blob),
        )
        await conn.executemany(
            "INSERT INTO passages(episode_id, idx, start, end, speaker, chapter, text,"
            " word_start, word_end) VALUES (?,?,?,?,?,?,?,?,?)",
            [(episode_id, i, *p) for i, p in enumerate(passages)],
        )
        # issue 6: per-word times, and an edited episode takes the times of its captions.
        timing_note = await apply_captions(conn, episode_id, meta, prepared.transcript)
    note = "; ".join(n for n in (note, timing_note) if n) or None
    return FileOutcome(
        name,
        Outcome.REPLACED if existing is not None else Outcome.ADDED,
        episode_id,
        meta.title,
        passages=len(passages),
        seconds=duration,
        message=note,
    )


async def ingest_file(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    overrides: EpisodeMeta | None = None,
) -> FileOutcome:
    """Ingest one file in one transaction. Never raises for bad input: returns a failed outcome.

    Example:
        >>> outcome = await ingest_file(store, Path("talk.vtt"))   # doctest: +SKIP
        >>> outcome.status, outcome.passages                        # doctest: +SKIP
        ('added', 42)
    """
    job = await read_job(store, path, fmt=fmt, overrides=overrides)
    if isinstance(job, FileOutcome):
        return job
    prepared = _prepare_safely(job)
    if isinstance(prepared, FileOutcome):
        return prepared
    try:
        return await store_prepared(store, prepared)
    except DiskFull:
        return FileOutcome(
            str(path), Outcome.FAILED, message="the disk is full: nothing of it was stored; free "
            "space and run again",
        )  # fmt: skip


def _worker_count(files: int) -> int:
    if files < _POOL_MIN_FILES:
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 8) if cpus > 1 else 0


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the ingest that started it ends, even by
    ``kill -9`` (a pool's own shutdown never runs then, and orphaned workers would live on).

    On Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); elsewhere
    a thread checks once a second whether the parent is still there.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            if os.getppid() != parent:  # it died before the signal was armed
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _pool(workers: int) -> Executor:
    """Worker processes for :func:`prepare`.

    On Linux they are forked: instant, and no re-import of the caller's ``__main__`` (so a
    script without an ``if __name__ == "__main__"`` guard works too). All are started here,
    at once, while the database thread is idle; the children only parse text, and die with this
    process even when it is killed (:func:`_die_with_parent`). Elsewhere they are spawned
    (macOS: forking there is unsafe).
    """
    import multiprocessing
    import warnings

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(method),
        initializer=_die_with_parent, initargs=(os.getpid(),),
    )  # fmt: skip
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a threaded process; see above for why it is safe.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        pool.submit(int).result()  # start the workers now
    return pool


def _owned(path: Path) -> bool:
    """Is there a transcript of the same name beside this JSON/YAML file (is it a sidecar)?"""
    return any(
        path.with_suffix(ext).is_file() for ext in TRANSCRIPT_EXTENSIONS if ext != path.suffix
    )


def _classify(files: list[Path], explicit: set[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Split metadata files (sidecars) off the files to ingest."""
    todo: list[Path] = []
    skipped: list[FileOutcome] = []
    for path in files:
        suffix = path.suffix.lower()
        yaml_file = suffix in (".yaml", ".yml")
        try:
            sidecar = suffix in SIDECAR_SUFFIXES and path not in explicit and is_sidecar(path)
        except NestingError as exc:
            if not _owned(path):  # else it is reported as the sidecar of its transcript
                skipped.append(
                    FileOutcome(
                        str(path),
                        Outcome.FAILED,
                        message=f"{exc.message}; nothing to ingest",
                        line=exc.line,
                    )  # fmt: skip
                )
            continue
        if not yaml_file and not sidecar:
            todo.append(path)
        elif yaml_file and not sidecar:
            skipped.append(
                FileOutcome(
                    str(path),
                    Outcome.SKIPPED,
                    message="YAML that is not episode metadata",
                    reason="YAML files that are not episode metadata",
                )  # fmt: skip
            )
        else:
            owned = _owned(path)
            skipped.append(
                FileOutcome(
                    str(path),
                    Outcome.SKIPPED,
                    message="episode metadata for the transcript of the same name"
                    if owned
                    else "episode metadata, but there is no transcript of the same name",
                    reason="episode metadata (sidecar files)",
                )  # fmt: skip
            )
    return todo, skipped


async def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    fmt: str | None = None,
    overrides: EpisodeMeta | None = None,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Ingest files and folders (recursively). Profiles are read first so guests get names.

    Files are parsed in worker processes (``workers``; default: one per core, none for a few
    files) while the main process writes, in the given order, one transaction per file.

    Example:
        >>> report = await ingest_paths(store, [Path("examples")])  # doctest: +SKIP
        >>> print(report.summary())                                  # doctest: +SKIP
    """
    started = time.perf_counter()
    report = IngestReport()
    paths = list(paths)
    missing = [p for p in paths if not p.exists()]
    report.outcomes.extend(
        FileOutcome(str(p), Outcome.FAILED, message="no such file or folder") for p in missing
    )
    files, skipped = expand(p for p in paths if p.exists())
    report.outcomes.extend(skipped)
    explicit = {p for p in paths if p.is_file()}
    profiles = find_profiles(files)
    todo, metadata = _classify([f for f in files if f not in profiles], explicit)
    one_episode = overrides is not None and (overrides.id or overrides.title or overrides.url)
    if one_episode and len(todo) > 1:
        raise IngestError(
            "--episode-id, --title and --url describe one episode; give them with one "
            f"transcript file, not {len(todo)} (or put a sidecar file beside each transcript)"
        )
    report.outcomes.extend(metadata)
    try:
        await _ingest_files(
            store, report, files, profiles, todo, explicit=explicit, fmt=fmt,
            overrides=overrides, progress=progress, workers=workers,
        )  # fmt: skip
    except DiskFull:
        stored = len(report.of(Outcome.ADDED, Outcome.REPLACED, Outcome.ALIGNED))
        report.stopped = (
            f"the disk is full: {stored} files were stored, the rest were not; free space and "
            "run again"
        )
    else:
        # Once per run, not per file: search reads this instead of walking the word index.
        try:
            await refresh_search_vocabulary(store)
        except Exception as exc:  # noqa: BLE001 - search still works, reading the index itself
            log.warning("search vocabulary not refreshed: %s", exc)
    report.elapsed = time.perf_counter() - started
    return report


async def _ingest_files(
    store: Store,
    report: IngestReport,
    files: list[Path],
    profiles: dict[Path, tuple[str, str]],
    todo: list[Path],
    *,
    explicit: set[Path],
    fmt: str | None,
    overrides: EpisodeMeta | None,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None,
    workers: int | None,
) -> None:
    """Profiles, then each file in ``todo`` (parsed by a pool), then chapter lists, into
    ``report``. DiskFull stops it: the files stored so far stay, whole."""
    async with _full_disk_stops(store):
        await learn_people(store, files, profiles)
    report.outcomes.extend(
        FileOutcome(
            str(path),
            Outcome.SKIPPED,
            message="guest profile (gives guests their names)",
            reason="guest profiles (they give guests their names)",
        )  # fmt: skip
        for path in sorted(profiles)
    )
    jobs: list[Job | FileOutcome] = []
    for path in todo:
        jobs.append(
            await read_job(store, path, fmt=fmt, overrides=overrides, explicit=path in explicit)
        )
    pending = [j for j in jobs if isinstance(j, Job)]
    count = _worker_count(len(pending)) if workers is None else workers
    pool = _pool(count) if count and len(pending) > 1 else None
    chapter_lists: list[Path] = []
    try:
        results = _results(pool, jobs, window=max(4, 4 * count))
        for path, result in zip(progress(todo) if progress else todo, results, strict=True):
            outcome = await result
            if isinstance(outcome, Prepared):
                outcome = await store_prepared(store, outcome)
            if outcome.chapter_list:
                chapter_lists.append(path)
                continue
            report.outcomes.append(outcome)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    for path in chapter_lists:
        async with _full_disk_stops(store):
            report.outcomes.append(await attach_chapter_list(store, path))


def _results(pool: Executor | None, jobs: list[Job | FileOutcome], window: int):
    """An awaitable per job, in order, with at most ``window`` files in flight at once."""
    loop = asyncio.get_running_loop()
    futures: dict[int, asyncio.Future] = {}

    def submit(k: int) -> None:
        if k < len(jobs) and isinstance(jobs[k], Job) and pool is not None:
            futures[k] = loop.run_in_executor(pool, _prepare_safely, jobs[k])

    for k in range(window):
        submit(k)

    async def result(k: int) -> Prepared | FileOutcome:
        job = jobs[k]
        submit(k + window)
        if not isinstance(job, Job):
            return job
        if k not in futures:
            return _prepare_safely(job)
        try:
            return await futures.pop(k)
        except BrokenProcessPool:  # a worker died (out of memory?): do this one here
            return _prepare_safely(job)

    for k in range(len(jobs)):
        yield result(k)
