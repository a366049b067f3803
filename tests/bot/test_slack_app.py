"""The Slack app for real: signed HTTP requests in, the Web API stand-in out, the corpus database.

Each test runs bot.app's production wiring on 127.0.0.1 (tests/bot/harness.py) and checks what
Slack would receive: response URL payloads, chat.postMessage calls, and rows in the database.
What the handlers answer is tested in-process in tests/handlers; these check the wiring end to
end: listeners, acks, response URLs, the Web API, retries, request verification.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from handlers.render import Message
from storage.catalogue import get_episode
from tests.bot.harness import running_bot
from tests.slack_api import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    block_actions,
    block_kit_problems,
    event_callback,
    signed_headers,
    slash_command,
)


def everything(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def displayed(args: dict[str, Any]) -> str:
    """Everything Slack renders from a payload: text objects and fallback, not button values."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k != "value"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(args), ensure_ascii=False)


def buttons(args: dict[str, Any]) -> list[dict[str, Any]]:
    return Message(args.get("text", ""), tuple(args.get("blocks", ()))).buttons()


def button(args: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = [b for b in buttons(args) if b["action_id"].startswith(prefix)]
    assert found, f"no {prefix} button in {[b['action_id'] for b in buttons(args)]}"
    return found[0]


async def slash(bot, slack_api, text: str, *, key: str = "r1", **fields: Any) -> dict[str, Any]:
    """Run ``/episodes <text>``; the payload posted to its response URL."""
    before = len(slack_api.calls_to("response_url"))
    url = slack_api.response_url(key)
    status, body = await bot.send(slash_command(text, response_url=url, **fields))
    assert (status, body) == (200, "")
    calls = await slack_api.wait_for("response_url", before + 1)
    return calls[before].args


async def click(bot, slack_api, btn: dict[str, Any], **fields: Any) -> None:
    url = slack_api.response_url("click")
    status, _ = await bot.send(block_actions(btn["action_id"], btn.get("value", ""),
                                             response_url=url, **fields))  # fmt: skip
    assert status == 200


def mention_event(text: str, *, ts: str = "1700000100.000200", **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention", "user": "U0ASKER", "text": text, "ts": ts,
        "channel": "C0GENERAL", "event_ts": ts, **extra,
    }  # fmt: skip


# -- slash command -------------------------------------------------------------------------------
async def test_search_shows_a_private_preview_of_three_quotes(bot, slack_api) -> None:
    args = await slash(bot, slack_api, "argo")
    assert args["response_type"] == "ephemeral"
    assert args["unfurl_links"] is False and args["unfurl_media"] is False
    assert block_kit_problems(args) == []
    shares = [b for b in buttons(args) if b["action_id"].startswith("share")]
    assert len(shares) == 3
    first = json.loads(shares[0]["value"])
    episode = await get_episode(bot.store, first["e"])
    assert episode is not None and first["q"] == "argo" and first["p"] == 0
    text = everything(args)
    assert episode.title.split(":")[0] in text
    assert "Argo" in text and "youtube.com/watch?v=" in text and f"t={int(first['s'])}s" in text
    # the timestamp is the link text, e.g. "▶ 14:15"
    assert f"{int(first['s']) // 60}:{int(first['s']) % 60:02d}" in text
    assert {b["action_id"] for b in buttons(args)} >= {"page_next", "dismiss"}
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    row = await bot.store.fetchone("SELECT * FROM search_log ORDER BY id DESC LIMIT 1")
    assert (row["query"], row["hits"], row["user_id"], row["channel_id"], row["source"]) == (
        "argo",
        3,
        "U0ASKER",
        "C0GENERAL",
        "slash",
    )


async def test_ack_comes_before_the_answer_is_delivered(bot, slack_api) -> None:
    gate = slack_api.hold("response_url")
    url = slack_api.response_url()
    status, body = await asyncio.wait_for(bot.send(slash_command("argo", response_url=url)), 5)
    assert (status, body) == (200, "")  # acknowledged while the answer is still held
    gate.set()
    await slack_api.wait_for("response_url")


async def test_share_posts_the_quote_visibly_and_records_it(bot, slack_api) -> None:
    preview = await slash(bot, slack_api, "argo")
    share = button(preview, "share_hit_1")
    await click(bot, slack_api, share)
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0GENERAL"
    assert "thread_ts" not in post.args or post.args["thread_ts"] is None
    assert post.args["unfurl_links"] is False and block_kit_problems(post.args) == []
    assert "shared by ana" in everything(post.args) and "<@" not in everything(post.args)
    value = json.loads(share["value"])
    assert f"t={int(value['s'])}s" in everything(post.args)
    # the preview is removed once shared
    removed = await slack_api.wait_for("response_url", 2)
    assert removed[-1].args == {"delete_original": True, "key": "click"}
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    row = await bot.store.fetchone("SELECT * FROM shares")
    assert (row["episode_id"], row["user_id"], row["channel_id"], row["query"]) == (
        value["e"],
        "U0ASKER",
        "C0GENERAL",
        "argo",
    )
    assert row["message_ts"] == post.answer["ts"]


async def test_share_where_the_bot_is_not_a_member_uses_the_response_url(bot, slack_api) -> None:
    preview = await slash(bot, slack_api, "argo", channel_id="G0PRIVATE")
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "channel_not_found"})
    await click(bot, slack_api, button(preview, "share_hit_0"), channel_id="G0PRIVATE")
    calls = await slack_api.wait_for("response_url", 3)
    visible = calls[1].args
    assert visible["response_type"] == "in_channel" and visible["replace_original"] is False
    assert "shared by ana" in everything(visible)
    assert calls[2].args.get("delete_original") is True


async def test_share_that_cannot_be_posted_says_so_privately(bot, slack_api) -> None:
    preview = await slash(bot, slack_api, "argo", channel_id="D0SOMEONE")
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "channel_not_found"})
    slack_api.reply("response_url", status=404, json={"ok": False, "error": "channel_not_found"})
    await click(bot, slack_api, button(preview, "share_hit_0"), channel_id="D0SOMEONE")
    calls = await slack_api.wait_for("response_url", 3)
    note = calls[2].args
    assert note["response_type"] == "ephemeral"
    assert "not a member of this conversation" in note["text"]
    assert "youtube.com" in note["text"]  # the link to copy instead
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    assert await bot.store.fetchone("SELECT * FROM shares") is None


async def test_paging_replaces_the_preview(bot, slack_api) -> None:
    first = await slash(bot, slack_api, "kubernetes")
    await click(bot, slack_api, button(first, "page_next"))
    [second] = (await slack_api.wait_for("response_url", 2))[1:]
    assert second.args["replace_original"] is True
    assert "Quotes 4–6" in everything(second.args)
    assert json.loads(button(second.args, "share_hit_0")["value"])["p"] == 1
    await click(bot, slack_api, button(second.args, "page_prev"))
    third = (await slack_api.wait_for("response_url", 3))[2].args
    assert "Quotes 1–3" in everything(third)
    assert [b["value"] for b in buttons(third) if b["action_id"].startswith("share")] == [
        b["value"] for b in buttons(first) if b["action_id"].startswith("share")
    ]
    # paging is not a new search
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    rows = await bot.store.fetchall("SELECT query FROM search_log")
    assert [r["query"] for r in rows] == ["kubernetes"]


async def test_dismiss_deletes_the_preview(bot, slack_api) -> None:
    preview = await slash(bot, slack_api, "argo")
    await click(bot, slack_api, button(preview, "dismiss"))
    calls = await slack_api.wait_for("response_url", 2)
    assert calls[1].args == {"delete_original": True, "key": "click"}


async def test_search_notices_are_shown(bot, slack_api) -> None:
    """What search says about the query (a dropped date, an unknown guest) reaches the member."""
    args = await slash(bot, slack_api, "argo after:yesterday")
    assert "after:yesterday is not a date" in displayed(args)
    args = await slash(bot, slack_api, "argo guest:zzqxv", key="r2")
    assert "No guest matches “zzqxv”" in displayed(args)
    await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo before:someday")))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert "before:someday is not a date" in displayed(post.args)
    help_ = displayed(await slash(bot, slack_api, "help", key="r3"))
    for word in ("guest:", "speaker:", "episode:", "after:", "before:", "-spark", "exact phrase"):
        assert word in help_


async def test_channel_and_user_pings_in_a_query_are_escaped(bot, slack_api) -> None:
    for i, text in enumerate(("<!channel> <@U123> kubernetes & docker", "&lt;!here&gt; argo")):
        args = await slash(bot, slack_api, text, key=f"x{i}")
        shown = displayed(args)
        for ping in ("<!channel>", "<!here>", "<@U123>", "<!everyone>"):
            assert ping not in shown
        assert block_kit_problems(args) == []
    assert "&lt;!here&gt;" in shown or "@here" in shown


# -- mentions and DMs ----------------------------------------------------------------------------
async def test_mention_is_answered_in_its_thread(bot, slack_api) -> None:
    status, _ = await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> what is devrel?")))
    assert status == 200
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0GENERAL"
    assert post.args["thread_ts"] == "1700000100.000200"
    assert post.args["unfurl_links"] is False and block_kit_problems(post.args) == []
    assert "devrel" in everything(post.args).lower()
    # a public answer: links, 👍/👎 and More (only you); no Share (it is shared already)
    assert {b["action_id"].rsplit("_", 1)[0] for b in buttons(post.args)} == {
        "vote_up", "vote_down", "more",
    }  # fmt: skip
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    row = await bot.store.fetchone("SELECT query, source FROM search_log")
    assert (row["query"], row["source"]) == ("what is devrel?", "mention")


async def test_mention_inside_a_thread_answers_in_that_thread(bot, slack_api) -> None:
    event = mention_event(f"<@{BOT_USER_ID}> argo", ts="1700000200.1", thread_ts="1700000000.5")
    await bot.send(event_callback(event, event_id="EvThread"))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000000.5"


async def test_direct_message_is_answered_in_the_dm(bot, slack_api) -> None:
    event = {
        "type": "message", "channel_type": "im", "channel": "D0ASKER", "user": "U0ASKER",
        "text": "feature store", "ts": "1700000300.000100", "event_ts": "1700000300.000100",
    }  # fmt: skip
    await bot.send(event_callback(event, event_id="EvDM"))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["channel"] == "D0ASKER"
    assert not post.args.get("thread_ts")
    assert "feature store" in everything(post.args).lower()
    await bot.deps.activity.flush()  # searches and shares are logged in the background
    row = await bot.store.fetchone("SELECT source FROM search_log")
    assert row["source"] == "dm"


async def test_bot_messages_are_ignored(bot, slack_api) -> None:
    own = {
        "type": "message", "channel_type": "im", "channel": "D0ASKER", "user": BOT_USER_ID,
        "bot_id": BOT_ID, "text": "argo", "ts": "1700000400.1",
    }  # fmt: skip
    other = {**own, "user": "U0OTHERBOT", "bot_id": "B0OTHER", "ts": "1700000400.2"}
    edit = {**own, "user": "U0ASKER", "subtype": "message_changed", "ts": "1700000400.3"}
    edit.pop("bot_id")
    mention_by_bot = mention_event(f"<@{BOT_USER_ID}> argo", bot_id="B0OTHER")
    for i, event in enumerate((own, other, edit, mention_by_bot)):
        status, _ = await bot.send(event_callback(event, event_id=f"EvBot{i}"))
        assert status == 200
    await slack_api.quiet(0.3)
    assert slack_api.calls_to("chat.postMessage") == []


async def test_duplicate_event_is_answered_once_even_after_restart(bot_db, slack_api, bot) -> None:
    body = event_callback(mention_event(f"<@{BOT_USER_ID}> argo"), event_id="EvOnce")
    assert (await bot.send(body))[0] == 200
    await slack_api.wait_for("chat.postMessage")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await bot.send(body, headers=retry))[0] == 200
    async with running_bot(bot_db, slack_api) as restarted:
        assert (await restarted.send(body, headers={**retry, "X-Slack-Retry-Num": "2"}))[0] == 200
        await slack_api.quiet(0.3)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_mention_with_a_ping_is_not_a_search_word(bot, slack_api) -> None:
    await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> <!channel> argo")))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert "<!channel>" not in everything(post.args)
    await bot.deps.activity.flush()  # searches are logged in the background
    row = await bot.store.fetchone("SELECT query FROM search_log")
    assert row["query"] == "argo"


def raw_markup(args: dict[str, Any]) -> list[str]:
    """Every ``<...>`` Slack would read as markup that is not a link, user, channel or command."""
    import re

    text = displayed(args).replace("\\u003c", "<")
    return [m for m in re.findall(r"<([^<>]*)>", text) if not m.startswith(("http", "@", "#", "!"))]


async def test_greeting_shows_placeholders_as_text_not_links(bot, slack_api) -> None:
    await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> hi")))
    [post] = await slack_api.wait_for("chat.postEphemeral")  # the help is for the greeter
    assert raw_markup(post.args) == []
    assert "&lt;words&gt;" in displayed(post.args)


# -- request verification ------------------------------------------------------------------------
async def test_bad_signature_is_refused(bot, slack_api) -> None:
    body = slash_command("argo", response_url=slack_api.response_url())
    status, _ = await bot.send(body, secret="not-the-signing-secret")
    assert status == 401
    # a body changed after signing
    headers = {"Content-Type": body[1], **signed_headers(body[0])}
    tampered = body[0].replace("argo", "argh").encode()
    async with bot.http.post(bot.url + "/slack/events", data=tampered, headers=headers) as resp:
        assert resp.status == 401
    await slack_api.quiet(0.2)
    assert slack_api.calls_to("response_url") == []


async def test_old_timestamp_is_refused(bot, slack_api) -> None:
    body = slash_command("argo", response_url=slack_api.response_url())
    status, _ = await bot.send(body, timestamp=int(time.time()) - 5 * 60 - 10)
    assert status == 401
    status, _ = await bot.send(body, timestamp=int(time.time()) - 60)  # within 5 min: fine
    assert status == 200
    await slack_api.wait_for("response_url")


async def test_url_verification_and_health(bot, slack_api) -> None:
    challenge = (json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}),
                 "application/json")  # fmt: skip
    status, text = await bot.send(challenge)
    assert status == 200 and "c-123" in text
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json()) == {
            "ok": True, "episodes": 200, "database": "ok", "slack": {"mode": "http", "ok": True}
        }  # fmt: skip


# -- Slack in trouble ----------------------------------------------------------------------------
async def test_rate_limited_then_success(bot, slack_api) -> None:
    slack_api.reply("chat.postMessage", status=429, headers={"Retry-After": "1"})
    await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo")))
    calls = await slack_api.wait_for("chat.postMessage", 2, timeout=10)
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0  # Retry-After honoured
    # the response URL retries too
    slack_api.reply("response_url", status=429, headers={"Retry-After": "0"})
    await slash(bot, slack_api, "argo")
    calls = await slack_api.wait_for("response_url", 2, timeout=10)
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].args == calls[1].args and calls[1].args["response_type"] == "ephemeral"


async def test_slack_server_error_gives_a_private_message_and_keeps_serving(
    bot, slack_api, caplog
) -> None:
    slack_api.reply("chat.postMessage", status=500, times=None)
    with caplog.at_level(logging.ERROR, logger="episode_bot"):
        await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo"), event_id="Ev500"))
        [note] = await slack_api.wait_for("chat.postEphemeral", timeout=10)
    assert len(slack_api.calls_to("chat.postMessage")) == 3  # first try and two retries
    assert note.args["user"] == "U0ASKER" and note.args["channel"] == "C0GENERAL"
    assert "Slack didn't accept" in note.args["text"]
    [line] = [r.getMessage() for r in caplog.records if "mention failed" in r.getMessage()]
    assert "user=U0ASKER" in line and "Ev500" in line and "500" in line
    assert "xoxb" not in caplog.text
    # still serving
    slack_api.reset()
    args = await slash(bot, slack_api, "argo")
    assert args["response_type"] == "ephemeral"


async def test_a_locked_database_costs_the_log_line_never_the_answer(
    bot, slack_api, bot_db, caplog
) -> None:
    import sqlite3

    await bot.store.conn.execute("PRAGMA busy_timeout = 50")  # the writer gives up quickly
    blocker = sqlite3.connect(bot_db, isolation_level=None, timeout=30, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than that
    try:
        with caplog.at_level(logging.WARNING, logger="episode_bot"):
            args = await slash(bot, slack_api, "argo")
            for _ in range(100):  # the background writer retries, then drops the line
                if bot.deps.activity.dropped:
                    break
                await asyncio.sleep(0.05)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert "Quotes 1–3" in everything(args)  # the answer came, from the readers
    assert bot.deps.activity.dropped == 1
    [warning] = [r for r in caplog.records if "activity log" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "not recorded" in warning.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    args = await slash(bot, slack_api, "kubernetes", key="again")
    await bot.deps.activity.flush()
    rows = await bot.store.fetchall("SELECT query FROM search_log")
    assert [r["query"] for r in rows] == ["kubernetes"]


async def test_a_mention_waits_out_a_short_lock_and_gets_a_polite_word_for_a_long_one(
    bot, slack_api, bot_db
) -> None:
    import sqlite3

    await bot.store.conn.execute("PRAGMA busy_timeout = 50")
    blocker = sqlite3.connect(bot_db, isolation_level=None, timeout=30, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")
    # Released while the claim is still retrying: the mention is answered as usual.
    asyncio.get_running_loop().call_later(0.2, blocker.execute, "ROLLBACK")
    await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo"), event_id="EvShort"))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert "argo" in everything(post.args).lower()
    assert await bot.store.fetchone("SELECT 1 FROM events_seen WHERE event_id = 'EvShort'")
    # Held for longer than every retry: a private "busy", never "database is locked".
    # (Taken off the event loop: the bot's own background log write may be mid-transaction,
    # and its COMMIT needs the loop.)
    await asyncio.to_thread(blocker.execute, "BEGIN EXCLUSIVE")
    try:
        await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo"), event_id="EvLong"))
        [note] = await slack_api.wait_for("chat.postEphemeral", timeout=10)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert note.args["text"].startswith(":hourglass: The episode database is busy")
    assert "locked" not in everything(note.args)
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # not answered without the claim


async def test_health_is_503_when_the_database_is_unreadable(bot, slack_api) -> None:
    await bot.store.close()
    async with aiohttp.ClientSession() as http:
        async with http.get(bot.url + "/healthz") as resp:
            assert resp.status == 503


async def test_tokens_never_reach_the_logs(bot, slack_api, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        preview = await slash(bot, slack_api, "argo")
        await click(bot, slack_api, button(preview, "share_hit_0"))
        await bot.send(event_callback(mention_event(f"<@{BOT_USER_ID}> argo"), event_id="EvLog"))
        await slack_api.wait_for("chat.postMessage", 2)
    assert caplog.records  # the libraries did log, at DEBUG
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


async def test_health_is_503_with_a_reason_when_the_database_cannot_be_written(
    bot, slack_api, bot_db, caplog
) -> None:
    stored = await bot.store.fetchall("SELECT id FROM episodes")
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["episodes"] == len(stored) > 0
    await bot.store.conn.execute("PRAGMA query_only = ON")  # as on a read-only file system
    with caplog.at_level(logging.WARNING, logger="episode_bot"):
        for _ in range(2):
            async with bot.http.get(bot.url + "/healthz") as resp:
                assert resp.status == 503
                body = await resp.json()
    assert body["ok"] is False and "not writable" in body["error"] and "\n" not in body["error"]
    assert str(bot_db) not in body["error"]  # the path is for the log, not for the prober
    [line] = [r.getMessage() for r in caplog.records if "health check" in r.getMessage()]
    assert str(bot_db) in line  # one line for the change, not one per probe
    await bot.store.conn.execute("PRAGMA query_only = OFF")
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 200


async def test_health_is_503_when_the_file_is_gone(bot, slack_api, bot_db) -> None:
    bot_db.rename(bot_db.with_suffix(".moved"))  # an operator's mistake, or a lost volume
    async with bot.http.get(bot.url + "/healthz") as resp:
        assert resp.status == 503
        assert "not readable" in (await resp.json())["error"]
