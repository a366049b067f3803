"""A :class:`SearchCache` kept in the database, so it is loaded, not rebuilt, by every process.

Building the cache reads and assembles the whole vocabulary, every episode, chapter and guest
name: about 90 ms at 200 hours, seconds at 10,000. A one-off ``python -m bot search`` would pay
that on every run, and ``serve`` before its first answer. So whoever builds a cache also stores
it (migration ``0016_search_snapshot``), taken at the search signature it was built from, and
the next process to need the cache at that signature loads it in a few milliseconds.

The encoding is :mod:`marshal` of plain values (dicts, lists, sets, strings, numbers, bytes):
about six times faster to load than rebuilding, and unlike ``pickle`` it cannot run code. The
header names the fields of :class:`SearchCache` and :class:`EpisodeInfo`, the byte order and the
array item sizes, so a snapshot written by another version of this code, or on another kind of
machine, is simply not used (the cache is rebuilt, then stored again). A snapshot that fails to
decode is treated the same way: it is only ever a copy of what the database already says.
"""

from __future__ import annotations

import gc
import logging
import marshal
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields

from storage.db import SIGNATURE_SQL, Store, failure_kind
from storage.models import EpisodeTiming
from storage.search.index import BUILD, EpisodeInfo, SearchCache

log = logging.getLogger(__name__)

# Memos a cache fills on demand, and the signature (stored in its own columns): not stored.
_SKIPPED = {"signature", "_sounds", "_two", "_title_stems"}
_CACHE_FIELDS = tuple(f.name for f in fields(SearchCache) if f.name not in _SKIPPED)
_EPISODE_FIELDS = tuple(f.name for f in fields(EpisodeInfo))
# Changes whenever either dataclass gains, loses or reorders a field, the way a cache is built
# changes (BUILD), or the machine differs.
FORMAT = "{}|{}|{}|{}|d{}I{}".format(
    BUILD,
    ",".join(_CACHE_FIELDS),
    ",".join(_EPISODE_FIELDS),
    sys.byteorder,
    array("d").itemsize,
    array("I").itemsize,
)


_TIMINGS = {t.value: t for t in EpisodeTiming}


def _encode_field(name: str, value: object) -> object:
    if name == "episodes":
        return [
            tuple(info.timing.value if k == "timing" else getattr(info, k) for k in _EPISODE_FIELDS)
            for info in value.values()  # type: ignore[attr-defined]
        ]
    if name == "chapter_index":
        return {s: a.tobytes() for s, a in value.items()}  # type: ignore[attr-defined]
    if isinstance(value, array):
        return value.tobytes()
    return value


def _decode_field(name: str, value: object, like: object) -> object:
    if name == "episodes":
        timing = _EPISODE_FIELDS.index("timing")
        out = {}
        for row in value:  # type: ignore[attr-defined]
            row = list(row)
            row[timing] = _TIMINGS[row[timing]]
            info = EpisodeInfo(*row)
            out[info.id] = info
        return out
    if name == "chapter_index":
        return {s: _array("I", b) for s, b in value.items()}  # type: ignore[attr-defined]
    if isinstance(like, array):
        return _array(like.typecode, value)  # type: ignore[arg-type]
    if type(value) is not type(like):
        raise TypeError(f"{name}: {type(value).__name__}, not {type(like).__name__}")
    return value


def _array(typecode: str, data: bytes) -> array:
    out = array(typecode)
    out.frombytes(data)
    return out


def encode(cache: SearchCache) -> bytes:
    """``cache`` as bytes for :func:`decode` (its signature is stored beside it)."""
    values = tuple(_encode_field(n, getattr(cache, n)) for n in _CACHE_FIELDS)
    return marshal.dumps(values, 4)


def decode(data: bytes, signature: tuple) -> SearchCache:
    """The cache :func:`encode` stored. Raises ValueError, EOFError or TypeError when ``data``
    is not one (a damaged or foreign snapshot)."""
    with _collector_paused():
        values = marshal.loads(data)  # noqa: S302 - our own plain values; never code, never run
        if not isinstance(values, tuple) or len(values) != len(_CACHE_FIELDS):
            raise TypeError("not a search snapshot")
        empty = SearchCache()
        cache = SearchCache(signature=tuple(signature))
        for name, value in zip(_CACHE_FIELDS, values, strict=True):
            setattr(cache, name, _decode_field(name, value, getattr(empty, name)))
    return cache


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Decoding makes hundreds of thousands of containers and frees none: the cyclic garbage
    collector, woken every few hundred of them, would walk the growing heap again and again
    (half the time of a 10,000 h decode). Plain reference counting still frees as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def load_snapshot(store: Store, signature: tuple) -> SearchCache | None:
    """The stored cache, if one was taken at ``signature`` by this version; else None."""
    row = await store.fetchone(
        "SELECT data FROM search_snapshot WHERE id = 1 AND generation IS ? AND max_passage IS ?"
        " AND format = ?",
        (*signature, FORMAT),
    )
    if row is None:
        return None
    try:
        return decode(row[0], signature)
    except (ValueError, EOFError, TypeError, KeyError, IndexError) as exc:
        log.warning("stored search cache unreadable (%s); rebuilding it", exc)
        return None


async def save_snapshot(store: Store, cache: SearchCache) -> bool:
    """Store ``cache`` if the data is still what it was built from. Best effort: a file that
    cannot be written (read-only, full, busy) only means the next process builds it again."""
    data = encode(cache)
    try:
        async with store.transaction() as conn:
            async with conn.execute(SIGNATURE_SQL) as cur:
                now = tuple(await cur.fetchone())
            if now != tuple(cache.signature):
                return False  # changed meanwhile: the next build stores the newer one
            await conn.execute(
                "INSERT OR REPLACE INTO search_snapshot(id, generation, max_passage, format, data)"
                " VALUES (1, ?, ?, ?, ?)",
                (*cache.signature, FORMAT, data),
            )
    except Exception as exc:
        if failure_kind(exc) is None:
            raise
        log.info("search cache not stored (%s); it is rebuilt when needed", exc)
        return False
    return True
