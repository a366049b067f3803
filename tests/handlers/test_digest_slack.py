"""``/episodes digest`` through the real app, and the digest and announcements while serving.

Signed requests go to bot.app's production wiring on 127.0.0.1; what Slack would receive is read
from the local Web API stand-in. Time is injected: the store is opened with a settable clock.

Serving instances run in the background, so every wait here is for a condition (a log line, a
row, a call), bounded by a deadline that only a broken bot reaches; never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.scheduler
from bot.app import serve
from storage.activity.log import record_search
from storage.activity.posts import get_post
from storage.clock import iso
from storage.db import Store
from storage.ingest import ingest_paths
from tests.bot.harness import running_bot, test_settings
from tests.clock import Clock
from tests.conftest import PODCAST
from tests.slack_api import SlackApi, slash_command

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # Monday, half an hour after the schedule
DIGEST = "C0DIGEST"
NEWS = "C0NEWS"
ADMIN = "U0ADMIN"
ARRIVED = ("devrel-open-source-machine-learning", "crisp-dm")
LATER = ("lean-mlops-for-startups",)  # ingested while the bot serves


@pytest.fixture
def frozen() -> Clock:
    """The time, settable by the test, for the bot and for any other process's store: the
    scheduler runs by it and ingest stamps arrivals with it (an episode stamped with the
    machine's date might look over a week old to a scheduler at NOW, and not be announced)."""
    return Clock(NOW)


@pytest.fixture
async def digest_db(corpus_db: Path, tmp_path: Path) -> Path:
    """The corpus as it stood on NOW: the back catalogue since January, two episodes new this
    week, one (LATER) not ingested yet, a few searches, last week's digest posted."""
    path = tmp_path / "bot.db"
    shutil.copy(corpus_db, path)
    async with await Store.open(path) as store:
        async with store.transaction() as conn:
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ?",
                (iso(datetime(2026, 1, 5, 10, tzinfo=UTC)),),
            )
            for episode_id in ARRIVED:
                await conn.execute(
                    "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                    (iso(NOW - timedelta(days=3)), episode_id),
                )
            for episode_id in LATER:
                await conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
                await conn.execute(
                    "DELETE FROM digest_arrivals WHERE episode_id = ?", (episode_id,)
                )
            await conn.execute(
                "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until) VALUES"
                " ('digest', '2026-W48', ?, '1700000000.000100', ?, ?)",
                (DIGEST, iso(NOW - timedelta(days=7)), iso(NOW - timedelta(days=7))),
            )
        for query, hits, user in (
            ("feature store", 3, "U1"), ("feature store", 2, "U2"),
            ("quantum baking", 0, "U1"), ("quantum baking", 0, "U2"),
        ):  # fmt: skip
            await record_search(store, query, hits, user_id=user, at=iso(NOW - timedelta(days=1)))
    return path


DIGEST_SETTINGS = {"digest_channel": DIGEST, "admin_user_ids": frozenset({ADMIN})}


async def ask(running, slack_api: SlackApi, text: str, user_id: str, n: int) -> dict:
    body = slash_command(text, user_id=user_id, response_url=slack_api.response_url(f"r{n}"))
    status, _ = await running.send(body)
    assert status == 200
    replies = await slack_api.wait_for("response_url", n)
    return replies[n - 1].args


async def test_anyone_gets_a_private_preview(digest_db: Path, slack_api: SlackApi, frozen) -> None:
    async with running_bot(digest_db, slack_api, clock=frozen, **DIGEST_SETTINGS) as running:
        reply = await ask(running, slack_api, "digest", "U0MEMBER", 1)
    assert reply["response_type"] == "ephemeral"
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Preview, only for you" in shown and f"<#{DIGEST}>" in shown
    assert "Mondays at 09:00 (UTC)" in shown
    assert "DevRel Role for Machine Learning" in shown and "feature store" in shown
    assert "quantum baking" in shown
    assert slack_api.calls_to("chat.postMessage") == []
    async with await Store.open(digest_db) as store:  # a preview records nothing
        assert await get_post(store, "digest", "2026-W49") is None
        assert await store.fetchall("SELECT * FROM archive_quotes") == []


async def test_only_admins_post_now_and_only_once(
    digest_db: Path, slack_api: SlackApi, frozen
) -> None:
    async with running_bot(digest_db, slack_api, clock=frozen, **DIGEST_SETTINGS) as running:
        refused = await ask(running, slack_api, "digest now", "U0MEMBER", 1)
        assert "only the digest's admins" in refused["text"]
        assert slack_api.calls_to("chat.postMessage") == []

        posted = await ask(running, slack_api, "digest now", ADMIN, 2)
        assert "Posted this week's digest (2026-W49)" in posted["text"]
        [call] = slack_api.calls_to("chat.postMessage")
        assert call.args["channel"] == DIGEST and call.answer["ok"]
        assert "DevRel Role for Machine Learning" in json.dumps(call.args["blocks"])

        again = await ask(running, slack_api, "digest now", ADMIN, 3)
        assert "already in" in again["text"]
        help_reply = await ask(running, slack_api, "help", "U0MEMBER", 4)
        assert "digest [now]" in help_reply["text"]
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    async with await Store.open(digest_db) as store:
        record = await get_post(store, "digest", "2026-W49")
        assert record is not None and record.ts == call.answer["ts"]


async def test_a_refused_post_is_explained_to_the_admin(
    digest_db: Path, slack_api: SlackApi, frozen
) -> None:
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "not_in_channel"})
    async with running_bot(digest_db, slack_api, clock=frozen, **DIGEST_SETTINGS) as running:
        reply = await ask(running, slack_api, "digest now", ADMIN, 1)
    assert "couldn't post the digest" in reply["text"] and "/invite" in reply["text"]
    async with await Store.open(digest_db) as store:
        assert await get_post(store, "digest", "2026-W49") is None  # free to try again


# -- while serving -------------------------------------------------------------------------------
# Only a broken bot reaches these; a loaded CI machine must not (they are not timings).
DEADLINE = 30.0


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    what: str,
    *,
    serving: asyncio.Task | None = None,
) -> None:
    """Return once ``condition()`` is true; fail after DEADLINE, or at once if ``serving`` ended."""
    deadline = time.monotonic() + DEADLINE
    while True:
        outcome = condition()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        if serving is not None and serving.done():
            raise AssertionError(f"the instance stopped before {what}: {serving.exception()!r}")
        assert time.monotonic() < deadline, f"waited {DEADLINE:.0f} s for {what}"
        await asyncio.sleep(0.02)


async def run_instance(settings, until, what: str = "what was expected", *, clock) -> None:  # noqa: ANN001
    """Serve until ``until()`` is true (bounded), then stop, like a process being restarted.

    When this returns the instance has stopped, so every call it made is in the stand-in's list.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop, clock=clock))
    try:
        await wait_until(until, what, serving=task)
    finally:
        stop.set()
        await asyncio.wait_for(task, DEADLINE)


def digest_recorded(db: Path, week: str = "2026-W49") -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with await Store.open(db) as store:
            record = await get_post(store, "digest", week)
        return record is not None and record.state == "posted"

    return check


def logged(caplog: pytest.LogCaptureFixture, words: str, count: int = 1):
    return lambda: sum(words in r.getMessage() for r in caplog.records) >= count


async def test_two_instances_started_one_after_the_other_post_once(
    digest_db: Path, slack_api: SlackApi, frozen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="episode_bot.scheduler")
    settings = test_settings(digest_db, slack_api, **DIGEST_SETTINGS)
    # The first instance starts after 09:00: it catches up this week's digest. It is stopped
    # once the post is recorded (Slack having the message is not enough: see the next test).
    await run_instance(
        settings, digest_recorded(digest_db), "the digest to be recorded", clock=frozen
    )
    # A restart an hour later: it looks, finds the week posted, and posts nothing.
    frozen.now = NOW + timedelta(hours=1)
    await run_instance(
        settings,
        logged(caplog, "first round: digest 2026-W49 already"),
        "'already posted'",
        clock=frozen,
    )
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["metadata"]["event_payload"] == {"kind": "digest", "key": "2026-W49"}


async def test_an_instance_stopped_while_posting_records_the_post_before_it_stops(
    digest_db: Path, slack_api: SlackApi, frozen, caplog: pytest.LogCaptureFixture
) -> None:
    """A restart that lands while Slack is taking the digest: the stop lets the post finish and
    be recorded, so the next instance knows it went out (it once posted a second copy)."""
    caplog.set_level(logging.INFO, logger="episode_bot.scheduler")
    settings = test_settings(digest_db, slack_api, **DIGEST_SETTINGS)
    slack_answers = slack_api.hold("chat.postMessage")

    async def claimed() -> bool:
        async with await Store.open(digest_db) as store:
            record = await get_post(store, "digest", "2026-W49")
        return record is not None and record.state == "claimed"

    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, stop=stop, clock=frozen))
    try:
        await wait_until(claimed, "the digest to be claimed", serving=serving)
        stop.set()  # SIGTERM while the post is under way
        await asyncio.wait({serving}, timeout=0.3)
        assert not serving.done(), "stopped without waiting for the post under way"
    finally:
        slack_answers.set()  # Slack answers
        stop.set()
        await asyncio.wait_for(serving, DEADLINE)
    [call] = slack_api.calls_to("chat.postMessage")
    async with await Store.open(digest_db) as store:
        record = await get_post(store, "digest", "2026-W49")
    assert record is not None and record.ts == call.answer["ts"]
    # The next instance, an hour later, finds the week posted.
    frozen.now = NOW + timedelta(hours=1)
    await run_instance(
        settings,
        logged(caplog, "first round: digest 2026-W49 already"),
        "'already posted'",
        clock=frozen,
    )
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_serving_bot_announces_an_episode_another_process_ingested(
    digest_db: Path,
    slack_api: SlackApi,
    frozen,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="episode_bot.scheduler")
    monkeypatch.setattr(bot.scheduler, "POLL_SECONDS", 0.05)
    settings = test_settings(digest_db, slack_api, announce_channel=NEWS)

    async def ingest_while_serving() -> None:
        # Once the first round has run, the bot has set its watermark: what arrives now is new.
        await wait_until(logged(caplog, "first round"), "the bot's first round")
        async with await Store.open(
            digest_db, clock=frozen
        ) as other:  # `python -m bot ingest`, elsewhere
            report = await ingest_paths(other, [PODCAST / f"{e}.md" for e in LATER])
            assert [o.status for o in report.outcomes] == ["added"]

    def announced() -> bool:
        if side.done():
            side.result()  # the ingest's own failure, if it failed
        return side.done() and bool(slack_api.calls_to("chat.postMessage"))

    side = asyncio.create_task(ingest_while_serving())
    try:
        await run_instance(settings, announced, "the announcement", clock=frozen)
    finally:
        side.cancel()  # a no-op once it is done
    # Restarted: the episode is not announced again, and the catalogue never was.
    await run_instance(
        settings, logged(caplog, "first round", 2), "the restart's first round", clock=frozen
    )
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["channel"] == NEWS
    assert call.args["metadata"]["event_payload"] == {"kind": "announcement", "key": LATER[0]}
    assert "New episode" in json.dumps(call.args["blocks"])
