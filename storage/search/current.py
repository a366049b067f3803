"""The store's current :class:`SearchCache`: loaded (or built) once, kept in step with the data.

The first search of a process loads the snapshot the database holds for the current signature
(``storage.search.snapshot``), or builds the cache and stores it. After that a changed signature
(an ingest, in this process or another) starts ONE rebuild in the background, and searches keep
answering from the last cache until it is done. A rebuild too loads a snapshot first: after
``python -m bot ingest`` has stored one, a serving process picks it up instead of rebuilding.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

from storage.db import Store, search_signature
from storage.search.index import SearchCache, build_cache
from storage.search.snapshot import load_snapshot, save_snapshot

log = logging.getLogger(__name__)

# A changed signature is rebuilt once the data has been quiet this long (an ingest commits one
# file after another, tens of milliseconds apart), waiting at most SETTLE_LIMIT for quiet.
SETTLE_SECONDS = 0.3
SETTLE_LIMIT = 30.0


_states: weakref.WeakKeyDictionary[Store, _CacheState] = weakref.WeakKeyDictionary()


@dataclass
class _CacheState:
    """One store's cache, and the rebuild under way (at most one at a time)."""

    cache: SearchCache | None = None
    first: asyncio.Lock = field(default_factory=asyncio.Lock)
    rebuild: asyncio.Task | None = None


def _state(store: Store) -> _CacheState:
    state = _states.get(store)
    if state is None:
        state = _states[store] = _CacheState()
    return state


async def search_cache(store: Store) -> SearchCache:
    """The store's :class:`SearchCache`.

    Only the first call waits for a build. After that, a changed signature (an ingest, in
    this process or another) starts ONE rebuild in the background, after the data has been
    quiet for :data:`SETTLE_SECONDS` (so an ingest run of many files costs one rebuild, not
    one per file), and searches keep answering from the last cache until it is done.
    """
    signature = await search_signature(store)
    state = _state(store)
    if state.cache is None:
        async with state.first:
            if state.cache is None:
                state.cache = await _load_or_build(store, signature)
        return state.cache
    if state.cache.signature != signature and (state.rebuild is None or state.rebuild.done()):
        state.rebuild = asyncio.get_running_loop().create_task(
            _rebuild(store, state), name="search-cache-rebuild"
        )
    return state.cache


async def _rebuild(store: Store, state: _CacheState) -> None:
    try:
        signature = await _settled_signature(store)
        for _ in range(5):  # bounded: data still changing after five builds waits for a search
            assert state.cache is not None
            if signature == state.cache.signature:
                return
            state.cache = await _load_or_build(store, signature)
            now = await search_signature(store)
            signature = now if now == signature else await _settled_signature(store)
    except Exception:  # the old cache keeps serving; the next search tries again
        if store.closed:  # closed meanwhile (serve stopping): nothing left to serve
            return
        log.exception("search cache rebuild failed")


async def _settled_signature(store: Store) -> tuple:
    """The signature once it has stopped changing (at most SETTLE_LIMIT seconds of waiting)."""
    signature = await search_signature(store)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_LIMIT
    while loop.time() < deadline:
        await asyncio.sleep(SETTLE_SECONDS)
        now = await search_signature(store)
        if now == signature:
            break
        signature = now
    return signature


async def wait_for_search_cache(store: Store) -> SearchCache:
    """The store's cache once it is current: starts a rebuild if the data changed, and waits
    for it (for tests, and for ``serve`` to start warm)."""
    state = _state(store)
    for _ in range(10):  # bounded
        cache = await search_cache(store)
        task = state.rebuild
        if task is not None and not task.done():
            await asyncio.shield(task)
            continue
        if cache.signature == await search_signature(store):
            return cache
    assert state.cache is not None
    return state.cache


async def _load_or_build(store: Store, signature: tuple) -> SearchCache:
    cache = await load_snapshot(store, signature)
    if cache is None:
        cache = await build_cache(store, signature)
        await save_snapshot(store, cache)
    return cache


async def refresh_search_cache(store: Store) -> None:
    """After an ingest or a removal: bring the cache, and the copy the database keeps, in step
    with the data, so the next search here answers from it and the next process (a one-off
    search, a server starting) loads it instead of building it. Cheap when nothing changed.
    Never raises for the cache's sake: searches build it themselves if this could not."""
    try:
        await wait_for_search_cache(store)
    except Exception as exc:  # noqa: BLE001 - the data is stored; only the warm-up failed
        log.warning("search cache not refreshed (%s); the next search builds it", exc)
