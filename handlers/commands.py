"""The slash command: one table of subcommands drives both dispatch and ``/episodes help``.

``/episodes <words>`` searches; the first word may instead name a subcommand (``latest``,
``episode``, ``digest``, ``help``). Every subcommand is a row of :data:`SUBCOMMANDS`, written out
below; to add one, write its handler (here or in its own module) and add its row::

    Subcommand("digest", "digest [now]", "this week's digest (now: post it)", digest_command,
               examples=("digest",)),

and the help text and dispatch pick it up; nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Ask, Deps, Source, busy_message, guarded, note_busy, slack_ask
from handlers.digest import digest_command
from handlers.render import (
    HelpLine,
    render_episode,
    render_episode_choice,
    render_help,
    render_latest,
    render_named,
    render_notice,
    render_results,
    safe,
)
from storage.catalogue import episodes_named, find_episodes, list_episodes
from storage.db import Store
from storage.models import Episode
from storage.search import QUERY_SYNTAX, search

PER_PAGE = 3
# Longer text from Slack is clipped: it fits in a button's value and still reads as a query.
# (Search's own, larger limit is MAX_QUERY_CHARS in storage/search/query.py.)
MAX_BUTTON_QUERY_CHARS = 500
LATEST_COUNT = 5

Handler = Callable[[Ask, str], Awaitable[None]]

# The search query language as `/episodes help` shows it: (example, meaning).
HELP_SYNTAX: tuple[tuple[str, str], ...] = tuple((r.example, r.meaning) for r in QUERY_SYNTAX)


@dataclass(frozen=True)
class Subcommand:
    """One row of the table: ``name`` is the first word ("" for the default, a search).

    ``takes_words``: when False and words follow the name, the whole text is searched instead
    (so ``/episodes latest trends in mlops`` is a search, not ``latest``).
    """

    name: str
    usage: str
    help: str
    handler: Handler
    examples: tuple[str, ...] = ()
    takes_words: bool = True


def find_subcommand(name: str) -> Subcommand | None:
    return next((row for row in SUBCOMMANDS if row.name == name), None)


def clean_query(text: str) -> str:
    """Slack's text as a query: entities decoded, ``<...>`` markup reduced to its label."""
    text = re.sub(r"<([^<>|]*)\|([^<>]*)>", r"\2", text)  # <url|label>, <@U1|name>, <#C1|chan>
    text = re.sub(r"<[@#!]([^<>]*)>", r"@\1", text)  # <@U1>, <!channel>
    text = re.sub(r"<(https?://[^<>]*)>", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = " ".join(text.split())
    if len(text) > MAX_BUTTON_QUERY_CHARS:
        text = text[:MAX_BUTTON_QUERY_CHARS].rsplit(" ", 1)[0]
    return text


async def run_command(ask: Ask, text: str) -> None:
    """Dispatch ``/episodes <text>`` through the table; empty text shows help.

    Example:
        >>> await run_command(ask, "latest")  # doctest: +SKIP
    """
    text = " ".join(text.split())
    if not text:
        await show_help(ask, "")
        return
    first, _, rest = text.partition(" ")
    row = find_subcommand(first.lower())
    if row is None or (rest and not row.takes_words):
        row = find_subcommand("")
        rest = text
    assert row is not None, "the search row is always in the table"
    await row.handler(ask, rest)


# `guest:hugo` or `guest:"hugo bowne"` alone: a name, asked for by its filter.
_GUEST_ONLY = re.compile(r'^guest:(?:"([^"]+)"|(\S+))$', re.IGNORECASE)


async def named_episodes(store: Store, words: str) -> tuple[str, list[Episode]] | None:
    """(the name, its episodes) when ``words`` is a guest's name (or ``guest:<name>`` alone)
    or an episode's whole title; None for anything else, which is searched as words."""
    words = " ".join(words.split())
    only = _GUEST_ONLY.match(words)
    name = (only.group(1) or only.group(2)) if only else words
    episodes = await episodes_named(store, name)
    return (name, episodes) if episodes else None


async def show_results(
    ask: Ask, query: str, page: int = 0, *, replace: bool = False, record: bool = True
) -> None:
    """Search and show one page of the private preview (``replace``: instead of the old one)."""
    query = clean_query(query)
    page = max(0, page)
    result = await search(ask.store, query, limit=PER_PAGE, offset=page * PER_PAGE)
    if record:
        ask.deps.activity.search(
            query, len(result.hits), user_id=ask.user_id, channel_id=ask.channel_id,
            source=ask.source,
        )  # fmt: skip
    message = render_results(
        result, page=page, per_page=PER_PAGE, command=ask.command, thread_ts=ask.thread_ts
    )
    await ask.outbox.private(message, replace=replace)


async def search_words(ask: Ask, words: str) -> None:
    """A guest's name (or an episode's title) lists the episodes; anything else is searched."""
    named = await named_episodes(ask.store, clean_query(words))
    if named is None:
        await show_results(ask, words)
        return
    name, episodes = named
    ask.deps.activity.search(
        clean_query(words), len(episodes),
        user_id=ask.user_id, channel_id=ask.channel_id, source=ask.source,
    )  # fmt: skip
    await ask.outbox.private(render_named(episodes, name=name, command=ask.command))


async def latest(ask: Ask, words: str) -> None:
    episodes = await list_episodes(ask.store, limit=LATEST_COUNT)
    await ask.outbox.private(render_latest(episodes, command=ask.command))


async def episode(ask: Ask, words: str) -> None:
    words = clean_query(words)
    if not words:
        await ask.outbox.private(
            render_notice(f"Which episode? For example `{ask.command} episode devrel`.")
        )
        return
    found = await find_episodes(ask.store, words)
    if not found:
        await ask.outbox.private(
            render_notice(
                f"No episode matches *{safe(words, 200)}*. See `{ask.command} latest`, or search "
                f"what was said with `{ask.command} {safe(words, 200)}`."
            )
        )
        return
    if len(found) > 1:
        await ask.outbox.private(render_episode_choice(found, words=words, command=ask.command))
        return
    await ask.outbox.private(render_episode(found[0]))


async def show_help(ask: Ask, words: str) -> None:
    lines = [HelpLine(row.usage, row.help, row.examples) for row in SUBCOMMANDS]
    await ask.outbox.private(render_help(ask.command, lines, syntax=HELP_SYNTAX))


# Every subcommand, in the order `/episodes help` lists them.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "", "<words>",
        "private preview of the best quotes, with Share and More buttons (a guest's name: "
        "their episodes)",
        search_words, examples=("argo workflows", "what is devrel", "feature store"),
    ),
    Subcommand(
        "latest", "latest", "the newest episodes", latest,
        examples=("latest",), takes_words=False,
    ),
    Subcommand(
        "episode", "episode <id or words>",
        "an episode's card: guests, date, links and chapters with timestamps", episode,
        examples=("episode devrel",),
    ),
    Subcommand(
        "digest", "digest [now]",
        "a private preview of the weekly digest (admins: `digest now` posts it)", digest_command,
        examples=("digest",),
    ),
    Subcommand("help", "help", "this message", show_help, takes_words=False),
)  # fmt: skip


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Listen for the slash command (SLASH_COMMAND, default /episodes)."""

    @app.command(deps.settings.slash_command)
    async def on_slash_command(ack, body, client) -> None:  # noqa: ANN001
        ask = slack_ask(
            deps, client,
            user_id=body.get("user_id"), channel_id=body.get("channel_id"),
            response_url=body.get("response_url"), source=Source.SLASH,
        )  # fmt: skip
        if deps.capacity.full():  # no room even to wait: say so in the ack itself, at once
            note_busy("slash command", ask)
            await ack(response_type="ephemeral", **busy_message().payload())
            return
        await ack()  # within Slack's 3 s; the answer goes to the response URL
        text = body.get("text") or ""
        await guarded(ask, "slash command", lambda: run_command(ask, text), text=text[:200])
