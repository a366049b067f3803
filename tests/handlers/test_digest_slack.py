"""``/episodes digest`` through the real app, and the digest and announcements while serving.

Signed requests go to bot.app's production wiring on 127.0.0.1; what Slack would receive is read
from the local Web API stand-in. Time is injected by replacing bot.scheduler.utc_now.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.scheduler
from bot.app import serve
from storage import Store, ingest_paths
from storage.activity import record_search
from storage.digest import get_post, iso
from tests.bot.harness import running_bot, test_settings
from tests.conftest import PODCAST
from tests.slack_api import SlackApi, slash_command

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # Monday, half an hour after the schedule
DIGEST = "C0DIGEST"
NEWS = "C0NEWS"
ADMIN = "U0ADMIN"
ARRIVED = ("devrel-open-source-machine-learning", "crisp-dm")
LATER = ("lean-mlops-for-startups",)  # ingested while the bot serves


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch):
    """The scheduler's clock, settable by the test."""
    clock = {"now": NOW}
    monkeypatch.setattr(bot.scheduler, "utc_now", lambda: clock["now"])
    return clock


@pytest.fixture
async def digest_db(corpus_db: Path, tmp_path: Path) -> Path:
    """The corpus as it stood on NOW: the back catalogue since January, two episodes new this
    week, one (LATER) not ingested yet, a few searches, last week's digest posted."""
    path = tmp_path / "bot.db"
    shutil.copy(corpus_db, path)
    async with await Store.open(path) as store:
        async with store.transaction() as conn:
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = '2026-01-05T10:00:00+00:00'"
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
                "INSERT INTO posts(kind, key, channel, ts, posted_at) VALUES"
                " ('digest', '2026-W48', ?, '1700000000.000100', ?)",
                (DIGEST, iso(NOW - timedelta(days=7))),
            )
        for query, hits in (("feature store", 3), ("feature store", 2), ("quantum baking", 0)):
            await record_search(store, query, hits, at=iso(NOW - timedelta(days=1)))
    return path


DIGEST_SETTINGS = {"digest_channel": DIGEST, "admin_user_ids": frozenset({ADMIN})}


async def ask(running, slack_api: SlackApi, text: str, user_id: str, n: int) -> dict:
    body = slash_command(text, user_id=user_id, response_url=slack_api.response_url(f"r{n}"))
    status, _ = await running.send(body)
    assert status == 200
    replies = await slack_api.wait_for("response_url", n)
    return replies[n - 1].args


async def test_anyone_gets_a_private_preview(digest_db: Path, slack_api: SlackApi, frozen) -> None:
    async with running_bot(digest_db, slack_api, **DIGEST_SETTINGS) as running:
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
    async with running_bot(digest_db, slack_api, **DIGEST_SETTINGS) as running:
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
    async with running_bot(digest_db, slack_api, **DIGEST_SETTINGS) as running:
        reply = await ask(running, slack_api, "digest now", ADMIN, 1)
    assert "couldn't post the digest" in reply["text"] and "/invite" in reply["text"]
    async with await Store.open(digest_db) as store:
        assert await get_post(store, "digest", "2026-W49") is None  # free to try again


# -- while serving -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_instance(settings, until) -> None:  # noqa: ANN001
    """Serve until ``until()`` is true (bounded), then stop, like a process being restarted."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop))
    deadline = time.monotonic() + 10
    try:
        while not until():
            assert time.monotonic() < deadline, "the instance never did what was expected"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def logged(caplog: pytest.LogCaptureFixture, words: str, count: int = 1):
    return lambda: sum(words in r.getMessage() for r in caplog.records) >= count


async def test_two_instances_started_one_after_the_other_post_once(
    digest_db: Path, slack_api: SlackApi, frozen, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="episode_bot.scheduler")
    settings = test_settings(digest_db, slack_api, port=free_port(), **DIGEST_SETTINGS)
    # The first instance starts after 09:00: it catches up this week's digest.
    await run_instance(settings, lambda: bool(slack_api.calls_to("chat.postMessage")))
    # A restart an hour later: it looks, finds the week posted, and posts nothing.
    frozen["now"] = NOW + timedelta(hours=1)
    await run_instance(settings, logged(caplog, "first round: digest 2026-W49 already"))
    await slack_api.quiet()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["metadata"]["event_payload"] == {"kind": "digest", "key": "2026-W49"}


async def test_serving_bot_announces_an_episode_another_process_ingested(
    digest_db: Path,
    slack_api: SlackApi,
    frozen,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="episode_bot.scheduler")
    monkeypatch.setattr(bot.scheduler, "POLL_SECONDS", 0.05)
    settings = test_settings(digest_db, slack_api, port=free_port(), announce_channel=NEWS)

    async def ingest_while_serving() -> None:
        await asyncio.sleep(0.3)  # the bot is up and has set its watermark
        async with await Store.open(digest_db) as other:  # `python -m bot ingest`, elsewhere
            report = await ingest_paths(other, [PODCAST / f"{e}.md" for e in LATER])
            assert [o.status for o in report.outcomes] == ["added"]

    side = asyncio.create_task(ingest_while_serving())
    await run_instance(settings, lambda: bool(slack_api.calls_to("chat.postMessage")))
    await side
    # Restarted: the episode is not announced again, and the catalogue never was.
    await run_instance(settings, logged(caplog, "first round", 2))
    await slack_api.quiet()
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["channel"] == NEWS
    assert call.args["metadata"]["event_payload"] == {"kind": "announcement", "key": LATER[0]}
    assert "New episode" in json.dumps(call.args["blocks"])
