"""Which second each word is spoken at: caption tracks, aligning edited episodes to them.

An episode can arrive twice: as an edited transcript (readable, coarse paragraph times) and as
raw captions of the same recording (garbled, timed to the second). They are one episode. The
captions are kept here as a *caption track* (``caption_tracks``), never as a second episode once
the edited transcript is known; the edited episode's passages keep their text and boundaries and
take their start and end from the captions (``align``). Linking works in either order:

* captions first, no edited episode yet: the captions are an episode of their own (as any
  captions file) and their track is stored; when the edited transcript arrives it absorbs them
  (:func:`apply_captions`, inside ingest's transaction): the caption-only episode is removed.
* edited first: ingesting the captions (same YouTube id, or ``--episode-id`` naming the edited
  episode) re-times it in one transaction and creates no episode (:func:`attach_captions`).

Search can start a quote, and its link, at any word: :func:`passage_word_times` gives a time per
word. Aligned episodes store theirs (``episode_word_times``); for the others they are derived
from the segments exactly as ingest timed the passages (``passages.word_times``), which
costs ingest nothing and a few milliseconds an episode when asked.
"""

from __future__ import annotations

import logging
import sys
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import aiosqlite

from storage.db import Store
from storage.models import (
    EpisodeMeta,
    EpisodeTiming,
    FileOutcome,
    Outcome,
    Segment,
    Transcript,
    TranscriptKind,
)
from storage.segments import unpack as unpack_segments
from storage.timing.align import Alignment, align
from storage.timing.passages import line_starts, segment_words, word_times

log = logging.getLogger(__name__)


def pack_times(times: Sequence[float]) -> bytes:
    """Word times as compressed centisecond steps (about 1.5 bytes a word)."""
    steps = array("i")
    previous = 0
    for t in times:
        cs = round(t * 100)
        steps.append(cs - previous)
        previous = cs
    return zlib.compress(_little_endian(steps).tobytes(), 6)


def unpack_times(blob: bytes) -> list[float]:
    steps = array("i")
    steps.frombytes(zlib.decompress(blob))
    return [cs / 100 for cs in accumulate(_little_endian(steps))]


def _little_endian(values: array) -> array:
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values


@dataclass(frozen=True)
class CaptionTrack:
    """A captions file's words and their times, kept to time an edited transcript."""

    id: str
    youtube_id: str | None
    words: tuple[str, ...]
    times: tuple[float, ...]


def _flat(per_segment: list[list[str]]) -> list[str]:
    return [w for ws in per_segment for w in ws]


def track_of(episode_id: str, meta: EpisodeMeta, transcript: Transcript) -> CaptionTrack:
    per_segment = segment_words(transcript.segments)
    # At the precision they are stored in, so aligning now or after a reload gives equal times.
    times = tuple(
        round(t * 100) / 100 for t in word_times(transcript.segments, TranscriptKind.CAPTIONS)
    )
    return CaptionTrack(episode_id, meta.youtube_id, tuple(_flat(per_segment)), times)


async def _rows(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> list:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def _store_track(
    conn: aiosqlite.Connection,
    track: CaptionTrack,
    source: str,
    fmt: str,
    digest: str,
    stamp: str,
) -> None:
    await conn.execute(
        "INSERT INTO caption_tracks(id, youtube_id, episode_id, words, times, coverage,"
        " source_path, source_format, source_hash, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(id) DO UPDATE SET youtube_id = excluded.youtube_id,"
        " episode_id = NULL, words = excluded.words, times = excluded.times,"
        " coverage = NULL, source_path = excluded.source_path,"
        " source_format = excluded.source_format, source_hash = excluded.source_hash,"
        " ingested_at = excluded.ingested_at",
        (
            track.id, track.youtube_id, None, " ".join(track.words),
            pack_times(track.times), None, source, fmt, digest, stamp,
        ),
    )  # fmt: skip


async def _store_word_times(
    conn: aiosqlite.Connection, episode_id: str, times: Sequence[float]
) -> None:
    await conn.execute(
        "INSERT OR REPLACE INTO episode_word_times(episode_id, times) VALUES (?, ?)",
        (episode_id, pack_times(times)),
    )


async def _retime_passages(
    conn: aiosqlite.Connection, episode_id: str, times: Sequence[float]
) -> int:
    """Give the stored passages of an episode new start/end times; their text stays as it is.

    Boundaries are kept (not rebuilt from the new times) so passage ids, which shares and the
    digest remember, survive, and the passages are the same whichever file arrived first.
    """
    rows = await _rows(
        conn, "SELECT id, word_start, word_end FROM passages WHERE episode_id = ?", (episode_id,)
    )
    total = len(times)
    if not rows or max(r["word_end"] for r in rows) > total:
        return 0
    updates = []
    for r in rows:
        start = times[r["word_start"]]
        # As build_passages: a passage ends where the next word starts.
        end = times[r["word_end"]] if r["word_end"] < total else times[-1] + 1.0
        updates.append((round(start, 2), round(max(start, end), 2), r["id"]))
    await conn.executemany("UPDATE passages SET start = ?, end = ? WHERE id = ?", updates)
    return len(updates)


async def _segments(conn: aiosqlite.Connection, episode_id: str) -> list[Segment]:
    rows = await _rows(
        conn, "SELECT data FROM episode_segments WHERE episode_id = ?", (episode_id,)
    )
    return unpack_segments(rows[0]["data"]) if rows else []


def _load_track(row) -> CaptionTrack:  # noqa: ANN001
    words = tuple(row["words"].split())
    return CaptionTrack(row["id"], row["youtube_id"], words, tuple(unpack_times(row["times"])))


def _align(segments: Sequence[Segment], track: CaptionTrack) -> Alignment:
    per_segment = segment_words(segments)
    own = word_times(segments, TranscriptKind.EDITED, per_segment)
    return align(_flat(per_segment), track.words, track.times, fallback=own)


async def _take_times(
    conn: aiosqlite.Connection, episode_id: str, track: CaptionTrack, result: Alignment
) -> None:
    """Re-time an edited episode from its captions, and make the captions its track."""
    await _retime_passages(conn, episode_id, result.times)
    await _store_word_times(conn, episode_id, result.times)
    await conn.execute(
        "UPDATE episodes SET timing = ? WHERE id = ?", (EpisodeTiming.CAPTIONS_ALIGNED, episode_id)
    )
    await conn.execute(
        "UPDATE caption_tracks SET episode_id = ?, coverage = ? WHERE id = ?",
        (episode_id, round(result.coverage, 4), track.id),
    )
    # The captions were an episode of their own until now: one episode, not two hits.
    await conn.execute(
        "DELETE FROM episodes WHERE id = ? AND id != ? AND kind = 'captions'",
        (track.id, episode_id),
    )


async def apply_captions(
    conn: aiosqlite.Connection, episode_id: str, meta: EpisodeMeta, transcript: Transcript
) -> str | None:
    """Inside ingest's transaction, once the episode's passages are written: an edited
    transcript with a stored caption track takes the captions' times (passages and word times).

    Returns a note for the ingest report when captions were used (or refused), else None.

    Example:
        >>> async with store.transaction() as conn:                              # doctest: +SKIP
        ...     note = await apply_captions(conn, "devrel", meta, transcript)
    """
    if transcript.kind == TranscriptKind.EDITED:
        tracks = await _rows(
            conn,
            "SELECT id, youtube_id, words, times FROM caption_tracks"
            " WHERE id = ? OR episode_id = ? OR (youtube_id IS NOT NULL AND youtube_id = ?)"
            " ORDER BY id = ? DESC, ingested_at DESC",
            (episode_id, episode_id, meta.youtube_id, episode_id),
        )
        refused = []
        for row in tracks:
            track = _load_track(row)
            result = _align(transcript.segments, track)
            if result.usable:
                await _take_times(conn, episode_id, track, result)
                return f"times from captions {track.id} ({result.coverage:.0%} of words found)"
            refused.append(f"{track.id} ({result.coverage:.0%} of words found)")
        if refused:
            note = f"captions {', '.join(refused)} do not match this transcript; times interpolated"
            log.warning("%s: %s", episode_id, note)
            return note
    return None


async def attach_captions(
    store: Store,
    path: Path,
    transcript: Transcript,
    meta: EpisodeMeta,
    digest: str,
    source: str | None = None,
):  # -> FileOutcome | None (not imported: storage.ingest.pipeline imports this module)
    """Before ingest stores a captions file: if it belongs to a stored edited episode, keep it
    as that episode's caption track and re-time the episode (one transaction), and return the
    outcome; ingest then stores no episode for it. Otherwise keep the track for later and return
    None, and the captions become an episode of their own, as any captions file. Captions
    linked to an episode whose words they do not share fail, with nothing stored.

    ``meta.id`` is the id the captions would have on their own: ``--episode-id`` or a sidecar
    naming the edited episode links them explicitly; else the YouTube id does. ``source`` is
    where the captions came from (default: the file's absolute path; a feed gives the URL).
    """
    name = str(path)
    source = source or str(path.resolve())
    track = track_of(meta.id or path.stem, meta, transcript)
    async with store.transaction() as conn:
        targets = await _rows(
            conn,
            "SELECT id, title, timing FROM episodes WHERE kind = 'edited'"
            " AND (id = ? OR (youtube_id IS NOT NULL AND youtube_id = ?))"
            " ORDER BY id = ? DESC, ingested_at DESC LIMIT 1",
            (track.id, track.youtube_id, track.id),
        )
        stored = await _rows(
            conn, "SELECT source_hash, episode_id FROM caption_tracks WHERE id = ?", (track.id,)
        )
        if not targets:
            if not stored or stored[0]["source_hash"] != digest:
                await _store_track(conn, track, source, transcript.format, digest, store.stamp())
            return None
        target = targets[0]
        if (
            stored
            and stored[0]["source_hash"] == digest
            and stored[0]["episode_id"] == target["id"]
            and target["timing"] == EpisodeTiming.CAPTIONS_ALIGNED
        ):
            return FileOutcome(
                name, Outcome.UNCHANGED, target["id"], target["title"], message="unchanged, skipped"
            )
        result = _align(await _segments(conn, target["id"]), track)
        if not result.usable:
            # Linked by --episode-id, a sidecar or the YouTube id, yet not the same words: a
            # wrong link. Storing nothing beats replacing or duplicating the episode.
            how = (
                "named by --episode-id or a sidecar"
                if target["id"] == track.id
                else f"same YouTube id {track.youtube_id}"
            )
            return FileOutcome(
                name,
                Outcome.FAILED,
                message=(
                    f"these captions do not match episode {target['id']} ({how}; only "
                    f"{result.coverage:.0%} of its words found); check --episode-id, --url or "
                    "the sidecar, or ingest the captions without them"
                ),
            )
        await _store_track(conn, track, source, transcript.format, digest, store.stamp())
        await _take_times(conn, target["id"], track, result)
        count = await _rows(
            conn, "SELECT count(*) AS n FROM passages WHERE episode_id = ?", (target["id"],)
        )
    passages = count[0]["n"]
    return FileOutcome(
        name,
        Outcome.ALIGNED,
        target["id"],
        target["title"],
        passages=passages,
        message=(
            f"captions of {target['id']}: {result.coverage:.0%} of its words found, "
            f"{passages} passages re-timed (no separate episode)"
        ),
    )


# Derived word times of recently asked episodes; the key changes whenever the episode does.
_DERIVED: OrderedDict[tuple, list[float]] = OrderedDict()
_DERIVED_MAX = 64


async def episode_word_times(store: Store, episode_id: str) -> list[float]:
    """A time per word of the episode's word stream (``segment_words`` of its segments).

    Passage ``p`` covers words ``p.word_start:p.word_end``; word ``k`` of ``p.text.split()``
    is stream word ``p.word_start + k``. Empty for an unknown episode.

    Example:
        >>> times = await episode_word_times(store, "devrel-open-source-machine-learning")
        ...                                                                  # doctest: +SKIP
    """
    row = await store.fetchone(
        "SELECT e.kind, e.source_hash, e.ingested_at, w.times FROM episodes e"
        " LEFT JOIN episode_word_times w ON w.episode_id = e.id WHERE e.id = ?",
        (episode_id,),
    )
    if row is None:
        return []
    if row["times"] is not None:
        return unpack_times(row["times"])
    key = (id(store), episode_id, row["source_hash"], row["ingested_at"])
    if key in _DERIVED:
        _DERIVED.move_to_end(key)
        return list(_DERIVED[key])
    async with store.reading() as conn:
        segments = await _segments(conn, episode_id)
    times = word_times(segments, row["kind"]) if segments else []
    _DERIVED[key] = times
    if len(_DERIVED) > _DERIVED_MAX:
        _DERIVED.popitem(last=False)
    return list(times)


_LINES: OrderedDict[tuple, list[float]] = OrderedDict()


async def passage_line_starts(store: Store, passage_ids: Iterable[int]) -> dict[int, list[float]]:
    """For each passage of a captions episode, the start of the caption line of each word of
    ``passage.text.split()`` (passages of edited episodes are left out).

    Example:
        >>> lines = await passage_line_starts(store, [hit.passage_id])     # doctest: +SKIP
    """
    ids = sorted(set(passage_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    sql = (
        "SELECT p.id, p.episode_id, p.word_start, p.word_end, e.source_hash, e.ingested_at"  # noqa: S608 - placeholders only
        " FROM passages p JOIN episodes e ON e.id = p.episode_id"
        f" WHERE e.kind = 'captions' AND p.id IN ({marks})"
    )
    rows = await store.fetchall(sql, tuple(ids))
    out: dict[int, list[float]] = {}
    for r in rows:
        key = (id(store), r["episode_id"], r["source_hash"], r["ingested_at"])
        if key not in _LINES:
            async with store.reading() as conn:
                segments = await _segments(conn, r["episode_id"])
            _LINES[key] = line_starts(segments)
            if len(_LINES) > _DERIVED_MAX:
                _LINES.popitem(last=False)
        _LINES.move_to_end(key)
        out[r["id"]] = _LINES[key][r["word_start"] : r["word_end"]]
    return out


async def passage_word_times(store: Store, passage_ids: Iterable[int]) -> dict[int, list[float]]:
    """For each passage, the second each word of ``passage.text.split()`` is spoken.

    This is what lets a quote (and its link) start inside a passage, at the matched words.

    Example:
        >>> times = await passage_word_times(store, [hit.passage_id])       # doctest: +SKIP
        >>> second = times[hit.passage_id][3]   # when the passage's 4th word is spoken
    """
    ids = sorted(set(passage_ids))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await store.fetchall(
        f"SELECT id, episode_id, word_start, word_end FROM passages WHERE id IN ({marks})",  # noqa: S608 - placeholders only
        tuple(ids),
    )
    by_episode: dict[str, list[float]] = {}
    out: dict[int, list[float]] = {}
    for r in rows:
        if r["episode_id"] not in by_episode:
            by_episode[r["episode_id"]] = await episode_word_times(store, r["episode_id"])
        out[r["id"]] = by_episode[r["episode_id"]][r["word_start"] : r["word_end"]]
    return out
