"""Searches and shares logged off the answer's path: queued in memory, written in the background.

A busy or failing database, or a burst bigger than the queue, costs the log line (counted, and
reported in at most one WARNING a minute), never the answer. A row is stamped when it is written,
inside its write transaction (``Store.stamp``), so a digest's window, which waits for writes under
way (``Store.settle``), counts each row in exactly one digest: one still queued at a window's end
is stamped after it and counts in the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from storage.activity.log import SEARCH_SQL, SHARE_SQL
from storage.db import Store

log = logging.getLogger("episode_bot.activity")


class ActivityLog:
    """A bounded queue of search and share rows, written by one background task.

    ``search``/``share`` return at once (no database work on the caller's path); ``flush``
    writes what is queued (the digest reads these rows); ``close`` flushes and stops the task.

    Example:
        >>> activity = ActivityLog(store)                              # doctest: +SKIP
        >>> activity.search("argo", 3, user_id="U1", channel_id="C1", source="slash")
        >>> await activity.close()                                      # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        *,
        capacity: int = 1000,
        batch: int = 200,
        warn_every: float = 60.0,
    ):
        self.store = store
        self.capacity = capacity
        self.batch = batch
        self.warn_every = warn_every
        self.dropped = 0  # rows lost since start: queue full or a failed write
        self._pending: deque[tuple[str, tuple]] = deque()  # rows without their time
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._unreported = 0
        self._last_warning = -float("inf")
        self._last_reason = ""

    def search(
        self,
        query: str,
        hits: int,
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        source: str = "slash",
    ) -> bool:
        """Queue one search; False when it was dropped (the queue was full)."""
        return self._put(SEARCH_SQL, (user_id, channel_id, query, hits, str(source)))

    def share(
        self,
        episode_id: str,
        start: float,
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        passage_id: int | None = None,
        query: str | None = None,
        message_ts: str | None = None,
    ) -> bool:
        """Queue one share; False when it was dropped (the queue was full)."""
        row = (user_id, channel_id, episode_id, start, passage_id, query, message_ts)
        return self._put(SHARE_SQL, row)

    def _put(self, sql: str, row: tuple) -> bool:
        if len(self._pending) >= self.capacity:
            self._drop(1, f"more than {self.capacity} waiting")
            return False
        self._pending.append((sql, row))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="activity-log-writer"
            )
        self._wake.set()
        return True

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every queued row now (rows that fail to write are dropped and counted)."""
        async with self._writing:
            while self._pending:
                n = min(self.batch, len(self._pending))
                rows = [self._pending.popleft() for _ in range(n)]
                try:
                    async with self.store.transaction() as conn:
                        stamp = self.store.stamp()
                        for sql, row in rows:
                            await conn.execute(sql, (stamp, *row))
                except Exception as exc:  # noqa: BLE001 - a log line is never worth an answer
                    self._drop(len(rows), f"{type(exc).__name__}: {str(exc)[:200]}")

    async def close(self) -> None:
        """Flush, then stop the background task (serve and the console call this on the way out)."""
        try:
            await self.flush()
        finally:
            if self._task is not None:
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
                self._task = None
            if self._unreported:
                self._warn()

    def _drop(self, n: int, reason: str) -> None:
        self.dropped += n
        self._unreported += n
        self._last_reason = reason
        if time.monotonic() - self._last_warning >= self.warn_every:
            self._warn()

    def _warn(self) -> None:
        log.warning(
            "activity log: %d search/share line(s) not recorded (%s); answers were not affected",
            self._unreported, self._last_reason,
        )  # fmt: skip
        self._unreported = 0
        self._last_warning = time.monotonic()
