"""@mentions and direct messages: the best quotes, answered in the thread (or the DM).

Slack retries an event it thinks went unanswered, and a restart must not answer twice, so each
``event_id`` is claimed in the database first (storage.activity.claim_event). Messages from bots,
this one included, are ignored.
"""

from __future__ import annotations

import logging
import re

from handlers.commands import PER_PAGE, clean_query
from handlers.context import Ask, Deps, Source, guarded, slack_ask
from handlers.render import render_answer, render_notice
from handlers.slack_ids import MENTION
from storage.activity import claim_event
from storage.search import search

log = logging.getLogger("episode_bot.handlers")

_GREETINGS = {"", "help", "hi", "hello", "hey", "?"}
_LEADING_MENTION = re.compile(rf"^\s*{MENTION.pattern}")


def question_text(text: str, bot_user_id: str | None) -> str:
    """The question in a mention: the bot's own ``<@U…>`` removed wherever it is."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    else:
        text = _LEADING_MENTION.sub(" ", text)
    return clean_query(text)


async def answer_question(ask: Ask, question: str, *, thread_ts: str | None) -> None:
    """Search ``question`` and post the best quotes visibly, in ``thread_ts`` when given.

    Example:
        >>> await answer_question(ask, "what is devrel?", thread_ts="17.1")  # doctest: +SKIP
    """
    assert ask.channel_id, "a mention always has a channel"
    if question.lower().strip(" !.") in _GREETINGS:
        message = render_notice(
            "Ask me about anything said on the show, for example "
            "*what is devrel?* or *argo workflows*, and I'll answer with quotes and links to "
            f"the second they were said. For a private preview, use `{ask.command} &lt;words&gt;`."
        )
        await ask.outbox.post(ask.channel_id, message, thread_ts=thread_ts)
        return
    result = await search(ask.store, question, limit=PER_PAGE)
    ask.deps.activity.search(
        question, len(result.hits), user_id=ask.user_id, channel_id=ask.channel_id,
        source=ask.source,
    )  # fmt: skip
    message = render_answer(result, command=ask.command)
    await ask.outbox.post(ask.channel_id, message, thread_ts=thread_ts)


def _from_a_bot(event: dict, bot_user_id: str | None) -> bool:
    return bool(
        event.get("bot_id")
        or event.get("subtype") == "bot_message"
        or (bot_user_id and event.get("user") == bot_user_id)
    )


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Listen for app_mention (channels) and message events in DMs (message.im)."""

    async def handle(body: dict, event: dict, context, client, source: Source) -> None:  # noqa: ANN001
        bot_user_id = context.get("bot_user_id")
        if _from_a_bot(event, bot_user_id):
            return
        ask = slack_ask(
            deps, client, user_id=event.get("user"), channel_id=event.get("channel"), source=source
        )
        event_id = body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"
        thread_ts = event.get("thread_ts") or (
            event.get("ts") if source is Source.MENTION else None
        )
        question = question_text(event.get("text") or "", bot_user_id)

        async def work() -> None:
            if not await claim_event(deps.store, event_id):
                log.info("event %s already answered (a retry); skipped", event_id)
                return
            await answer_question(ask, question, thread_ts=thread_ts)

        await guarded(ask, source, work, event_id=event_id, text=question[:200])

    @app.event("app_mention")
    async def on_mention(body, event, context, client) -> None:  # noqa: ANN001
        await handle(body, event, context, client, Source.MENTION)

    @app.event("message")
    async def on_message(body, event, context, client) -> None:  # noqa: ANN001
        # Only plain messages in a DM with the bot; edits, joins and the like have a subtype.
        if event.get("channel_type") != "im" or event.get("subtype"):
            return
        await handle(body, event, context, client, Source.DM)
