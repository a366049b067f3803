"""Conversations as members have them, end to end: signed requests shaped like Slack's (mentions
with rich_text blocks, the message shortcut, clicks in threads), what reaches the Web API."""

from __future__ import annotations

import json
from typing import Any

from tests.bot.test_slack_app import button, buttons, displayed
from tests.slack_api import BOT_USER_ID, block_actions, event_callback, message_action, rich_text

THREAD = "1700000050.000100"  # a question someone asked; the thread under it


def mention(text: str, blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention", "user": "U0ASKER", "text": text, "blocks": blocks,
        "ts": "1700000100.000200", "channel": "C0GENERAL", "event_ts": "1700000100.000200",
        "client_msg_id": "m-1", "team": "T0TEST", **extra,
    }  # fmt: skip


async def test_a_mention_tagging_a_colleague_answers_the_question_in_the_thread(
    bot, slack_api
) -> None:
    text = f"<@{BOT_USER_ID}> <@U02ABCDEF> what is devrel? <#C0RANDOM|random>"
    blocks = rich_text(
        {"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " "},
        {"type": "user", "user_id": "U02ABCDEF"}, {"type": "text", "text": " what is devrel? "},
        {"type": "channel", "channel_id": "C0RANDOM"},
    )  # fmt: skip
    await bot.send(event_callback(mention(text, blocks), event_id="EvMention1"))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000100.000200" and post.args["channel"] == "C0GENERAL"
    shown = displayed(post.args)
    assert "couldn't find" not in shown and "U02ABCDEF" not in shown and "random" not in shown
    assert "DevRel" in shown
    await bot.deps.activity.flush()  # searches are logged in the background
    row = await bot.store.fetchone("SELECT query, hits FROM search_log")
    assert (row["query"], row["hits"]) == ("what is devrel?", 3)
    # 👍/👎 per quote, each labelled for screen readers, and More (only you)
    labels = [b.get("accessibility_label") for b in buttons(post.args)]
    assert all(labels) and len(set(labels)) == len(labels)
    assert button(post.args, "more_private")["text"]["text"] == "More (only you)"


async def test_what_can_you_do_gets_the_help_privately(bot, slack_api) -> None:
    text = f"<@{BOT_USER_ID}> what can you do?"
    blocks = rich_text(
        {"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " what can you do?"}
    )
    await bot.send(event_callback(mention(text, blocks), event_id="EvHelp"))
    [note] = await slack_api.wait_for("chat.postEphemeral")
    assert note.args["user"] == "U0ASKER" and "Find episodes about this" in note.args["text"]
    assert "thread_ts" not in note.args  # not in a thread: Slack would hide it there
    await slack_api.quiet()
    assert slack_api.calls_to("chat.postMessage") == []


async def test_a_bare_mention_in_a_thread_answers_the_first_message(bot, slack_api) -> None:
    slack_api.reply(
        "conversations.replies",
        json={"ok": True, "messages": [
            {"type": "message", "user": "U0NEWBIE", "ts": THREAD,
             "text": "Hi all! <@U0MOD> how do I get into devrel?", "thread_ts": THREAD},
        ], "has_more": True},
    )  # fmt: skip
    blocks = rich_text({"type": "user", "user_id": BOT_USER_ID})
    event = mention(f"<@{BOT_USER_ID}>", blocks, thread_ts=THREAD, user="U0MOD")
    await bot.send(event_callback(event, event_id="EvBare"))
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == THREAD
    [read] = slack_api.calls_to("conversations.replies")
    assert (read.args["channel"], read.args["ts"]) == ("C0GENERAL", THREAD)
    await bot.deps.activity.flush()  # searches are logged in the background
    row = await bot.store.fetchone("SELECT query FROM search_log")
    assert row["query"] == "Hi all! how do I get into devrel?"


async def test_a_bare_mention_without_history_scope_hints_privately(bot, slack_api) -> None:
    slack_api.reply(
        "conversations.replies", json={"ok": False, "error": "missing_scope"}, status=200
    )
    event = mention(f"<@{BOT_USER_ID}>", rich_text(), thread_ts=THREAD, user="U0MOD")
    await bot.send(event_callback(event, event_id="EvBareNoScope"))
    [note] = await slack_api.wait_for("chat.postEphemeral")
    assert note.args["user"] == "U0MOD" and note.args["thread_ts"] == THREAD
    assert "Find episodes about this" in note.args["text"]
    await slack_api.quiet()
    assert slack_api.calls_to("chat.postMessage") == []  # never a public "couldn't find"


async def test_shortcut_preview_then_share_into_that_messages_thread(bot, slack_api) -> None:
    """message_action on a reply in a thread: a private preview; Share (clicked on it, so
    container.thread_ts is set) posts in that thread, with no ping and labelled buttons."""
    message = {
        "user": "U0NEWBIE", "ts": "1700000060.000100", "thread_ts": THREAD,
        "text": "anyone know about <https://argoproj.github.io|argo> scheduler?",
        "blocks": rich_text(
            {"type": "text", "text": "anyone know about "},
            {"type": "link", "url": "https://argoproj.github.io", "text": "argo"},
            {"type": "text", "text": " argo scheduler?"},
        ),
    }  # fmt: skip
    status, _ = await bot.send(
        message_action(message, response_url=slack_api.response_url("shortcut"))
    )
    assert status == 200
    [preview] = await slack_api.wait_for("response_url")
    assert preview.args["key"] == "shortcut" and preview.args["response_type"] == "ephemeral"
    shares = [b for b in buttons(preview.args) if b["action_id"].startswith("share_hit")]
    assert len(shares) == 3
    assert [b["accessibility_label"] for b in shares][0].startswith("Share quote 1: ")
    assert len({b["accessibility_label"] for b in shares}) == 3
    assert json.loads(shares[0]["value"])["t"] == THREAD
    url = slack_api.response_url("click")
    await bot.send(
        block_actions(shares[0]["action_id"], shares[0]["value"], response_url=url,
                      thread_ts=THREAD, message_ts="1700000070.000100")
    )  # fmt: skip
    [post] = await slack_api.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == THREAD
    assert "shared by ana" in displayed(post.args) and "<@" not in json.dumps(post.args)
    [who] = slack_api.calls_to("users.info")
    assert who.args["user"] == "U0ASKER"
    rows = await bot.store.fetchall("SELECT source, query FROM search_log")
    assert [(r["source"], r["query"]) for r in rows] == [
        ("shortcut", "anyone know about argo scheduler?")
    ]


async def test_a_refused_response_url_is_not_recorded_as_a_share(bot, slack_api) -> None:
    """chat.postMessage refused (not in channel), then the response URL answers 200 with
    {"ok": false}: the share is not recorded, the preview stays, the member is told why."""
    value = json.dumps({"e": "devrel-open-source-machine-learning", "s": 860, "q": "argo",
                        "p": 0, "i": 0})  # fmt: skip
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "not_in_channel"})
    slack_api.reply("response_url", json={"ok": False, "error": "channel_not_found"})
    await bot.send(block_actions("share_hit_0", value, response_url=slack_api.response_url()))
    replies = await slack_api.wait_for("response_url", 2)
    assert "not a member of this conversation" in replies[1].args["text"]
    await slack_api.quiet()
    assert not [c for c in slack_api.calls_to("response_url") if c.args.get("delete_original")]
    assert await bot.store.fetchone("SELECT * FROM shares") is None


async def test_votes_count_once_per_person(bot, slack_api) -> None:
    text = f"<@{BOT_USER_ID}> argo scheduler"
    blocks = rich_text(
        {"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " argo scheduler"}
    )
    await bot.send(event_callback(mention(text, blocks), event_id="EvVote"))
    [answer] = await slack_api.wait_for("chat.postMessage")
    up = button(answer.args, "vote_up_0")
    down = button(answer.args, "vote_down_0")
    public = {"ts": "1700000200.000100", "thread_ts": "1700000100.000200", "text": "x"}
    for user, btn in [("U0ASKER", up), ("U0ASKER", up), ("U0OTHER", up), ("U0ASKER", down)]:
        await bot.send(
            block_actions(btn["action_id"], btn["value"], user_id=user, ephemeral=False,
                          message=public, message_ts=public["ts"],
                          response_url=slack_api.response_url(f"v-{user}"))
        )  # fmt: skip
    thanks = await slack_api.wait_for("response_url", 4)
    assert [t.args["response_type"] for t in thanks] == ["ephemeral"] * 4
    said = [t.args["text"] for t in thanks]
    assert sum("already voted" in s for s in said) == 1 and sum("Changed" in s for s in said) == 1
    rows = await bot.store.fetchall("SELECT user_id, vote, query, passage FROM feedback_votes")
    assert sorted((r["user_id"], r["vote"]) for r in rows) == [("U0ASKER", -1), ("U0OTHER", 1)]
    assert {r["query"] for r in rows} == {"argo scheduler"}
    assert all("Argo" in r["passage"] or "argo" in r["passage"] for r in rows)


async def test_more_only_you_opens_a_private_preview(bot, slack_api) -> None:
    text = f"<@{BOT_USER_ID}> kubernetes"
    blocks = rich_text(
        {"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " kubernetes"}
    )
    await bot.send(event_callback(mention(text, blocks), event_id="EvMore"))
    [answer] = await slack_api.wait_for("chat.postMessage")
    more = button(answer.args, "more_private")
    public = {"ts": "1700000300.000100", "thread_ts": "1700000100.000200", "text": "x"}
    url = slack_api.response_url()
    await bot.send(
        block_actions(more["action_id"], more["value"], user_id="U0OTHER", ephemeral=False,
                      message=public, message_ts=public["ts"], response_url=url)
    )  # fmt: skip
    [preview] = await slack_api.wait_for("response_url")
    assert preview.args["response_type"] == "ephemeral" and not preview.args["replace_original"]
    assert "Quotes 4–6 for *kubernetes*" in displayed(preview.args)
    share = button(preview.args, "share_hit")
    assert json.loads(share["value"])["t"] == "1700000100.000200"  # shares into that thread
