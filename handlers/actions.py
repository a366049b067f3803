"""Buttons: Share a quote or an episode, page through results, open an episode, Dismiss.

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
    OPEN_EPISODE,
    PAGE_NEXT,
    PAGE_PREV,
    SEARCH_SUGGESTION,
    SHARE_EPISODE,
    SHARE_HIT,
    Message,
    decode_value,
    link,
    render_episode,
    render_notice,
    render_shared,
)
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


async def _share(ask: Ask, message: Message, fallback_link: str | None) -> str | None:
    """Post visibly where the button was pressed; the message ts ("" via the response URL).

    First the Web API (``chat:write.public`` reaches public channels the bot is not in), then
    the response URL; if both refuse, say so privately and return None.
    """
    if ask.channel_id:
        try:
            return await ask.outbox.post(ask.channel_id, message)
        except CannotPost as exc:
            log.info("share: chat.postMessage refused in %s (%s); trying the response URL",
                     ask.channel_id, exc.reason)  # fmt: skip
    try:
        await ask.outbox.post_here(message)
        return ""
    except CannotPost as exc:
        log.info("share: response URL refused in %s (%s)", ask.channel_id, exc.reason)
    text = (
        ":no_entry: I can't post in this conversation: it is a private channel or a direct "
        "message I'm not part of. Invite me with `/invite @episode-bot` and try again"
    )
    text += f", or copy the link: {fallback_link}" if fallback_link else "."
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
    ts = await _share(ask, render_shared(hit, user_id=ask.user_id), link(hit.url))
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
    ts = await _share(ask, render_episode(episode, shared_by=ask.user_id), link(url))
    if ts is None:
        return
    ask.deps.activity.share(
        episode.id, 0.0,
        user_id=ask.user_id, channel_id=ask.channel_id, message_ts=ts or None,
    )  # fmt: skip
    await _done(ask)


async def page(ask: Ask, fields: dict[str, Any]) -> None:
    number = _whole(fields, "p")
    if not isinstance(fields.get("q"), str) or number is None:
        await ask.outbox.private(render_notice(EXPIRED))
        return
    await show_results(ask, fields["q"], number, replace=True, record=False)


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


# action id prefix -> what it does; buttons repeated in one message end in "_<n>".
ACTIONS: dict[str, Callable[[Ask, dict[str, Any]], Awaitable[None]]] = {
    SHARE_HIT: share_hit,
    SHARE_EPISODE: share_episode,
    PAGE_NEXT: page,
    PAGE_PREV: page,
    SEARCH_SUGGESTION: search_suggestion,
    OPEN_EPISODE: open_episode,
    DISMISS: dismiss,
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
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        ask = slack_ask(
            deps, client,
            user_id=(body.get("user") or {}).get("id"), channel_id=channel,
            response_url=body.get("response_url"), source=Source.ACTION,
        )  # fmt: skip
        action_id = action.get("action_id", "")
        await guarded(
            ask, f"button {action_id}", lambda: press(ask, action_id, action.get("value")),
            value=(action.get("value") or "")[:200],
        )  # fmt: skip
