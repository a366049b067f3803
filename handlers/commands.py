"""The slash command: one table of subcommands drives both dispatch and ``/episodes help``.

``/episodes <words>`` searches; the first word may instead name a subcommand (``latest``,
``episode``, ``help``). Another module adds a subcommand by adding a row at import time::

    from handlers.commands import subcommand

    @subcommand("digest", "digest [now]", "this week's digest (now: post it)", examples=("digest",))
    async def digest(ask: Ask, words: str) -> None:
        await ask.outbox.private(render_notice("..."))

and the help text and dispatch pick it up; nothing here changes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.context import Ask, deps_for, guarded, slack_ask
from handlers.render import (
    HelpLine,
    render_episode,
    render_help,
    render_latest,
    render_notice,
    render_results,
    safe,
)
from storage.activity import record_search
from storage.catalogue import find_episode, list_episodes
from storage.search import QUERY_SYNTAX as SEARCH_SYNTAX
from storage.search import search

PER_PAGE = 3
MAX_QUERY_CHARS = 500  # longer text is clipped: it fits in a button value and reads as a query
LATEST_COUNT = 5

Handler = Callable[[Ask, str], Awaitable[None]]

# The search query language as `/episodes help` shows it: (example, meaning).
QUERY_SYNTAX: tuple[tuple[str, str], ...] = tuple((r.example, r.meaning) for r in SEARCH_SYNTAX)


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


SUBCOMMANDS: list[Subcommand] = []


def subcommand(
    name: str,
    usage: str,
    help: str,  # noqa: A002 - the column's name
    *,
    examples: tuple[str, ...] = (),
    takes_words: bool = True,
) -> Callable[[Handler], Handler]:
    """Decorator: add a row to :data:`SUBCOMMANDS` (replacing a row of the same name)."""

    def add(handler: Handler) -> Handler:
        row = Subcommand(name.lower(), usage, help, handler, examples, takes_words)
        SUBCOMMANDS[:] = [r for r in SUBCOMMANDS if r.name != row.name] + [row]
        return handler

    return add


def find_subcommand(name: str) -> Subcommand | None:
    return next((row for row in SUBCOMMANDS if row.name == name), None)


def clean_query(text: str) -> str:
    """Slack's text as a query: entities decoded, ``<...>`` markup reduced to its label."""
    text = re.sub(r"<([^<>|]*)\|([^<>]*)>", r"\2", text)  # <url|label>, <@U1|name>, <#C1|chan>
    text = re.sub(r"<[@#!]([^<>]*)>", r"@\1", text)  # <@U1>, <!channel>
    text = re.sub(r"<(https?://[^<>]*)>", r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
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


async def show_results(
    ask: Ask, query: str, page: int = 0, *, replace: bool = False, record: bool = True
) -> None:
    """Search and show one page of the private preview (``replace``: instead of the old one)."""
    query = clean_query(query)
    page = max(0, page)
    result = await search(ask.store, query, limit=PER_PAGE, offset=page * PER_PAGE)
    if record:
        await record_search(
            ask.store, query, len(result.hits),
            user_id=ask.user_id, channel_id=ask.channel_id, source=ask.source,
        )  # fmt: skip
    message = render_results(result, page=page, per_page=PER_PAGE, command=ask.command)
    await ask.outbox.private(message, replace=replace)


@subcommand(
    "",
    "<words>",
    "private preview of the best quotes, with Share and More buttons",
    examples=("argo workflows", "what is devrel", "feature store"),
)
async def search_words(ask: Ask, words: str) -> None:
    await show_results(ask, words)


@subcommand("latest", "latest", "the newest episodes", examples=("latest",), takes_words=False)
async def latest(ask: Ask, words: str) -> None:
    episodes = await list_episodes(ask.store, limit=LATEST_COUNT)
    await ask.outbox.private(render_latest(episodes, command=ask.command))


@subcommand(
    "episode",
    "episode <id or words>",
    "an episode's card: guests, date, links and chapters with timestamps",
    examples=("episode devrel",),
)
async def episode(ask: Ask, words: str) -> None:
    words = clean_query(words)
    if not words:
        await ask.outbox.private(
            render_notice(f"Which episode? For example `{ask.command} episode devrel`.")
        )
        return
    found = await find_episode(ask.store, words)
    if found is None:
        await ask.outbox.private(
            render_notice(
                f"No episode matches *{safe(words, 200)}*. See `{ask.command} latest`, or search "
                f"what was said with `{ask.command} {safe(words, 200)}`."
            )
        )
        return
    await ask.outbox.private(render_episode(found))


@subcommand("help", "help", "this message", takes_words=False)
async def show_help(ask: Ask, words: str) -> None:
    rows = sorted(SUBCOMMANDS, key=lambda row: row.name == "help")  # help last, else table order
    lines = [HelpLine(row.usage, row.help, row.examples) for row in rows]
    await ask.outbox.private(render_help(ask.command, lines, syntax=QUERY_SYNTAX))


def register(app) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Listen for the slash command (SLASH_COMMAND, default /episodes)."""
    deps = deps_for(app)

    @app.command(deps.settings.slash_command)
    async def on_slash_command(ack, body, client) -> None:  # noqa: ANN001
        await ack()  # within Slack's 3 s; the answer goes to the response URL
        ask = slack_ask(
            deps, client,
            user_id=body.get("user_id"), channel_id=body.get("channel_id"),
            response_url=body.get("response_url"), source="slash",
        )  # fmt: skip
        text = body.get("text") or ""
        await guarded(ask, "slash command", lambda: run_command(ask, text), text=text[:200])
