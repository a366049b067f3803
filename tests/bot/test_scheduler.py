"""The digest schedule (DST, cron), and once-only posting against the local Slack stand-in."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.schedule import Schedule, ScheduleError
from bot.scheduler import (
    ANNOUNCE_BATCH,
    LEASE,
    METADATA_TYPE,
    RETRY_AFTER_FAILURE,
    Poster,
    Scheduler,
    SlackPublisher,
)
from storage.activity.log import record_search
from storage.activity.posts import claim_post, get_post
from storage.clock import iso
from storage.db import Store
from storage.ingest import ingest_paths
from tests.clock import Clock
from tests.conftest import PODCAST
from tests.slack_api import BOT_TOKEN, SlackApi

# Monday 30 November 2026, 09:00 UTC (the digest's time), and the Monday before.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LAST_MONDAY = NOW - timedelta(days=7)
DIGEST = "C0DIGEST"
NEWS = "C0NEWS"
# Real episodes that "arrive" in the tests: removed from the copied catalogue, then ingested.
ARRIVING = ("lean-mlops-for-startups", "devrel-open-source-machine-learning")
# Waits on the background loop are for an event, bounded by this: only a broken loop reaches it.
DEADLINE = 30.0


# -- the schedule ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon 09:00", datetime(2026, 11, 30, 9, tzinfo=UTC)),
        ("Monday 9:00", datetime(2026, 11, 30, 9, tzinfo=UTC)),
        ("fri 16:30", datetime(2026, 11, 27, 16, 30, tzinfo=UTC)),
        ("0 9 * * 1", datetime(2026, 11, 30, 9, tzinfo=UTC)),  # cron: 1 is Monday
        ("0 9 * * 0", datetime(2026, 11, 29, 9, tzinfo=UTC)),  # 0 and 7 are Sunday
        ("0 9 * * 7", datetime(2026, 11, 29, 9, tzinfo=UTC)),
        ("0 9 * * 1-5", datetime(2026, 11, 26, 9, tzinfo=UTC)),
        ("0 9 * * mon", datetime(2026, 11, 30, 9, tzinfo=UTC)),
    ],
)
def test_schedule_forms(text: str, expected: datetime) -> None:
    wednesday = datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert Schedule.parse(text, "UTC").next_run(wednesday) == expected


def test_next_run_keeps_local_time_across_dst_changes() -> None:
    berlin = Schedule.parse("mon 09:00", "Europe/Berlin")
    # Autumn: clocks go back on Sunday 25 October 2026.
    before = berlin.next_run(datetime(2026, 10, 18, tzinfo=UTC))
    after = berlin.next_run(before)
    assert before.isoformat() == "2026-10-19T09:00:00+02:00"
    assert after.isoformat() == "2026-10-26T09:00:00+01:00"
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7, hours=1)
    # Spring: clocks go forward on Sunday 28 March 2027.
    before = berlin.next_run(datetime(2027, 3, 21, tzinfo=UTC))
    after = berlin.next_run(before)
    assert (before.hour, after.hour) == (9, 9)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=6, hours=23)
    # Due exactly at 09:00 local, which is 08:00 UTC after the change.
    assert berlin.due(datetime(2026, 10, 26, 7, 59, tzinfo=UTC)) is None
    due = berlin.due(datetime(2026, 10, 26, 8, 0, tzinfo=UTC))
    assert due is not None and due.isoformat() == "2026-10-26T09:00:00+01:00"
    # A time that does not exist on the spring-forward day still runs that week, once.
    new_york = Schedule.parse("sun 02:30", "America/New_York")
    first = new_york.next_run(datetime(2027, 3, 10, tzinfo=UTC))
    assert first.astimezone(UTC) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert new_york.next_run(first).date().isoformat() == "2027-03-21"


def test_week_keys_follow_the_digest_time_zone() -> None:
    # Sunday 23:30 in UTC is already Monday in Tokyo: a new ISO week there.
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert Schedule.parse("mon 09:00", "UTC").week_of(moment) == "2026-W48"
    assert Schedule.parse("mon 09:00", "Asia/Tokyo").week_of(moment) == "2026-W49"


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("mon 25:00", "UTC", "24-hour time"),
        ("funday 09:00", "UTC", "weekday"),
        ("0 9 * *", "UTC", "five cron fields"),
        ("0 99 * * *", "UTC", "not a valid cron expression"),
        ("0 9 * * 8", "UTC", "0 to 7"),
        ("0 9 31 2 *", "UTC", "never runs"),
        ("mon 09:00", "Mars/Olympus_Mons", "IANA time zone"),
        ("mon 09:00", "../../etc/passwd", "IANA time zone"),
    ],
)
def test_bad_schedules_say_what_to_write(text: str, zone: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Schedule.parse(text, zone)


# -- posting once --------------------------------------------------------------------------------
@pytest.fixture
async def corpus_store(corpus_db: Path, tmp_path: Path):
    """A copy of the corpus whose back catalogue arrived in January and whose last digest went
    out a week ago; ARRIVING episodes are not in it yet."""
    path = tmp_path / "corpus.db"
    shutil.copy(corpus_db, path)
    store = await Store.open(path)
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE digest_arrivals SET arrived_at = ?",
            (iso(datetime(2026, 1, 5, 10, tzinfo=UTC)),),
        )
        for episode_id in ARRIVING:
            await conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
            await conn.execute("DELETE FROM digest_arrivals WHERE episode_id = ?", (episode_id,))
        await conn.execute(
            "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until) VALUES"
            " ('digest', '2026-W48', ?, '1700000000.000100', ?, ?)",
            (DIGEST, iso(LAST_MONDAY), iso(LAST_MONDAY)),
        )
    try:
        yield store
    finally:
        await store.close()


async def arrive(store: Store, *episode_ids: str, at: datetime) -> None:
    """Ingest real episode files, as `python -m bot ingest` would, arriving at ``at``."""
    report = await ingest_paths(store, [PODCAST / f"{e}.md" for e in episode_ids])
    assert [o.status for o in report.outcomes] == ["added"] * len(episode_ids)
    async with store.transaction() as conn:
        for episode_id in episode_ids:
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                (iso(at), episode_id),
            )


@pytest.fixture
async def client(slack_api: SlackApi):
    web = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.api_url, timeout=5)
    yield web
    if web.session is not None:
        await web.session.close()


async def first_round(scheduler: Scheduler) -> None:
    """Start ``scheduler`` and wait (bounded) until its first round has run."""
    await scheduler.start()
    await asyncio.wait_for(scheduler.ran_once.wait(), DEADLINE)


def make_poster(store: Store, client: AsyncWebClient, clock: Clock, **kwargs) -> Poster:
    options = {
        "digest_channel": DIGEST,
        "schedule": Schedule.parse("mon 09:00", "UTC"),
        "announce_channel": None,
        **kwargs,
    }
    return Poster(store, SlackPublisher(client), clock=clock, **options)


async def test_digest_is_posted_once_with_its_ts_recorded(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, *ARRIVING, at=NOW - timedelta(days=3))
    for user in ("U1", "U2"):  # topics are named once two people searched them
        await record_search(
            corpus_store, "feature store", 3, user_id=user, at=iso(NOW - timedelta(days=1))
        )
    poster = make_poster(corpus_store, client, Clock(NOW))

    result = await poster.post_digest()

    assert result.status == "posted"
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.status == 200 and call.answer["ok"], call.answer  # within Block Kit limits
    assert call.args["channel"] == DIGEST
    assert call.args["unfurl_links"] is False and call.args["unfurl_media"] is False
    assert call.args["metadata"] == {
        "event_type": METADATA_TYPE,
        "event_payload": {"kind": "digest", "key": "2026-W49"},
    }
    text = str(call.args["blocks"])
    assert "DevRel Role for Machine Learning" in text and "feature store" in text
    record = await get_post(corpus_store, "digest", "2026-W49")
    assert record is not None and record.ts == call.answer["ts"] == result.ts
    used = await corpus_store.fetchall("SELECT episode_id FROM archive_quotes")
    assert len(used) == 1
    # Later the same week: nothing more.
    for hours in (0, 1, 30, 100):
        poster.clock.now = NOW + timedelta(hours=hours)
        assert (await poster.post_digest()).status == "already"
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    # The preview now shows next week's digest, with the archive quote it will carry.
    preview = await poster.preview()
    assert preview.week == "2026-W50" and preview.archive is not None
    await record_search(corpus_store, "argo", 1, at=iso(NOW + timedelta(days=6)))
    poster.clock.now = NOW + timedelta(days=7)
    assert (await poster.post_digest()).status == "posted"
    last = await corpus_store.fetchone(
        "SELECT episode_id, start, text_key FROM archive_quotes ORDER BY rowid DESC"
    )
    assert tuple(last) == (
        preview.archive.episode_id, preview.archive.start, preview.archive.text_key,
    )  # fmt: skip


async def test_missed_run_is_caught_up_once_and_old_weeks_never(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=2))
    clock = Clock(NOW - timedelta(minutes=1))  # Monday 08:59: not yet
    scheduler = Scheduler(make_poster(corpus_store, client, clock))
    assert [r.status for r in await scheduler.tick()] == ["not_due"]
    # The bot was down at 09:00 and comes back on Wednesday afternoon: posted once, then quiet.
    for moment in (NOW + timedelta(days=2, hours=5), NOW + timedelta(days=2, hours=6),
                   NOW + timedelta(days=6, hours=14)):  # fmt: skip
        clock.now = moment
        await scheduler.tick()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["metadata"]["event_payload"]["key"] == "2026-W49"
    # Down for three weeks: on return, this week's digest only (no burst of the missed ones).
    clock.now = NOW + timedelta(days=28, hours=3)
    await record_search(corpus_store, "argo", 2, at=iso(clock.now - timedelta(hours=1)))
    await scheduler.tick()
    await scheduler.tick()
    keys = [c.args["metadata"]["event_payload"]["key"] for c in slack_api.calls_to(
        "chat.postMessage")]  # fmt: skip
    assert keys == ["2026-W49", "2026-W53"]


async def test_two_processes_in_turn_post_once(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, *ARRIVING, at=NOW - timedelta(days=1))
    first = Scheduler(make_poster(corpus_store, client, Clock(NOW)))
    await first_round(first)
    await first.stop()
    async with await Store.open(corpus_store.path) as other:  # a restarted process
        second = Scheduler(make_poster(other, client, Clock(NOW + timedelta(seconds=5))))
        await first_round(second)
        await second.stop()
    # Both have stopped, so every call they made has arrived.
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_stopping_waits_for_the_post_under_way_but_not_forever(
    corpus_store: Store,
    client: AsyncWebClient,
    slack_api: SlackApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=1))
    slack_answers = slack_api.hold("chat.postMessage")
    scheduler = Scheduler(make_poster(corpus_store, client, Clock(NOW)), stop_grace=0.2)
    await scheduler.start()
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while await get_post(corpus_store, "digest", "2026-W49") is None:  # claimed: posting
        assert asyncio.get_running_loop().time() < deadline, "the digest was never claimed"
        await asyncio.sleep(0.02)
    # Slack does not answer within the grace: the stop gives up on it rather than hang, and
    # the claim stays for the next start to check (see the interrupted-post tests above).
    with caplog.at_level(logging.WARNING, logger="episode_bot.scheduler"):
        await asyncio.wait_for(scheduler.stop(), DEADLINE)
    assert "stopped in the middle of a round" in caplog.text
    record = await get_post(corpus_store, "digest", "2026-W49")
    assert record is not None and record.state == "claimed"
    slack_answers.set()
    # The same scheduler can still run a round by hand afterwards (the stop is not sticky).
    scheduler.poster.clock.now = NOW + LEASE + timedelta(minutes=1)
    slack_api.reply("conversations.history", json={"ok": True, "messages": [
        {"ts": "1700000000.000777", "metadata": {
            "event_type": METADATA_TYPE, "event_payload": {"kind": "digest", "key": "2026-W49"}}},
    ]})  # fmt: skip
    [result] = await scheduler.tick()
    assert (result.status, result.ts) == ("recovered", "1700000000.000777")


async def test_empty_week_is_skipped_and_stays_skipped(
    store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    poster = make_poster(store, client, Clock(NOW))
    assert (await poster.post_digest()).status == "skipped"
    record = await get_post(store, "digest", "2026-W49")
    assert record is not None and record.state == "skipped"
    # A search on Tuesday does not make Monday's digest appear on Tuesday.
    await record_search(store, "anything", 0, at=iso(NOW + timedelta(days=1)))
    poster.clock.now = NOW + timedelta(days=1, hours=1)
    assert (await poster.post_digest()).status == "skipped"
    assert slack_api.calls_to("chat.postMessage") == []
    # With DIGEST_SKIP_EMPTY=false an empty week is posted, saying so.
    poster = make_poster(store, client, Clock(NOW + timedelta(days=7)), skip_empty=False)
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM search_log")
    assert (await poster.post_digest()).status == "posted"
    [call] = slack_api.calls_to("chat.postMessage")
    assert "Nothing new" in call.args["text"]


async def test_a_post_interrupted_after_its_claim_is_found_or_posted_once(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=1))
    # A process claimed the week at 09:00 and died before recording a ts.
    claim = await claim_post(corpus_store, "digest", "2026-W49", DIGEST, now=NOW,
                             stale_after=LEASE)  # fmt: skip
    assert claim.status == "claimed"
    poster = make_poster(corpus_store, client, Clock(NOW + timedelta(minutes=1)))
    assert (await poster.post_digest()).status == "busy"  # it may still be posting
    # After the lease: the channel's history shows the message did go out; record it.
    poster.clock.now = NOW + LEASE + timedelta(minutes=1)
    slack_api.reply("conversations.history", json={"ok": True, "messages": [
        {"ts": "1700000000.000555", "text": "other"},
        {"ts": "1700000000.000777", "text": "Weekly digest", "metadata": {
            "event_type": METADATA_TYPE, "event_payload": {"kind": "digest", "key": "2026-W49"}}},
    ]})  # fmt: skip
    result = await poster.post_digest()
    assert (result.status, result.ts) == ("recovered", "1700000000.000777")
    [history] = slack_api.calls_to("conversations.history")
    assert history.args["channel"] == DIGEST
    assert float(history.args["oldest"]) <= NOW.timestamp() <= float(history.args["latest"])
    assert slack_api.calls_to("chat.postMessage") == []
    record = await get_post(corpus_store, "digest", "2026-W49")
    assert record is not None and record.ts == "1700000000.000777"
    # The message found covers the window its own run built, up to 09:00, not up to the
    # recovery: the next digest starts at 09:00, so nothing after it is left out.
    assert record.window_until == iso(NOW)


async def test_an_interrupted_post_that_never_reached_slack_is_posted(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=1))
    await claim_post(corpus_store, "digest", "2026-W49", DIGEST, now=NOW, stale_after=LEASE)
    poster = make_poster(corpus_store, client, Clock(NOW + timedelta(hours=2)))
    slack_api.reply("conversations.history", json={"ok": True, "messages": []})
    assert (await poster.post_digest()).status == "posted"
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert (await poster.post_digest()).status == "already"


async def test_when_slack_cannot_tell_the_bot_does_not_risk_a_second_copy(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=1))
    await claim_post(corpus_store, "digest", "2026-W49", DIGEST, now=NOW, stale_after=LEASE)
    poster = make_poster(corpus_store, client, Clock(NOW + timedelta(hours=2)))
    slack_api.reply("conversations.history", json={"ok": False, "error": "missing_scope"},
                    times=None)  # fmt: skip
    assert (await poster.post_digest()).status == "uncertain"
    assert slack_api.calls_to("chat.postMessage") == []
    # The claim keeps its original time, so the next look covers the right minutes.
    record = await get_post(corpus_store, "digest", "2026-W49")
    assert record is not None and record.posted_at == iso(NOW)
    # An admin's `digest now` decides: post it.
    assert (await poster.post_digest(force=True)).status == "posted"
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_a_refused_post_is_retried_later_not_lost(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    await arrive(corpus_store, ARRIVING[0], at=NOW - timedelta(days=1))
    clock = Clock(NOW)
    scheduler = Scheduler(make_poster(corpus_store, client, clock))
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "not_in_channel"})
    [result] = await scheduler.tick()
    assert result.status == "failed" and "not_in_channel" in (result.detail or "")
    assert await get_post(corpus_store, "digest", "2026-W49") is None  # claim given back
    clock.now = NOW + timedelta(minutes=1)
    assert await scheduler.tick() == []  # backing off: no hammering
    clock.now = NOW + timedelta(minutes=11)
    [result] = await scheduler.tick()
    assert result.status == "posted"
    assert len(slack_api.calls_to("chat.postMessage")) == 2


# -- announcements -------------------------------------------------------------------------------
async def test_new_episodes_are_announced_once_and_the_catalogue_never(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    poster = make_poster(corpus_store, client, clock, digest_channel=None, announce_channel=NEWS)
    scheduler = Scheduler(poster)
    await first_round(scheduler)  # first start: the 198 episodes there are the watermark
    await scheduler.stop()
    assert slack_api.calls_to("chat.postMessage") == []
    # Another process ingests two real episodes while the bot serves.
    async with await Store.open(corpus_store.path) as ingester:
        await arrive(ingester, *ARRIVING, at=NOW)
    clock.now = NOW + timedelta(minutes=1)
    results = await scheduler.tick()
    assert sorted(r.key for r in results if r.status == "posted") == sorted(ARRIVING)
    calls = slack_api.calls_to("chat.postMessage")
    assert [c.args["channel"] for c in calls] == [NEWS, NEWS]
    devrel = next(c for c in calls if "DevRel" in c.args["text"])
    blocks = str(devrel.args["blocks"])
    assert "New episode" in blocks and "Hugo Bowne-Anderson" in blocks and "2023-06-17" in blocks
    assert "https://www.youtube.com/watch?v=z7BvslwVRbQ&t=832s" in blocks  # a chapter's second
    assert devrel.args["metadata"]["event_payload"] == {
        "kind": "announcement", "key": "devrel-open-source-machine-learning",
    }  # fmt: skip
    # Re-ingesting an updated file: replaced, never announced again; nor on the next start.
    changed = tmp_path / f"{ARRIVING[1]}.md"
    changed.write_text((PODCAST / changed.name).read_text().replace("Metaflow", "Metaflow!", 1))
    report = await ingest_paths(corpus_store, [changed])
    assert [o.status for o in report.outcomes] == ["replaced"]
    clock.now = NOW + timedelta(minutes=2)
    assert await scheduler.tick() == []
    restarted = Scheduler(poster)
    await first_round(restarted)
    await restarted.stop()
    assert len(slack_api.calls_to("chat.postMessage")) == 2


async def test_a_catalogue_import_while_serving_is_not_announced(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    poster = make_poster(corpus_store, client, Clock(NOW), digest_channel=None,
                         announce_channel=NEWS)  # fmt: skip
    assert await poster.announce_new() == []  # sets the watermark
    ids = [r["id"] for r in await corpus_store.fetchall(
        "SELECT id FROM episodes ORDER BY id LIMIT ?", (ANNOUNCE_BATCH + 1,))]  # fmt: skip
    async with corpus_store.transaction() as conn:  # as if these had just been ingested
        for episode_id in ids:
            await conn.execute("DELETE FROM digest_arrivals WHERE episode_id = ?", (episode_id,))
            await conn.execute(
                "INSERT INTO digest_arrivals(episode_id, arrived_at) VALUES (?, ?)",
                (episode_id, iso(NOW)),
            )
    results = await poster.announce_new()
    assert [r.status for r in results] == ["skipped"] * len(ids)
    assert await poster.announce_new() == []
    assert slack_api.calls_to("chat.postMessage") == []


def test_digest_handler_does_not_import_the_scheduler() -> None:
    """Imports go one way: bot.scheduler uses handlers.digest to render; the handler gets the
    poster through Deps.digest_poster and never imports bot.scheduler (no import cycle)."""
    import ast
    import subprocess
    import sys

    import handlers.digest

    tree = ast.parse(Path(handlers.digest.__file__).read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [m for m in imported if m and (m == "bot" or m.startswith("bot."))], imported
    for first in ("handlers.digest", "bot.scheduler"):  # either order, in a fresh interpreter
        code = f"import {first}, handlers.digest, bot.scheduler"
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    code = "import sys, handlers.digest; print('bot.scheduler' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


async def test_an_undecidable_announcement_does_not_hold_back_later_ones(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    clock = Clock(NOW)
    poster = make_poster(corpus_store, client, clock, digest_channel=None, announce_channel=NEWS)
    scheduler = Scheduler(poster)
    await first_round(scheduler)
    await scheduler.stop()
    first, second = ARRIVING
    await arrive(corpus_store, first, at=NOW)
    # A run claimed the first announcement and died; Slack can't say whether it went out.
    await claim_post(corpus_store, "announcement", first, NEWS, now=NOW, stale_after=LEASE)
    slack_api.reply("conversations.history", json={"ok": False, "error": "missing_scope"},
                    times=None)  # fmt: skip
    clock.now = NOW + timedelta(hours=2)
    [result] = await scheduler.tick()
    assert (result.key, result.status) == (first, "uncertain")
    await arrive(corpus_store, second, at=clock.now)
    clock.now += RETRY_AFTER_FAILURE + timedelta(minutes=1)  # the sweep backs off, then goes on
    results = await scheduler.tick()
    assert [(r.key, r.status) for r in results] == [(second, "posted")]
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["metadata"]["event_payload"]["key"] == second


async def test_weekly_digests_tile_time_across_dst_and_a_late_run(
    corpus_store: Store, client: AsyncWebClient, slack_api: SlackApi
) -> None:
    """Consecutive digests cover [since, until) windows that meet exactly: the week with the
    clocks going back (7 days and an hour), a digest caught up on a Wednesday, and events right
    on a run's instant or a microsecond before it. Each search counts in exactly one digest."""
    berlin = ZoneInfo("Europe/Berlin")
    runs = [
        datetime(2026, 10, 19, 9, tzinfo=berlin),  # CEST
        datetime(2026, 10, 26, 9, tzinfo=berlin),  # CET: the clocks went back on the 25th
        datetime(2026, 11, 4, 14, tzinfo=berlin),  # the bot was down on Monday
        datetime(2026, 11, 9, 9, tzinfo=berlin),
    ]
    start = runs[0] - timedelta(days=7)  # the first digest looks back a week
    rng = random.Random(15)
    span = int((runs[-1] - start).total_seconds() * 1_000_000)
    moments = [start + timedelta(microseconds=rng.randrange(span)) for _ in range(24)]
    moments += [start, *runs[:-1]] + [r - timedelta(microseconds=1) for r in runs]
    async with corpus_store.transaction() as conn:
        await conn.execute("DELETE FROM posts")
    for i, moment in enumerate(moments):
        await record_search(corpus_store, f"topic {i}", 1, user_id=f"U{i}", at=iso(moment))
    await arrive(corpus_store, ARRIVING[0], at=runs[1])  # exactly at a run: the next digest's
    poster = make_poster(
        corpus_store, client, Clock(runs[0]), schedule=Schedule.parse("mon 09:00", "Europe/Berlin")
    )
    digests = []
    for run in runs:
        poster.clock.now = run
        digest = await poster.preview()
        assert (await poster.post_digest()).status == "posted"
        digests.append(digest)
    assert digests[0].since == digests[0].activity_since == start
    for before, after in itertools.pairwise(digests):
        assert after.since == after.activity_since == before.until
    for digest in digests:
        expected = sum(digest.since <= m < digest.until for m in moments)
        assert digest.searches == expected
    assert sum(d.searches for d in digests) == len(moments) == 24 + 1 + 3 + 4
    assert [[e.id for e in d.new_episodes] for d in digests] == [[], [], [ARRIVING[0]], []]
    assert len(slack_api.calls_to("chat.postMessage")) == len(runs)
