"""Keeping the catalogue current while the bot serves: every ``FEED_POLL_MINUTES`` it polls the
podcast feeds in ``FEEDS`` (conditional GET, only new or changed transcripts fetched) and
re-scans the folders in ``WATCH_DIRS`` (unchanged files are skipped by their content hash).

New episodes are announced through the scheduler's :class:`~bot.scheduler.Poster` and its
rules (once, a few at a time). The first poll of a feed or folder is its back catalogue: what
it adds is recorded as an import and never announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.fetch import HttpFetcher
from bot.scheduler import Poster
from storage.activity import record_skip
from storage.db import Store
from storage.ingest import Fetch, IngestReport, Outcome, ingest_feed, ingest_paths
from storage.search import refresh_search_cache

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Settings

log = logging.getLogger("episode_bot.feeds")

STOP_GRACE_SECONDS = 5.0


class FeedPoller:
    """Polls feeds and watched folders on a fixed interval, the first round at once.

    Example:
        >>> poller = FeedPoller(store, settings, fetch, poster)  # doctest: +SKIP
        >>> await poller.poll_once()                              # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        feeds: tuple[str, ...],
        folders: tuple[str, ...],
        fetch: Fetch,
        poster: Poster | None,
        *,
        interval_seconds: float,
    ):
        self.store = store
        self.feeds = feeds
        self.folders = folders
        self.fetch = fetch
        self.poster = poster
        self.interval = interval_seconds
        self.rounds = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def poll_once(self) -> list[IngestReport]:
        """One round over every feed and folder. Never raises: failures are logged, one line
        each, and the next round tries again."""
        reports: list[IngestReport] = []
        added: list[str] = []
        for url in self.feeds:
            try:
                report = await ingest_feed(
                    self.store, url, self.fetch, on_first_poll_added=self._not_news
                )
            except Exception:  # noqa: BLE001 - one feed must not stop the others
                log.exception("polling feed %s failed", url, extra={"feed": url})
                continue
            reports.append(report)
            added += await self._settle(report, url, first=False)
            if report.first_poll and report.of(Outcome.ADDED):
                log.info(
                    "%s: first poll, %d episodes imported (not announced)", url,
                    len(report.of(Outcome.ADDED)), extra={"source": url},
                )  # fmt: skip
        for folder in self.folders:
            try:
                first = await self._first_scan(folder)
                report = await ingest_paths(self.store, [Path(folder)], workers=0)
            except Exception:  # noqa: BLE001
                log.exception("scanning %s failed", folder, extra={"folder": folder})
                continue
            reports.append(report)
            await self._scanned(folder, report)
            added += await self._settle(report, folder, first)
        self.rounds += 1
        # New episodes are found by the next search without waiting for a rebuild.
        await refresh_search_cache(self.store)
        if added and self.poster is not None and self.poster.announce_channel:
            await self.poster.announce_new()
        return reports

    async def _not_news(self, episode_id: str) -> None:
        """The back catalogue: recorded as not to be announced, before the scheduler looks."""
        await record_skip(self.store, "announcement", episode_id, now=self.store.now())

    async def _first_scan(self, folder: str) -> bool:
        row = await self.store.fetchone("SELECT 1 FROM feed_state WHERE url = ?", (folder,))
        return row is None

    async def _scanned(self, folder: str, report: IngestReport) -> None:
        async with self.store.transaction() as conn:
            await conn.execute(
                "INSERT INTO feed_state(url, kind, polled_at, items) VALUES (?, 'folder', ?, ?)"
                " ON CONFLICT(url) DO UPDATE SET polled_at = excluded.polled_at,"
                " items = excluded.items",
                (folder, self.store.stamp(), len(report.outcomes)),
            )

    async def _settle(self, report: IngestReport, source: str, first: bool) -> list[str]:
        """Log what a poll did; a first poll's episodes are an import, never announced."""
        context = {"source": source}
        for outcome in report.failed:
            log.warning("%s", outcome.describe(), extra=context)
        added = [o.episode_id for o in report.of(Outcome.ADDED) if o.episode_id]
        changed = report.of(Outcome.ADDED, Outcome.REPLACED, Outcome.ALIGNED)
        if changed or report.failed:
            log.info("%s: %s", source, report.summary(), extra=context)
        if first:
            # A folder's first scan is recorded after the scan, which takes seconds: a
            # scheduler round landing inside it could still announce up to 5 of its files.
            # (Feeds, whose first poll takes minutes, record each episode as it is stored.)
            for episode_id in added:
                await self._not_news(episode_id)
            if added:
                log.info(
                    "%s: first poll, %d episodes imported (not announced)", source, len(added),
                    extra=context,
                )  # fmt: skip
        return added

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="episode-bot feed poller")

    async def stop(self) -> None:
        """Stop; a poll under way finishes its current transaction first (each item is one)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)


async def start_feed_poller(store: Store, settings: Settings, client: AsyncWebClient):  # noqa: ANN201
    """bot/app.py's background job: FEEDS and WATCH_DIRS while the app serves (None if unset)."""
    if not settings.feeds and not settings.watch_dirs:
        return None
    fetcher = HttpFetcher()
    await fetcher.__aenter__()
    poster = Poster.from_settings(store, client, settings) if settings.announce_channel else None
    poller = FeedPoller(
        store, settings.feeds, settings.watch_dirs, fetcher, poster,
        interval_seconds=settings.feed_poll_minutes * 60,
    )  # fmt: skip
    log.info(
        "keeping the catalogue current: %d feeds, %d folders, every %g minutes",
        len(settings.feeds), len(settings.watch_dirs), settings.feed_poll_minutes,
    )  # fmt: skip
    await poller.start()

    async def stop() -> None:
        await poller.stop()
        await fetcher.__aexit__(None, None, None)

    return stop
