"""Mentions and DMs in-process: the question, the public answer, the greeting."""

from __future__ import annotations

from dataclasses import replace

from handlers.context import Ask, Source
from handlers.mentions import answer_question, question_text
from tests.handlers.conftest import RecordingOutbox
from tests.handlers.test_commands import buttons, shown


def test_question_text_drops_every_mention_channel_and_link() -> None:
    assert question_text("<@U0BOT> what is <b>devrel</b>?", "U0BOT") == "what is <b>devrel</b>?"
    assert question_text("argo <@U0BOT> workflows", "U0BOT") == "argo workflows"
    assert question_text("  <@W0123ABCDE> argo", None) == "argo"
    # other people, channels, user groups, @here and links are not search words
    text = (
        "<@U0BOT> <@U02ABCDEF> <@U03XYZ|ana> what is devrel? <#C0GENERAL|general> "
        "<!subteam^S0TEAM|@data-team> <!here> see <https://example.com/devrel|this post> &amp; more"
    )
    assert question_text(text, "U0BOT") == "what is devrel? see & more"


async def test_a_mention_is_answered_publicly_in_its_thread(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    ask = replace(ask, source=Source.MENTION)
    await answer_question(ask, "what is devrel?", thread_ts="1700000100.000200")
    sent = outbox.only()
    assert (sent.kind, sent.channel, sent.thread_ts) == ("post", "C0GENERAL", "1700000100.000200")
    assert "devrel" in shown(sent.message).lower()
    # a public answer: links, 👍/👎 per quote (labelled for screen readers), More (only you)
    ids = [b["action_id"] for b in buttons(sent.message)]
    assert ids == ["vote_up_0", "vote_down_0", "vote_up_1", "vote_down_1", "vote_up_2",
                   "vote_down_2", "more_private"]  # fmt: skip
    labels = [b["accessibility_label"] for b in buttons(sent.message)]
    assert len(set(labels)) == len(labels) and labels[0].startswith("Useful: quote 1, ")
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    row = await ask.store.fetchone("SELECT query, source FROM search_log")
    assert (row["query"], row["source"]) == ("what is devrel?", "mention")


async def test_a_greeting_explains_itself(ask: Ask, outbox: RecordingOutbox) -> None:
    await answer_question(replace(ask, source=Source.DM), "hi!", thread_ts=None)
    sent = outbox.only()
    assert sent.kind == "post" and "Ask me about anything said on the show" in sent.message.text
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    assert await ask.store.fetchone("SELECT * FROM search_log") is None
