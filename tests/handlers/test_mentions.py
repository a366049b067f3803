"""Mentions and DMs in-process: the question, the public answer, the greeting."""

from __future__ import annotations

from dataclasses import replace

from handlers.context import Ask, Source
from handlers.mentions import answer_question, question_text
from tests.handlers.conftest import RecordingOutbox
from tests.handlers.test_commands import buttons, shown


def test_question_text_drops_the_bots_mention() -> None:
    assert question_text("<@U0BOT> what is <b>devrel</b>?", "U0BOT") == "what is <b>devrel</b>?"
    assert question_text("argo <@U0BOT> workflows", "U0BOT") == "argo workflows"
    # Bolt did not say who the bot is: a leading mention is taken to be it
    assert question_text("  <@W0123ABCDE> argo", None) == "argo"
    assert question_text("argo <@U0OTHER>", None) == "argo @U0OTHER"


async def test_a_mention_is_answered_publicly_in_its_thread(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    ask = replace(ask, source=Source.MENTION)
    await answer_question(ask, "what is devrel?", thread_ts="1700000100.000200")
    sent = outbox.only()
    assert (sent.kind, sent.channel, sent.thread_ts) == ("post", "C0GENERAL", "1700000100.000200")
    assert "devrel" in shown(sent.message).lower()
    assert buttons(sent.message) == []  # a public answer: links, no private buttons
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    row = await ask.store.fetchone("SELECT query, source FROM search_log")
    assert (row["query"], row["source"]) == ("what is devrel?", "mention")


async def test_a_greeting_explains_itself(ask: Ask, outbox: RecordingOutbox) -> None:
    await answer_question(replace(ask, source=Source.DM), "hi!", thread_ts=None)
    sent = outbox.only()
    assert sent.kind == "post" and "Ask me about anything said on the show" in sent.message.text
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    assert await ask.store.fetchone("SELECT * FROM search_log") is None
