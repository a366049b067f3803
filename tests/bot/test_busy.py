"""Back-pressure end to end: past MAX_IN_FLIGHT and a short queue, a prompt private "busy".

The real app on 127.0.0.1 with a deliberately slowed search; many signed slash commands at once;
every one gets an answer or the busy notice (in the ack itself, or on its response URL), and the
work in flight never exceeds the bound. Mentions and buttons are refused the same way.
"""

from __future__ import annotations

import asyncio
import json

import pytest

import handlers.commands
from handlers.overload import BUSY_TEXT, Capacity
from tests.bot.harness import running_bot
from tests.slack_api import BOT_USER_ID, block_actions, event_callback, slash_command

BUSY_WORDS = "I'm answering a lot of questions right now"
assert BUSY_WORDS in BUSY_TEXT


class SlowSearch:
    """storage.search.search, 0.3 s slower, counting how many run at once."""

    def __init__(self, real, delay: float = 0.3):
        self.real, self.delay = real, delay
        self.running = self.peak = self.calls = 0

    async def __call__(self, *args, **kwargs):
        self.running += 1
        self.calls += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.delay)
            return await self.real(*args, **kwargs)
        finally:
            self.running -= 1


@pytest.fixture
def slow_search(monkeypatch: pytest.MonkeyPatch) -> SlowSearch:
    slow = SlowSearch(handlers.commands.search)
    monkeypatch.setattr(handlers.commands, "search", slow)
    return slow


async def test_a_burst_gets_answers_or_busy_notices_within_the_bound(
    bot_db, slack_api, slow_search
) -> None:
    capacity = Capacity(2, max_waiting=3, max_wait=5.0)
    n = 30
    async with running_bot(bot_db, slack_api, capacity=capacity) as bot:

        async def one(i: int) -> tuple[int, str]:
            body = slash_command(f"argo {i}", response_url=slack_api.response_url(f"k{i}"))
            return await asyncio.wait_for(bot.send(body), 3)  # Slack's ack deadline

        acks = await asyncio.gather(*(one(i) for i in range(n)))
        busy_in_ack = {i for i, (_, text) in enumerate(acks) if BUSY_WORDS in text}
        queued = n - len(busy_in_ack)
        calls = await slack_api.wait_for("response_url", queued, timeout=10)
        await slack_api.quiet(0.3)
    assert all(status == 200 for status, _ in acks)
    for i in busy_in_ack:
        ack = json.loads(acks[i][1])
        assert ack["response_type"] == "ephemeral" and BUSY_WORDS in ack["text"]
    by_key: dict[str, list[str]] = {}
    for call in slack_api.calls_to("response_url"):
        by_key.setdefault(call.args["key"], []).append(call.args["text"])
    assert len(calls) == queued and all(len(texts) == 1 for texts in by_key.values())
    assert set(by_key) == {f"k{i}" for i in range(n) if i not in busy_in_ack}
    answered = [k for k, [text] in by_key.items() if "Quotes" in text or "Nothing" in text]
    busy_later = [k for k, [text] in by_key.items() if BUSY_WORDS in text]
    assert len(answered) + len(busy_later) == queued  # nothing else: no error, no silence
    # the two slots and the three that waited at least (more if some finished while the burst
    # was still arriving), and the rest told at once
    assert len(answered) >= 2 + 3 and len(busy_in_ack) >= 1
    assert slow_search.peak == capacity.peak_in_flight == 2
    assert capacity.in_flight == capacity.waiting == 0


async def test_a_request_that_waits_too_long_is_told_busy_not_answered_late(
    bot_db, slack_api
) -> None:
    capacity = Capacity(1, max_waiting=4, max_wait=0.2)
    async with running_bot(bot_db, slack_api, capacity=capacity) as bot:
        async with capacity.slot():  # someone else's long request
            body = slash_command("argo", response_url=slack_api.response_url("late"))
            status, text = await bot.send(body)
            assert (status, text) == (200, "")  # room to wait: an empty ack, as usual
            [note] = await slack_api.wait_for("response_url", timeout=3)
        assert note.args["response_type"] == "ephemeral" and BUSY_WORDS in note.args["text"]
        # once the slot is free, the same request is answered
        await bot.send(slash_command("argo", response_url=slack_api.response_url("again")))
        calls = await slack_api.wait_for("response_url", 2)
    assert "Quotes 1–3" in calls[1].args["text"]


async def test_mentions_and_buttons_are_told_busy_privately(bot_db, slack_api) -> None:
    capacity = Capacity(1, max_waiting=0)
    async with running_bot(bot_db, slack_api, capacity=capacity) as bot:
        async with capacity.slot():
            event = {
                "type": "app_mention", "user": "U0ASKER", "channel": "C0GENERAL",
                "text": f"<@{BOT_USER_ID}> argo", "ts": "1700000100.000200",
            }  # fmt: skip
            assert (await bot.send(event_callback(event, event_id="EvBusy")))[0] == 200
            [note] = await slack_api.wait_for("chat.postEphemeral")
            click = block_actions(
                "page_next", json.dumps({"q": "argo", "p": 0}),
                response_url=slack_api.response_url("click"),
            )  # fmt: skip
            assert (await bot.send(click))[0] == 200
            [pressed] = await slack_api.wait_for("response_url")
        assert (note.args["user"], note.args["channel"]) == ("U0ASKER", "C0GENERAL")
        assert BUSY_WORDS in note.args["text"]
        assert pressed.args["response_type"] == "ephemeral" and BUSY_WORDS in pressed.args["text"]
        assert pressed.args["replace_original"] is False  # the preview stays
        assert slack_api.calls_to("chat.postMessage") == []
        # the event was not claimed: Slack's retry of it is answered once there is room
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert (await bot.send(event_callback(event, event_id="EvBusy"), headers=retry))[0] == 200
        [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000100.000200"
