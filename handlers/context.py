"""What every handler is given: the store and settings, who asked where, and where answers go.

Handlers are written once against :class:`Ask` and its :class:`Outbox`; the Slack listeners build
an ``Ask`` around Bolt's request (:func:`slack_ask`), the console builds one that prints
(bot/console.py). So ``/episodes argo`` runs the same code in Slack and in the terminal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.overload import BUSY_TEXT, Busy, Capacity, LogBudget
from handlers.posting import DigestPosterFactory
from handlers.render import Message, render_notice
from storage.activity import ActivityLog
from storage.db import FailureKind, Store, failure_kind

log = logging.getLogger("episode_bot.handlers")


@dataclass(frozen=True)
class HandlerSettings:
    """The settings handlers read; bot/ builds this from its own ``Settings`` (bot/config.py)."""

    slash_command: str = "/episodes"
    admin_user_ids: frozenset[str] = frozenset()  # may post the digest early
    reaction_emoji: str | None = None  # a reaction that asks the bot to answer a message
    digest_channel: str | None = None
    digest_skip_empty: bool = True


@dataclass(frozen=True)
class Deps:
    """What the handlers run on: one open store and their settings.

    ``digest_poster`` builds the digest's poster from (store, Slack client or None): bot/ passes
    one bound to its settings (bot.scheduler.Poster), so handlers never import bot.
    ``activity`` logs searches and shares in the background (one per store is made if not
    given); whoever opened the store closes it (flushing) before the store.
    ``capacity`` bounds the work in flight (MAX_IN_FLIGHT); :func:`guarded` takes a slot.
    """

    store: Store
    settings: HandlerSettings
    digest_poster: DigestPosterFactory | None = None
    activity: ActivityLog = field(default=None)  # type: ignore[assignment] - set below

    capacity: Capacity = field(default_factory=Capacity)
    names: Names = field(default_factory=lambda: Names())  # sharers' names (users.info)

    def __post_init__(self) -> None:
        if self.activity is None:
            object.__setattr__(self, "activity", ActivityLog(self.store))


class CannotPost(Exception):
    """Slack refused to post where asked (a private channel or DM the bot is not in, archived)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DeliveryError(Exception):
    """A response URL did not take the message (after the retries)."""


class CannotRead(Exception):
    """Slack would not let the bot read a message (no history scope, not a member)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Outbox(Protocol):
    """Where a handler's answers go, and the little it reads back (a thread's first message, a
    member's name). Slack's is :class:`SlackOutbox`; the console prints."""

    async def private(self, message: Message, *, replace: bool = False) -> None:
        """Show ``message`` only to the person who asked (``replace``: instead of the preview)."""

    async def delete_private(self) -> None:
        """Remove the private preview the button was pressed on."""

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        """Post visibly in ``channel`` (in a thread when ``thread_ts``); the message ts.

        Raises CannotPost when Slack won't let the bot post there.
        """

    async def post_here(self, message: Message) -> None:
        """Post visibly where the command was typed, through its response URL.

        Works in conversations the bot is not a member of; raises CannotPost when refused.
        """

    async def read_message(self, channel: str, ts: str) -> str:
        """The text (Slack markup and all) of the message ``ts`` in ``channel``.

        Raises CannotRead when the bot may not read it (a history scope missing, not a member).
        """

    async def display_name(self, user_id: str) -> str | None:
        """How ``user_id`` is shown in Slack, as plain text (None when unknown)."""


class Source(StrEnum):
    """Where a request came from; the value is recorded with each search (search_log.source)."""

    SLASH = "slash"
    MENTION = "mention"
    DM = "dm"
    ACTION = "action"
    SHORTCUT = "shortcut"  # the message shortcut "Find episodes about this"
    REACTION = "reaction"  # REACTION_EMOJI on a message
    CONSOLE = "console"
    FORM = "form"  # the search form (a modal), and searches run from the Home tab


@dataclass(frozen=True)
class Ask:
    """One person's request: who asked, where, from which surface, and where answers go."""

    deps: Deps
    outbox: Outbox
    user_id: str | None
    channel_id: str | None
    source: Source
    thread_ts: str | None = None  # the thread the request was made in; Share posts there
    message_ts: str | None = None  # the message whose button was pressed (votes name it)

    @property
    def store(self) -> Store:
        return self.deps.store

    @property
    def command(self) -> str:
        return self.deps.settings.slash_command


# Slack errors that mean "not allowed to post there", as opposed to "Slack is having trouble".
_REFUSALS = {
    "channel_not_found", "not_in_channel", "is_archived", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_non_threadable_channel",
    "restricted_action_thread_only_channel", "cannot_reply_to_message", "ekm_access_denied",
    "team_access_not_granted", "messages_tab_disabled", "access_denied",
}  # fmt: skip


class SlackOutbox:
    """Answers through Slack: response URLs for private previews, the Web API for posts.

    Uses the client's retry handlers (429 with Retry-After, 5xx) for the response URL too.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        user_id: str | None,
        channel_id: str | None,
        response_url: str | None = None,
        thread_ts: str | None = None,
        names: Names | None = None,
    ):
        self.client = client
        self.names = names if names is not None else Names()
        self.user_id = user_id
        self.channel_id = channel_id
        self.response_url = response_url
        self.thread_ts = thread_ts

    async def _respond(self, body: dict[str, Any]) -> None:
        if not self.response_url:
            raise DeliveryError("no response URL to answer on")
        hook = AsyncWebhookClient(
            self.response_url,
            session=self.client.session,
            retry_handlers=list(self.client.retry_handlers or []),
            timeout=10,
        )
        resp = await hook.send_dict(body)
        if resp.status_code != 200:
            raise DeliveryError(f"response URL answered {resp.status_code}: {resp.body[:200]}")
        refused = _refusal_in(resp.body)
        if refused:
            # 200 with {"ok": false, ...}: Slack did not post it (an archived channel, say).
            raise DeliveryError(f"response URL refused it: {refused}")

    async def private(self, message: Message, *, replace: bool = False) -> None:
        if self.response_url:
            body = {**message.payload(), "response_type": "ephemeral", "replace_original": replace}
            await self._respond(body)
        elif self.channel_id and self.user_id:
            # In a thread only when asked there: Slack shows an ephemeral message in a thread
            # only if the thread already exists.
            await self.client.chat_postEphemeral(
                channel=self.channel_id, user=self.user_id, thread_ts=self.thread_ts,
                **message.payload(),
            )  # fmt: skip
        else:
            raise DeliveryError("nowhere to answer privately")

    async def delete_private(self) -> None:
        await self._respond({"delete_original": True})

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        try:
            resp = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **message.payload()
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in _REFUSALS:
                raise CannotPost(error) from exc
            raise
        return str(resp.get("ts") or "")

    async def post_here(self, message: Message) -> None:
        try:
            await self._respond(
                {**message.payload(), "response_type": "in_channel", "replace_original": False}
            )
        except DeliveryError as exc:
            raise CannotPost(str(exc)) from exc

    async def read_message(self, channel: str, ts: str) -> str:
        """conversations.replies: needs channels:history (groups:, mpim:, im:history for
        private channels, group DMs and DMs); without it Slack answers ``missing_scope``."""
        try:
            resp = await self.client.conversations_replies(
                channel=channel, ts=ts, limit=1, inclusive=True
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            raise CannotRead(str(error or "unknown")) from exc
        messages = resp.get("messages") or []
        first = next((m for m in messages if m.get("ts") == ts), messages[0] if messages else None)
        if not isinstance(first, dict):
            raise CannotRead("message_not_found")
        return str(first.get("text") or "")

    async def display_name(self, user_id: str) -> str | None:
        """users.info (users:read): the display name, else the real name; remembered a while."""
        cached = self.names.get(user_id)
        if cached is not None:
            return cached or None
        try:
            resp = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.info("users.info for %s refused (%s): sharing without a name", user_id, error)
            return None
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        name = str(
            profile.get("display_name") or profile.get("real_name") or user.get("real_name") or ""
        ).strip()
        self.names.put(user_id, name)
        return name or None


class Names:
    """Members' names as users.info gave them: at most :data:`MAX_NAMES`, each kept for
    :data:`NAME_SECONDS` (a rename shows within the hour), one cache per app (in :class:`Deps`)."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[float, str]] = {}

    def get(self, user_id: str) -> str | None:
        found = self._names.get(user_id)
        if found is None or time.monotonic() - found[0] > NAME_SECONDS:
            return None
        return found[1]

    def put(self, user_id: str, name: str) -> None:
        if len(self._names) >= MAX_NAMES:
            self._names.pop(next(iter(self._names)))
        self._names[user_id] = (time.monotonic(), name)


MAX_NAMES = 5_000
NAME_SECONDS = 3600.0


def _refusal_in(body: str | None) -> str | None:
    """The error in a response URL's answer when it says ``{"ok": false}``; else None."""
    if not body or not body.lstrip().startswith("{"):
        return None  # Slack has answered a plain "ok" to response URLs
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("ok") is False:
        return str(answer.get("error") or "not ok")
    return None


def slack_ask(
    deps: Deps,
    client: AsyncWebClient,
    *,
    user_id: str | None,
    channel_id: str | None,
    response_url: str | None = None,
    source: Source,
    thread_ts: str | None = None,
    message_ts: str | None = None,
    private_thread_ts: str | None = None,
) -> Ask:
    """An :class:`Ask` answered through Slack. ``private_thread_ts``: the thread a private note
    without a response URL (chat.postEphemeral) goes to, when that thread already exists."""
    outbox = SlackOutbox(
        client, user_id=user_id, channel_id=channel_id, response_url=response_url,
        thread_ts=private_thread_ts, names=deps.names,
    )  # fmt: skip
    return Ask(deps, outbox, user_id, channel_id, source, thread_ts, message_ts)


# -- failures ------------------------------------------------------------------------------------
def problem_text(exc: BaseException) -> str:
    """The short private message for a failure (never the exception text itself)."""
    kind = failure_kind(exc)
    if kind is FailureKind.BUSY:
        return ":hourglass: The episode database is busy right now. Please try again in a moment."
    if kind is FailureKind.DATABASE:
        return ":warning: I couldn't read the episode database. Please try again in a moment."
    if isinstance(exc, SlackApiError | DeliveryError):
        return ":warning: Slack didn't accept my answer. Please try again in a moment."
    return ":warning: Something went wrong on my side. Please try again in a moment."


_busy_log = LogBudget(log, "requests answered busy")


def busy_message() -> Message:
    """The private "busy, try again in a moment" note."""
    return render_notice(BUSY_TEXT)


def note_busy(what: str, ask: Ask) -> None:
    """One log line (a few a minute at most) for a request answered busy."""
    capacity = ask.deps.capacity
    _busy_log.log(
        "busy: %s from user=%s answered 'try again in a moment' (%d in flight, %d waiting; "
        "MAX_IN_FLIGHT=%d)",
        what, ask.user_id, capacity.in_flight, capacity.waiting, capacity.max_in_flight,
    )  # fmt: skip


async def guarded(ask: Ask, what: str, work: Callable[[], Awaitable[None]], **details: Any) -> None:
    """Run ``work`` in one of the capacity's slots; on failure, log one line with context and tell
    the asker privately. With no slot to be had (:class:`Busy`) the asker is told to try again in
    a moment, at once, instead of joining a backlog.

    The process keeps serving: nothing propagates to Bolt.
    """
    try:
        async with ask.deps.capacity.slot():
            await work()
    except Busy:
        note_busy(what, ask)
        try:
            async with ask.deps.capacity.notice():
                await ask.outbox.private(busy_message())
        except Busy:
            pass  # too many notices on their way already; this one is left out
        except Exception as again:  # noqa: BLE001
            log.error(
                "%s: could not tell user=%s it was busy: %s: %s",
                what, ask.user_id, type(again).__name__, _describe(again),
            )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the user gets a message, the log gets the details
        where = " ".join(f"{k}={v!r}" for k, v in details.items())
        expected = isinstance(exc, SlackApiError | DeliveryError) or failure_kind(exc) is not None
        log.error(
            "%s failed (user=%s channel=%s source=%s %s): %s: %s",
            what, ask.user_id, ask.channel_id, ask.source, where, type(exc).__name__,
            _describe(exc), exc_info=not expected,
        )  # fmt: skip
        try:
            await ask.outbox.private(render_notice(problem_text(exc)))
        except Exception as again:  # noqa: BLE001
            log.error(
                "%s: could not tell user=%s about it either: %s: %s",
                what, ask.user_id, type(again).__name__, _describe(again),
            )  # fmt: skip


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"Slack said {exc.response.status_code} {exc.response.get('error')!r}"
    return str(exc)[:300]
