"""Buttons: Share a quote or an episode, page through results, open an episode, Dismiss, vote
👍/👎 on an answer, and "More (only you)" under a public answer.

A click on a private (ephemeral) preview arrives without the preview itself, so everything an
action needs travels in the button's value (see handlers/render.py: ``encode_value``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.commands import PER_PAGE, show_results
from handlers.context import Ask, CannotPost, Deps, Source, guarded, slack_ask
from handlers.render import (
    DISMISS,
    MORE_PRIVATE,
    OPEN_EPISODE,
    PAGE_NEXT,
    PAGE_PREV,
    SEARCH_SUGGESTION,
    SHARE_EPISODE,
    SHARE_HIT,
    VOTE_DOWN,
    VOTE_UP,
    Message,
    decode_value,
    link,
    render_episode,
    render_notice,
    render_shared,
)
from storage.activity import VoteOutcome, record_vote
from storage.catalogue import deep_link, get_episode
from storage.models import Hit
from storage.search import search

log = logging.getLogger("episode_bot.handlers")

EXPIRED = "That button has expired. Run the command again to get fresh results."
MAX_PAGE = 10_000  # far past search's last page; bigger numbers are not from our buttons


def _whole(fields: dict[str, Any], key: str) -> int | None:
    """``fields[key]`` as a page or index we could have written (0 when absent), else None.

    Button values come back from Slack as the user's client sent them: an old version's, or
    hand-made. A malformed one means "expired", never a traceback.
    """
    value = fields.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAGE:
        return None
    return value


async def _shared_hit(ask: Ask, fields: dict[str, Any]) -> Hit | None:
    """The hit the person saw: the same search again, checked against episode and second."""
    episode_id, start = fields.get("e"), fields.get("s")
    query, page, index = fields.get("q", ""), _whole(fields, "p"), _whole(fields, "i")
    if (
        not isinstance(episode_id, str)
        or isinstance(start, bool)
        or not isinstance(start, int | float)
        or not math.isfinite(start)
        or start < 0
        or not isinstance(query, str)
        or page is None
        or index is None
    ):
        return None

    def same(hit: Hit) -> bool:
        return hit.episode_id == episode_id and abs(hit.start - start) < 0.5

    if query:
        result = await search(ask.store, query, limit=PER_PAGE, offset=page * PER_PAGE)
        if index < len(result.hits) and same(result.hits[index]):
            return result.hits[index]
        # The ranking changed since the preview (new episodes): look a little further.
        result = await search(ask.store, query, limit=50)
        for hit in result.hits:
            if same(hit):
                return hit
    episode = await get_episode(ask.store, episode_id)
    if episode is None:
        return None
    # Not found any more: share the moment itself, without a quote.
    return Hit(
        episode_id=episode.id, episode_title=episode.title, start=float(start), end=float(start),
        speaker=None, quote="", url=deep_link(episode.url, start), score=0.0,
    )  # fmt: skip


# Why Slack refused a share, as the member can act on it (Slack's error codes).
_WHY_NOT = {
    "is_archived": "this channel is archived, so nobody can post in it",
    "restricted_action_read_only_channel": "only some members may post in this channel",
    "restricted_action": "this workspace or channel doesn't allow apps to post here",
    "restricted_action_thread_only_channel": "this channel takes replies in threads only",
    "restricted_action_non_threadable_channel": "this channel doesn't take replies in threads",
    "cannot_reply_to_message": "that message can't take replies",
}
_NOT_MEMBER = (
    "I'm not a member of this conversation (a private channel or a direct message). "
    "Add me from the channel's details → *Integrations* → *Add apps*, then try again"
)


_TS = re.compile(r"\d{1,12}\.\d{1,8}")  # a Slack message ts: "1700000000.000100"


def _thread(ask: Ask, fields: dict[str, Any]) -> str | None:
    """The thread the preview lives in: Slack's ``container.thread_ts``, else the value's."""
    thread = ask.thread_ts or fields.get("t")
    return thread if isinstance(thread, str) and _TS.fullmatch(thread) else None


async def _share(
    ask: Ask, message: Message, fallback_link: str | None, thread_ts: str | None
) -> str | None:
    """Post visibly where the button was pressed (in its thread); the message ts ("" via the
    response URL).

    First the Web API (``chat:write.public`` reaches public channels the bot is not in), then
    the response URL; if both refuse, say why privately and return None. Slack's answer body
    is checked, so a refused post is never recorded as shared.
    """
    reason = None
    if ask.channel_id:
        try:
            return await ask.outbox.post(ask.channel_id, message, thread_ts=thread_ts)
        except CannotPost as exc:
            reason = exc.reason
            log.info("share: chat.postMessage refused in %s (%s); trying the response URL",
                     ask.channel_id, exc.reason)  # fmt: skip
    if reason not in _WHY_NOT and not thread_ts:
        # The response URL posts at the conversation's top level: never for a thread's share.
        try:
            await ask.outbox.post_here(message)
            return ""
        except CannotPost as exc:
            log.info("share: response URL refused in %s (%s)", ask.channel_id, exc.reason)
    why = _WHY_NOT.get(reason or "", _NOT_MEMBER)
    text = f":no_entry: I can't post this here: {why}"
    text += f". You can copy the link instead: {fallback_link}" if fallback_link else "."
    await ask.outbox.private(render_notice(text))
    return None


async def _done(ask: Ask) -> None:
    """Remove the preview after a share; best effort (the share itself already worked)."""
    try:
        await ask.outbox.delete_private()
    except Exception as exc:  # noqa: BLE001
        log.warning("could not remove the preview for user=%s: %s", ask.user_id, exc)


async def share_hit(ask: Ask, fields: dict[str, Any]) -> None:
    hit = await _shared_hit(ask, fields)
    if hit is None:
        await ask.outbox.private(render_notice(EXPIRED))
        return
    sharer = await ask.outbox.display_name(ask.user_id) if ask.user_id else None
    query = fields.get("q") if isinstance(fields.get("q"), str) else None
    message = render_shared(hit, sharer=sharer, query=query)
    ts = await _share(ask, message, link(hit.url), _thread(ask, fields))
    if ts is None:
        return
    ask.deps.activity.share(
        hit.episode_id, hit.start,
        user_id=ask.user_id, channel_id=ask.channel_id, passage_id=hit.passage_id,
        query=fields.get("q") or None, message_ts=ts or None,
    )  # fmt: skip
    await _done(ask)


async def share_episode(ask: Ask, fields: dict[str, Any]) -> None:
    episode = await get_episode(ask.store, str(fields.get("e", "")))
    if episode is None:
        await ask.outbox.private(render_notice(EXPIRED))
        return
    url = deep_link(episode.url, 0)
    sharer = await ask.outbox.display_name(ask.user_id) if ask.user_id else None
    message = render_episode(episode, sharer=sharer, shared=True)
    ts = await _share(ask, message, link(url), _thread(ask, fields))
    if ts is None:
        return
    ask.deps.activity.share(
        episode.id, 0.0,
        user_id=ask.user_id, channel_id=ask.channel_id, message_ts=ts or None,
    )  # fmt: skip
    await _done(ask)


async def page(ask: Ask, fields: dict[str, Any], *, replace: bool = True) -> None:
    """Another page of a preview, instead of it (``replace``), or as a new private one."""
    number = _whole(fields, "p")
    if not isinstance(fields.get("q"), str) or number is None:
        await ask.outbox.private(render_notice(EXPIRED))
        return
    await show_results(ask, fields["q"], number, replace=replace, record=False)


async def search_suggestion(ask: Ask, fields: dict[str, Any]) -> None:
    if not isinstance(fields.get("q"), str):
        await ask.outbox.private(render_notice(EXPIRED))
        return
    await show_results(ask, fields["q"], 0, replace=True)


async def open_episode(ask: Ask, fields: dict[str, Any]) -> None:
    episode = await get_episode(ask.store, str(fields.get("e", "")))
    if episode is None:
        await ask.outbox.private(render_notice(EXPIRED))
        return
    await ask.outbox.private(render_episode(episode), replace=True)


async def dismiss(ask: Ask, fields: dict[str, Any]) -> None:
    await ask.outbox.delete_private()


_THANKS = {
    (VoteOutcome.NEW, 1): "Thanks! Noted that this answer was useful :+1:",
    (VoteOutcome.NEW, -1): "Thanks! Noted that this answer missed :-1: It helps me rank better.",
    (VoteOutcome.CHANGED, 1): "Changed your vote on this answer to :+1:",
    (VoteOutcome.CHANGED, -1): "Changed your vote on this answer to :-1:",
    (VoteOutcome.SAME, 1): "You've already voted :+1: on this answer; it counts once.",
    (VoteOutcome.SAME, -1): "You've already voted :-1: on this answer; it counts once.",
}


async def vote(ask: Ask, fields: dict[str, Any], direction: int) -> None:
    """One person's 👍/👎 on one quote of one message: recorded once, changed if they change
    their mind; the thanks is private (nobody else learns who voted)."""
    episode_id, start, passage_id = fields.get("e"), fields.get("s"), fields.get("i")
    query = fields.get("q")
    if (
        not isinstance(episode_id, str)
        or isinstance(start, bool)
        or not isinstance(start, int | float)
        or not math.isfinite(start)
        or not ask.user_id
    ):
        await ask.outbox.private(render_notice(EXPIRED))
        return
    if isinstance(passage_id, bool) or not isinstance(passage_id, int):
        passage_id = None
    answer_key = f"{ask.channel_id}:{ask.message_ts}:{episode_id}:{round(float(start), 2)}"
    outcome = await record_vote(
        ask.store, answer_key, ask.user_id, direction,
        episode_id=episode_id, start=float(start), query=query if isinstance(query, str) else None,
        passage_id=passage_id, channel_id=ask.channel_id,
    )  # fmt: skip
    await ask.outbox.private(render_notice(_THANKS[(outcome, direction)]))


async def vote_up(ask: Ask, fields: dict[str, Any]) -> None:
    await vote(ask, fields, 1)


async def vote_down(ask: Ask, fields: dict[str, Any]) -> None:
    await vote(ask, fields, -1)


async def more_private(ask: Ask, fields: dict[str, Any]) -> None:
    """Under a public answer: the next results as a private preview for whoever clicked."""
    await page(ask, fields, replace=False)


# action id prefix -> what it does; buttons repeated in one message end in "_<n>".
ACTIONS: dict[str, Callable[[Ask, dict[str, Any]], Awaitable[None]]] = {
    SHARE_HIT: share_hit,
    SHARE_EPISODE: share_episode,
    PAGE_NEXT: page,
    PAGE_PREV: page,
    SEARCH_SUGGESTION: search_suggestion,
    OPEN_EPISODE: open_episode,
    DISMISS: dismiss,
    VOTE_UP: vote_up,
    VOTE_DOWN: vote_down,
    MORE_PRIVATE: more_private,
}


def action_for(action_id: str) -> Callable[[Ask, dict[str, Any]], Awaitable[None]] | None:
    base = re.sub(r"_\d+$", "", action_id)
    return ACTIONS.get(base)


async def press(ask: Ask, action_id: str, value: str | None) -> None:
    """Do what the button ``action_id`` with ``value`` asks (Slack and the console call this)."""
    action = action_for(action_id)
    if action is None:
        log.warning("unknown action %r from user=%s", action_id, ask.user_id)
        return
    await action(ask, decode_value(value))


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Listen for our buttons (only our action ids, so other modules can add their own)."""
    ours = re.compile("^(" + "|".join(map(re.escape, ACTIONS)) + r")(_\d+)?$")

    @app.action(ours)
    async def on_button(ack, body, client) -> None:  # noqa: ANN001
        await ack()  # within 3 s; the work happens after
        action = (body.get("actions") or [{}])[0]
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        message = body.get("message") or {}
        ask = slack_ask(
            deps, client,
            user_id=(body.get("user") or {}).get("id"), channel_id=channel,
            response_url=body.get("response_url"), source=Source.ACTION,
            # A preview opened in a thread says so in container.thread_ts; a public message
            # carries its own thread_ts.
            thread_ts=container.get("thread_ts") or message.get("thread_ts"),
            message_ts=container.get("message_ts") or message.get("ts"),
        )  # fmt: skip
        action_id = action.get("action_id", "")
        await guarded(
            ask, f"button {action_id}", lambda: press(ask, action_id, action.get("value")),
            value=(action.get("value") or "")[:200],
        )  # fmt: skip
