"""What every handler is given: the store and settings, who asked where, and where answers go.

Handlers are written once against :class:`Ask` and its :class:`Outbox`; the Slack listeners build
an ``Ask`` around Bolt's request (:func:`slack_ask`), the console builds one that prints
(bot/console.py). So ``/episodes argo`` runs the same code in Slack and in the terminal.
"""

from __future__ import annotations

import logging
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


class Outbox(Protocol):
    """Where a handler's answers go. Slack's is :class:`SlackOutbox`; the console prints."""

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


class Source(StrEnum):
    """Where a request came from; the value is recorded with each search (search_log.source)."""

    SLASH = "slash"
    MENTION = "mention"
    DM = "dm"
    ACTION = "action"
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
    ):
        self.client = client
        self.user_id = user_id
        self.channel_id = channel_id
        self.response_url = response_url

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

    async def private(self, message: Message, *, replace: bool = False) -> None:
        if self.response_url:
            body = {**message.payload(), "response_type": "ephemeral", "replace_original": replace}
            await self._respond(body)
        elif self.channel_id and self.user_id:
            await self.client.chat_postEphemeral(
                channel=self.channel_id, user=self.user_id, **message.payload()
            )
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


def slack_ask(
    deps: Deps,
    client: AsyncWebClient,
    *,
    user_id: str | None,
    channel_id: str | None,
    response_url: str | None = None,
    source: Source,
) -> Ask:
    outbox = SlackOutbox(client, user_id=user_id, channel_id=channel_id, response_url=response_url)
    return Ask(deps, outbox, user_id, channel_id, source)


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
