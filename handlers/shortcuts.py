"""The message shortcut "Find episodes about this", and (optional) answering a reaction.

The shortcut (``callback_id: find_episodes``, manifest.yml) works on any message the person can
see: the bot reads the words of that message from the payload (no history scope needed) and
shows the person a private preview, exactly as ``/episodes <words>`` does; Share posts into that
message's thread. Where Slack won't take the preview, a small modal says so instead.

With REACTION_EMOJI set, that reaction on a message makes the bot answer it in its thread, once
per message (needs ``reactions:read`` and the history scopes, README "In Slack").
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.commands import search_words
from handlers.context import Ask, CannotRead, DeliveryError, Deps, Source, guarded, slack_ask
from handlers.mentions import about_me, answer_question, message_words, question_text
from handlers.render import render_notice
from storage.activity import claim_event

log = logging.getLogger("episode_bot.handlers")

FIND_EPISODES = "find_episodes"  # the message shortcut's callback_id, as in manifest.yml

NO_WORDS = (
    "That message has no words I can search (only mentions, links, emoji or files). "
    "Try `{command} <words>` with what you're looking for."
)
CANNOT_REACH = (
    "I can't show you results in this conversation: I'm not part of it, so Slack won't let me "
    "answer there. Try `{command} {words}` in a channel I'm in, or in a direct message to me."
)


async def find_about(ask: Ask, words: str) -> None:
    """The shortcut on a message whose words are ``words``: a private preview, as the slash
    command gives (a guest's name lists their episodes)."""
    if not words:
        await ask.outbox.private(render_notice(NO_WORDS.format(command=ask.command)))
        return
    await search_words(ask, words)


async def answer_reaction(ask: Ask, channel: str, ts: str) -> None:
    """A member reacted with REACTION_EMOJI: answer that message in its thread, publicly."""
    try:
        text = await ask.outbox.read_message(channel, ts)
    except CannotRead as exc:
        log.warning(
            "reaction on %s in %s: cannot read the message (%s); REACTION_EMOJI needs the "
            "history scopes (README)", ts, channel, exc.reason,
        )  # fmt: skip
        return
    question = question_text(text)
    if question and not about_me(question):
        await answer_question(ask, question, thread_ts=ask.thread_ts or ts)


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Listen for the message shortcut, and for reactions when REACTION_EMOJI is set."""

    @app.shortcut(FIND_EPISODES)
    async def on_find_episodes(ack, body, client) -> None:  # noqa: ANN001
        await ack()  # within 3 s; the preview goes to the response URL
        message: dict[str, Any] = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        thread_ts = message.get("thread_ts") or message.get("ts")
        ask = slack_ask(
            deps, client,
            user_id=(body.get("user") or {}).get("id"), channel_id=channel,
            response_url=body.get("response_url"), thread_ts=thread_ts,
            # A direct message's words stay out of the digest's topics, as DM questions do.
            source=Source.DM if str(channel).startswith("D") else Source.SHORTCUT,
        )  # fmt: skip
        words = message_words(message)

        async def work() -> None:
            try:
                await find_about(ask, words)
            except DeliveryError as exc:
                # A DM between other people, a conversation the app can't reach: say so in a
                # modal, the one surface a trigger_id always opens.
                log.info("shortcut in %s: preview not delivered (%s)", channel, exc)
                note = CANNOT_REACH.format(command=ask.command, words=words[:80] or "…")
                await client.views_open(trigger_id=body.get("trigger_id"), view=_note_view(note))

        await guarded(ask, "message shortcut", work, text=words[:200])

    if not deps.settings.reaction_emoji:
        return
    emoji = deps.settings.reaction_emoji

    @app.event("reaction_added")
    async def on_reaction(body, event, client) -> None:  # noqa: ANN001
        item = event.get("item") or {}
        if event.get("reaction") != emoji or item.get("type") != "message":
            return
        channel, ts = item.get("channel"), item.get("ts")
        if not channel or not ts:
            return
        ask = slack_ask(
            deps, client, user_id=event.get("user"), channel_id=channel,
            source=Source.REACTION, thread_ts=ts,
        )  # fmt: skip

        async def work() -> None:
            # Once per message, however many people react or Slack retries.
            if await claim_event(deps.store, f"reaction:{channel}:{ts}"):
                await answer_reaction(ask, channel, ts)

        await guarded(ask, "reaction", work, ts=ts)

    @app.event("reaction_removed")
    async def on_reaction_removed() -> None:
        return  # acknowledged; nothing to undo (the answer stays)


def _note_view(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Find episodes"},
        "close": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }
