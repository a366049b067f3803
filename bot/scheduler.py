"""Posting the weekly digest and new-episode announcements once and only once.

The digest's run times come from :class:`bot.schedule.Schedule`. :class:`Poster` does the
once-only posting:
claim the week (or the episode) in the database, post, record the message ts. :class:`Scheduler`
is the serving app's loop: on start and every minute it posts this week's digest if its time has
come and it isn't posted yet (so a bot that was down at 09:00 posts when it is back, within the
same week, and never a burst of old weeks), and announces newly ingested episodes.

Stopping the app lets a post under way finish (for up to :data:`STOP_GRACE_SECONDS`), so a
restart does not leave a post half-recorded. A crash between claiming and recording the post
still can: it leaves a claim without a ts. After :data:`LEASE` another run looks in the channel
for the message (it carries metadata naming the week or episode): if it is there its ts is
recorded; if it is not, it is posted; if the bot cannot tell (no ``channels:history`` scope), it
does not post, so there is never a second copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.schedule import Schedule
from handlers.digest import render_announcement, render_digest
from handlers.posting import PostStatus
from storage.activity import (
    IMPORT_BATCH,
    ArchiveQuote,
    Digest,
    advance_watermark,
    announce_watermark,
    arrivals_after,
    build_digest,
    claim_post,
    confirm_post,
    get_post,
    record_skip,
    release_post,
    restore_claim,
)
from storage.catalogue import get_episode
from storage.clock import parse_iso
from storage.db import Store

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.config import Settings
    from handlers.render import Message

log = logging.getLogger("episode_bot.scheduler")

# A claim older than this with no ts was interrupted (a post takes seconds; Slack's client
# gives up after 30 s).
LEASE = timedelta(minutes=5)
POLL_SECONDS = 60.0
# How long stopping the app waits for a round in progress (a post normally takes well under a
# second; container runtimes kill a process 10 s after asking it to stop).
STOP_GRACE_SECONDS = 8.0
RETRY_AFTER_FAILURE = timedelta(minutes=10)
# The serving bot announces only recent arrivals, a few at a time: a bigger batch is a
# catalogue import, and a channel should not get dozens of "new episode" posts at once.
ANNOUNCE_MAX_AGE = timedelta(days=7)
ANNOUNCE_BATCH = IMPORT_BATCH
METADATA_TYPE = "episode_bot_post"


# --- posting once -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    """What one attempt to post did; ``status`` is a :class:`PostStatus` (its members say
    what each means; ``detail`` says why for ``failed``)."""

    status: PostStatus
    kind: str
    key: str
    channel: str | None = None
    ts: str | None = None
    detail: str | None = None


class SlackPublisher:
    """Posts through the Web API with metadata naming what was posted, and finds such posts."""

    def __init__(self, client: AsyncWebClient):
        self.client = client

    async def publish(self, channel: str, message: Message, kind: str, key: str) -> str:
        resp = await self.client.chat_postMessage(
            channel=channel,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"kind": kind, "key": key}},
            **message.payload(),
        )
        return str(resp["ts"])

    async def find(
        self, channel: str, kind: str, key: str, oldest: datetime, latest: datetime
    ) -> str | None:
        """The ts of our (kind, key) post in ``channel`` between the two times, or None.

        Raises SlackApiError when the channel's history cannot be read.
        """
        resp = await self.client.conversations_history(
            channel=channel, oldest=f"{oldest.timestamp():.6f}", latest=f"{latest.timestamp():.6f}",
            inclusive=True, include_all_metadata=True, limit=200,
        )  # fmt: skip
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if (
                meta.get("event_type") == METADATA_TYPE
                and payload.get("kind") == kind
                and payload.get("key") == key
            ):
                return str(message.get("ts"))
        return None


def _slack_error(exc: Exception) -> tuple[str, bool]:
    """(a short reason, whether the message certainly was not posted)."""
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError) and exc.response is not None:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        # Slack answered "no" (4xx, or 200 with ok: false): nothing was posted. A 5xx may
        # have posted before failing.
        return f"Slack said {status} {error or ''}".strip(), status < 500
    return f"{type(exc).__name__}: {str(exc)[:200]}", False


class Poster:
    """Posts the digest and new-episode announcements, each once and only once.

    Example:
        >>> poster = Poster.from_settings(store, client, settings)      # doctest: +SKIP
        >>> (await poster.post_digest(now=datetime.now(UTC))).status   # doctest: +SKIP
        'not_due'
    """

    def __init__(
        self,
        store: Store,
        publisher: SlackPublisher | None,
        *,
        digest_channel: str | None = None,
        schedule: Schedule | None = None,
        skip_empty: bool = True,
        announce_channel: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.store = store
        self.publisher = publisher
        self.digest_channel = digest_channel
        self.schedule = schedule or Schedule.parse("mon 09:00", "UTC")
        self.skip_empty = skip_empty
        self.announce_channel = announce_channel
        # The store's clock by default: the time rows are stamped with and the time windows end
        # at come from one place (a test sets it by opening the store with a clock).
        self.clock = clock or store.now

    @classmethod
    def from_settings(
        cls,
        store: Store,
        client: AsyncWebClient | None,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> Poster:
        return cls(
            store,
            SlackPublisher(client) if client is not None else None,
            digest_channel=settings.digest_channel,
            schedule=Schedule.parse(settings.digest_schedule, settings.digest_timezone),
            skip_empty=settings.digest_skip_empty,
            announce_channel=settings.announce_channel,
            clock=clock,
        )

    # -- the digest ------------------------------------------------------------------------------
    async def preview(self, now: datetime | None = None) -> Digest:
        """What the next digest would say, as things stand now (nothing is recorded).

        Keyed by the week it will go out in, so its archive quote is the one it will carry.
        """
        now = now or self.clock()
        week = self.schedule.week_of(now)
        if await get_post(self.store, "digest", week) is not None:
            next_week = self.schedule.week_start(now) + timedelta(days=7)
            upcoming = self.schedule.trigger.get_next_fire_time(None, next_week)
            week = self.schedule.week_of(upcoming) if upcoming else week
        return await build_digest(self.store, now=now, week=week)

    async def post_digest(self, *, now: datetime | None = None, force: bool = False) -> PostResult:
        """Post this week's digest if it is due and not yet posted (``force``: due now).

        ``force`` is ``/episodes digest now``: it posts even an empty week, and even when an
        interrupted post cannot be checked; it still never posts a week twice.
        """
        now = now or self.clock()
        channel = self.digest_channel
        week = self.schedule.week_of(now)
        if not force and self.schedule.due(now) is None:
            return PostResult(PostStatus.NOT_DUE, "digest", week)
        existing = await get_post(self.store, "digest", week)
        if existing is not None and not force:
            quiet = {"posted": PostStatus.ALREADY, "skipped": PostStatus.SKIPPED}.get(
                existing.state
            )
            if quiet:
                return PostResult(quiet, "digest", week, existing.channel, existing.ts)
        if not channel:
            return PostResult(PostStatus.FAILED, "digest", week, detail="DIGEST_CHANNEL is not set")
        digest = await build_digest(self.store, now=now, week=week)
        if digest.is_empty and self.skip_empty and not force:
            await record_skip(self.store, "digest", week, now=now)
            log.info("digest %s: nothing new and nothing searched this week; skipped", week)
            return PostResult(PostStatus.SKIPPED, "digest", week, detail="empty week")
        message = render_digest(digest, schedule=self.schedule)
        return await self._post_once(
            "digest", week, channel, message, now, force, digest.archive, until=digest.until
        )

    # -- announcements ---------------------------------------------------------------------------
    async def announce(self, episode_id: str, *, now: datetime | None = None) -> PostResult:
        """Announce one episode in ANNOUNCE_CHANNEL unless it was announced before."""
        now = now or self.clock()
        if not self.announce_channel:
            return PostResult(
                PostStatus.FAILED, "announcement", episode_id, detail="no ANNOUNCE_CHANNEL"
            )
        episode = await get_episode(self.store, episode_id)
        if episode is None:
            return PostResult(
                PostStatus.FAILED, "announcement", episode_id, detail="no such episode"
            )
        message = render_announcement(episode)
        return await self._post_once(
            "announcement", episode_id, self.announce_channel, message, now, False, None
        )

    async def announce_added(
        self, episode_ids: list[str], *, now: datetime | None = None
    ) -> list[PostResult]:
        """``ingest --announce``: announce what one ingest added (a big import: none of it)."""
        if len(episode_ids) > ANNOUNCE_BATCH:
            return [
                PostResult(PostStatus.SKIPPED, "announcement", e, detail="too many at once")
                for e in episode_ids
            ]
        results = []
        for episode_id in episode_ids:
            results.append(await self.announce(episode_id, now=now))
        return results

    async def announce_new(self, *, now: datetime | None = None) -> list[PostResult]:
        """The serving bot's sweep: announce episodes that arrived after the watermark.

        The watermark starts at the newest arrival the first time, so the catalogue already
        there is never announced; episodes ingested by another process since are.
        """
        now = now or self.clock()
        mark = await announce_watermark(self.store)
        pending = await arrivals_after(self.store, mark)
        if not pending:
            return []
        fresh = [a for a in pending if parse_iso(a.arrived_at) >= now - ANNOUNCE_MAX_AGE]
        if len(fresh) > ANNOUNCE_BATCH:
            log.warning(
                "%d episodes arrived at once; taking it for a catalogue import and announcing "
                "none of them (at most %d are announced at a time)", len(fresh), ANNOUNCE_BATCH,
            )  # fmt: skip
            await advance_watermark(self.store, pending[-1].seq)
            return [
                PostResult(
                    PostStatus.SKIPPED, "announcement", a.episode_id, detail="too many at once"
                )
                for a in fresh
            ]
        results = []
        for arrival in pending:
            if arrival not in fresh:
                log.info("not announcing %s: it arrived over a week ago", arrival.episode_id)
                await advance_watermark(self.store, arrival.seq)
                continue
            result = await self.announce(arrival.episode_id, now=now)
            results.append(result)
            if result.status in (PostStatus.BUSY, PostStatus.FAILED):
                break  # try again on the next sweep
            if result.status == PostStatus.UNCERTAIN:
                # Slack can't tell whether an interrupted post went out (no channels:history):
                # leave that one to an admin rather than hold back every later announcement.
                log.warning(
                    "announcement of %s may or may not have been posted; moving on",
                    arrival.episode_id,
                )
            await advance_watermark(self.store, arrival.seq)
        return results

    # -- claim, post, confirm --------------------------------------------------------------------
    async def _post_once(
        self,
        kind: str,
        key: str,
        channel: str,
        message: Message,
        now: datetime,
        force: bool,
        archive: ArchiveQuote | None,
        *,
        until: datetime | None = None,
    ) -> PostResult:
        """Claim, post, confirm. ``until``: the end of a digest's window, recorded with it."""
        claim = await claim_post(
            self.store, kind, key, channel, now=now, stale_after=LEASE, over_skip=force,
            window_until=until,
        )  # fmt: skip
        record = claim.record
        if claim.status in ("posted", "skipped", "busy"):
            status = PostStatus.ALREADY if claim.status == "posted" else PostStatus(claim.status)
            return PostResult(
                status, kind, key, record.channel if record else channel,
                record.ts if record else None,
            )  # fmt: skip
        if self.publisher is None:
            await release_post(self.store, kind, key)
            return PostResult(
                PostStatus.FAILED, kind, key, channel, detail="SLACK_BOT_TOKEN is not set"
            )
        if claim.status == "stale" and record is not None:
            # An earlier run claimed this and stopped before recording a ts: did it post?
            earlier = record.channel or channel
            claimed_at = parse_iso(record.posted_at)
            try:
                ts = await self.publisher.find(
                    earlier, kind, key, claimed_at - timedelta(minutes=1), claimed_at + 2 * LEASE
                )
            except Exception as exc:  # noqa: BLE001 - any failure means "cannot tell"
                reason, _ = _slack_error(exc)
                if not force:
                    await restore_claim(self.store, record)  # keep the original time to look at
                    log.warning(
                        "%s %s: an earlier post was interrupted and the channel's history "
                        "cannot be read (%s; the app needs channels:history), so it is not "
                        "posted again. `/episodes digest now` posts it.", kind, key, reason,
                    )  # fmt: skip
                    return PostResult(PostStatus.UNCERTAIN, kind, key, earlier, detail=reason)
                ts = None
            if ts:
                # The message found is the earlier run's: its window ended where that run said.
                covered = parse_iso(record.window_until) if record.window_until else None
                await confirm_post(
                    self.store, kind, key, earlier, ts, now=now, archive=archive,
                    window_until=covered,
                )  # fmt: skip
                log.info("%s %s: found the interrupted post (ts %s); recorded it", kind, key, ts)
                return PostResult(PostStatus.RECOVERED, kind, key, earlier, ts)
        try:
            ts = await self.publisher.publish(channel, message, kind, key)
        except Exception as exc:  # noqa: BLE001 - reported, and the claim settled below
            reason, certainly_not = _slack_error(exc)
            if certainly_not:
                await release_post(self.store, kind, key)
            log.error("%s %s: posting to %s failed: %s", kind, key, channel, reason)
            return PostResult(PostStatus.FAILED, kind, key, channel, detail=reason)
        await confirm_post(
            self.store, kind, key, channel, ts, now=now, archive=archive, window_until=until
        )
        log.info("%s %s posted to %s (ts %s)", kind, key, channel, ts)
        return PostResult(PostStatus.POSTED, kind, key, channel, ts)


# --- the serving app's loop ---------------------------------------------------------------------


class Scheduler:
    """Runs :class:`Poster` while the app serves: at start (a missed digest is caught up) and
    then every minute, or at the scheduled time if that comes sooner.

    Example:
        >>> poster = Poster.from_settings(store, app.client, settings)  # doctest: +SKIP
        >>> scheduler = Scheduler(poster)  # doctest: +SKIP
        >>> await scheduler.start()   # doctest: +SKIP
        >>> await scheduler.stop()    # doctest: +SKIP
    """

    def __init__(
        self,
        poster: Poster,
        *,
        stop_grace: float | None = None,
    ):
        self.poster = poster
        self.poll_seconds = POLL_SECONDS
        self.stop_grace = STOP_GRACE_SECONDS if stop_grace is None else stop_grace
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._resume: dict[str, datetime] = {}
        self.ran_once = asyncio.Event()  # set after the first round (tests and logs wait on it)

    @property
    def enabled(self) -> bool:
        return bool(self.poster.digest_channel or self.poster.announce_channel)

    async def start(self) -> None:
        """Start the background loop; its first round runs at once (catching up a missed digest).

        Returns without waiting for Slack, so the app starts serving straight away.
        """
        if self._task is not None or not self.enabled:
            self.ran_once.set()
            return
        poster = self.poster
        if poster.announce_channel:
            await announce_watermark(poster.store)  # the catalogue as of now is never announced
        if poster.digest_channel:
            log.info(
                "weekly digest to %s on %s; next %s", poster.digest_channel,
                poster.schedule.describe(), poster.schedule.next_run(poster.clock()),
            )  # fmt: skip
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="episode-bot scheduler")

    async def stop(self) -> None:
        """Stop the loop. A round under way finishes first (bounded by ``stop_grace``): cutting
        a post off between Slack accepting it and its ts being recorded would leave the next
        start to find out from the channel's history whether it went out."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait({task}, timeout=self.stop_grace)
        finally:
            if not task.done():
                log.warning(
                    "stopped in the middle of a round after waiting %.0f s; if a post was under "
                    "way, the next start checks the channel before posting it again",
                    self.stop_grace,
                )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif not task.cancelled() and task.exception() is not None:
                log.error("the scheduler stopped on an error", exc_info=task.exception())
            self._stopping.clear()  # tick() may still be called by hand (the CLI, tests)

    async def tick(self) -> list[PostResult]:
        """One round: the digest if due, then announcements. Never raises."""
        results: list[PostResult] = []
        now = self.poster.clock()
        jobs: list[tuple[str, Any]] = []
        if self.poster.digest_channel:
            jobs.append(("digest", lambda: self.poster.post_digest(now=now)))
        if self.poster.announce_channel:
            jobs.append(("announce", lambda: self.poster.announce_new(now=now)))
        for name, job in jobs:
            if self._stopping.is_set():
                break  # stopping: finish the post under way, start no other
            if self._resume.get(name, now) > now:
                continue  # failed recently; don't hammer Slack or the log
            try:
                outcome = await job()
            except Exception:  # noqa: BLE001 - the loop must outlive any one failure
                log.exception("scheduled %s failed", name)
                outcome = [PostResult(PostStatus.FAILED, name, "?", detail="error")]
            done = outcome if isinstance(outcome, list) else [outcome]
            results.extend(done)
            if any(r.status in (PostStatus.FAILED, PostStatus.UNCERTAIN) for r in done):
                self._resume[name] = now + RETRY_AFTER_FAILURE
            else:
                self._resume.pop(name, None)
        return results

    def seconds_to_next(self) -> float:
        now = self.poster.clock()
        wait = self.poll_seconds
        if self.poster.digest_channel:
            upcoming = self.poster.schedule.next_run(now)
            if upcoming is not None:
                wait = min(wait, max(0.5, (upcoming - now).total_seconds() + 0.5))
        return wait

    async def _run(self) -> None:
        results = [r for r in await self.tick() if r.status != PostStatus.NOT_DUE]
        log.info(
            "scheduler's first round: %s",
            "; ".join(f"{r.kind} {r.key} {r.status}" for r in results) or "nothing due",
        )
        self.ran_once.set()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.seconds_to_next())
            if not self._stopping.is_set():
                await self.tick()


async def start_scheduler(
    store: Store, settings: Settings, client: AsyncWebClient
) -> Callable[[], Any] | None:
    """bot/app.py's background job: the digest and announcements while the app serves.

    Returns the stop function, or None when neither DIGEST_CHANNEL nor ANNOUNCE_CHANNEL is set.
    """
    scheduler = Scheduler(Poster.from_settings(store, client, settings))
    if not scheduler.enabled:
        return None
    await scheduler.start()
    return scheduler.stop
