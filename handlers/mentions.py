"""@mentions and direct messages: the best quotes, answered in the thread (or the DM).

What is asked is the message's words only: the bot's mention, other people's, channel and
user-group references, ``<!here>`` and links are left out (from the event's rich_text blocks
when it has them, else from its text). "Help", "what can you do?" and the like get the help,
privately. A bare mention in a thread asks about the thread's first message (when the bot may
read it; else a private hint to use the message shortcut). A guest's name lists their episodes.

Slack retries an event it thinks went unanswered, and a restart must not answer twice, so each
``event_id`` is claimed in the database first (storage.activity.claim_event). Messages from bots,
this one included, are ignored.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from handlers.commands import MAX_BUTTON_QUERY_CHARS, PER_PAGE, named_episodes
from handlers.context import Ask, CannotRead, Deps, Source, guarded, slack_ask
from handlers.render import render_answer, render_named, render_notice
from storage.activity import claim_event
from storage.search import search

log = logging.getLogger("episode_bot.handlers")

# Slack markup that is not part of a question: <@U1>, <@U1|ana>, <#C1|general>, <!here>,
# <!subteam^S1|@team>, <https://…|label>, <mailto:…>. Removed whole, label and all.
_MARKUP = re.compile(r"<[@#!][^<>]*>|<(?:https?|mailto|tel):[^<>]*>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# Rich text elements that are words; user, channel, usergroup, broadcast, link, emoji are not.
_WORD_ELEMENTS = {"text"}

GREETINGS = {"", "help", "hi", "hello", "hey", "?", "yo", "hiya", "howdy", "thanks", "thank you"}
# Questions about the bot itself. Matched against the whole question, lower case, without
# punctuation, so "what is devrel?" never matches and "what can you do?" does.
_ABOUT_ME = re.compile(
    r"^(?:(?:hi|hello|hey|please|so|ok|okay)\s+)*(?:"
    r"help(?:\s+me)?(?:\s+out)?|"
    r"what\s+(?:can|do|could|should)\s+(?:you|i)\s+(?:do|ask|say|use)(?:\s+(?:you|here|with you))?|"
    r"what\s+(?:are|r)\s+you(?:\s+for)?|who\s+are\s+you|what\s+is\s+this(?:\s+bot)?|"
    r"what\s+do\s+you\s+know|"
    r"how\s+(?:does|do)\s+(?:this|it|you)(?:\s+bot)?\s+work|"
    r"how\s+(?:do|can|should)\s+i\s+use\s+(?:you|this|it)(?:\s+bot)?|"
    r"(?:show\s+)?(?:commands|usage|options)"
    r")(?:\s+please)?$"
)


def strip_markup(text: str) -> str:
    """Slack message text as a question: mentions, channel links, ``<!here>`` and links gone."""
    text = _MARKUP.sub(" ", text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return " ".join(text.split())


def _rich_text_words(blocks: Any) -> str | None:
    """The words of a message's rich_text blocks (None when it has none): text elements only."""
    if not isinstance(blocks, list):
        return None
    parts: list[str] = []
    found = False

    def walk(node: Any) -> None:
        nonlocal found
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "rich_text":
                found = True
            if kind in _WORD_ELEMENTS and isinstance(node.get("text"), str):
                parts.append(node["text"])
                return
            if kind in ("user", "channel", "usergroup", "broadcast", "link", "emoji", "team"):
                parts.append(" ")
                return
            for key in ("elements",):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)
                if isinstance(item, dict) and item.get("type", "").startswith("rich_text_"):
                    parts.append(" ")

    walk(blocks)
    return " ".join("".join(parts).split()) if found else None


def message_words(message: dict[str, Any]) -> str:
    """What a Slack message says, as a query: its rich_text words, else its text unmarked."""
    words = _rich_text_words(message.get("blocks"))
    if words is None:
        words = strip_markup(str(message.get("text") or ""))
    if len(words) > MAX_BUTTON_QUERY_CHARS:
        words = words[:MAX_BUTTON_QUERY_CHARS].rsplit(" ", 1)[0]
    return words


def question_text(text: str, bot_user_id: str | None = None) -> str:
    """The question in a mention's text: every mention, channel link and URL removed."""
    return message_words({"text": text})


def about_me(question: str) -> bool:
    """A greeting or a question about the bot ("what can you do?"), not about the show."""
    plain = " ".join(re.sub(r"[^\w\s']", " ", question.lower()).split())
    return plain in GREETINGS or bool(_ABOUT_ME.match(plain))


def help_message(ask: Ask) -> Any:  # a Message
    command = ask.command
    return render_notice(
        "Ask me about anything said on the show, for example *what is devrel?* or *argo "
        "workflows*, or a guest's name, and I'll answer in the thread with quotes and links to "
        "the second they were said. A direct message to me is answered in the DM, for you "
        f"alone. `{command} &lt;words&gt;` shows you a private preview to share from; on any "
        "message, the ⋮ menu's *Find episodes about this* does the same for that message. "
        f"`{command} help` lists everything."
    )


THREAD_HINT = (
    "I can't read the message this thread started with: I haven't been allowed to read this "
    "conversation's history. Use that message's ⋮ menu → *Find episodes about this* to see "
    "quotes about it (only you will see them), or mention me with the question in words."
)


async def answer_question(ask: Ask, question: str, *, thread_ts: str | None) -> None:
    """Answer ``question`` visibly, in ``thread_ts`` when given: a guest's episodes for their
    name, else the best quotes. A greeting or a question about the bot gets the help, privately.

    Example:
        >>> await answer_question(ask, "what is devrel?", thread_ts="17.1")  # doctest: +SKIP
    """
    assert ask.channel_id, "a mention always has a channel"
    if about_me(question):
        if ask.source is Source.DM:  # the DM is theirs alone already
            await ask.outbox.post(ask.channel_id, help_message(ask))
        else:
            await ask.outbox.private(help_message(ask))
        return
    named = await named_episodes(ask.store, question)
    if named:
        name, episodes = named
        message = render_named(episodes, name=name, command=ask.command, public=True)
        await ask.outbox.post(ask.channel_id, message, thread_ts=thread_ts)
        ask.deps.activity.search(
            question, len(episodes),
            user_id=ask.user_id, channel_id=ask.channel_id, source=ask.source,
        )  # fmt: skip
        return
    result = await search(ask.store, question, limit=PER_PAGE)
    ask.deps.activity.search(
        question, len(result.hits), user_id=ask.user_id, channel_id=ask.channel_id,
        source=ask.source,
    )  # fmt: skip
    message = render_answer(result, command=ask.command, private=ask.source is Source.DM)
    await ask.outbox.post(ask.channel_id, message, thread_ts=thread_ts)


async def answer_thread(ask: Ask, parent_ts: str, *, thread_ts: str) -> None:
    """A bare mention in a thread: answer the thread's first message, or hint privately."""
    assert ask.channel_id, "a mention always has a channel"
    try:
        parent = await ask.outbox.read_message(ask.channel_id, parent_ts)
    except CannotRead as exc:
        log.info("thread parent %s in %s not readable (%s)", parent_ts, ask.channel_id, exc)
        await ask.outbox.private(render_notice(THREAD_HINT))
        return
    await answer_question(ask, question_text(parent), thread_ts=thread_ts)


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
        in_thread = event.get("thread_ts")
        thread_ts = in_thread or (event.get("ts") if source is Source.MENTION else None)
        ask = slack_ask(
            deps, client, user_id=event.get("user"), channel_id=event.get("channel"),
            source=source, thread_ts=thread_ts, private_thread_ts=in_thread,
        )  # fmt: skip
        event_id = body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"
        question = message_words(event)

        async def work() -> None:
            if not await claim_event(deps.store, event_id):
                log.info("event %s already answered (a retry); skipped", event_id)
                return
            if not question and in_thread and in_thread != event.get("ts"):
                await answer_thread(ask, in_thread, thread_ts=in_thread)
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
