"""``python -m bot console``: the Slack handlers on the local database, in a terminal.

Type what you would type in Slack: ``/episodes argo``, ``@bot what is devrel?``, or just a
question (as in a DM). Buttons are numbered; type the number to press one. Messages are drawn from
the same Block Kit the bot sends to Slack, so this is also how to check rendering. Works with a
pipe too (``printf '/episodes argo\\n1\\n' | python -m bot console``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from bot.app import build_deps
from bot.config import Settings
from handlers.actions import press
from handlers.commands import run_command
from handlers.context import Ask, Deps, Source, guarded
from handlers.mentions import answer_question, question_text
from handlers.render import Message
from storage.db import Store

# Who is typing, where, and the bot, as the handlers see them in the console.
CONSOLE_USER_ID = "U0YOU"
CONSOLE_CHANNEL_ID = "C0CONSOLE"
CONSOLE_BOT_USER_ID = "U0BOT"
QUIT = {"quit", "exit", "q", ":q"}


@dataclass(frozen=True)
class Style:
    """ANSI styling when writing to a terminal, plain text otherwise."""

    on: bool

    def bold(self, s: str) -> str:
        return f"\033[1m{s}\033[0m" if self.on else s

    def italic(self, s: str) -> str:
        return f"\033[3m{s}\033[0m" if self.on else s

    def dim(self, s: str) -> str:
        return f"\033[2m{s}\033[0m" if self.on else s

    def link(self, label: str, url: str) -> str:
        if label == url:
            return f"\033[4m{url}\033[0m" if self.on else url
        return (
            f"\033[4m{label}\033[0m {self.dim('(' + url + ')')}" if self.on else f"{label} ({url})"
        )


def mrkdwn_to_terminal(text: str, style: Style) -> str:
    """Slack mrkdwn as terminal text: links, mentions, bold, italics, quotes, entities."""
    names = {CONSOLE_USER_ID: "@you", CONSOLE_BOT_USER_ID: "@bot"}

    def link(m: re.Match[str]) -> str:
        url, _, label = m.group(1).partition("|")
        if url.startswith("@"):
            return names.get(url[1:], url)
        if url.startswith("!"):
            return "@" + url[1:]
        if url.startswith("#"):
            return "#" + (label or url[1:])
        return style.link(html.unescape(label or url), html.unescape(url))

    text = re.sub(r"<([^<>]+)>", link, text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: style.bold(m.group(1)), text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", lambda m: style.italic(m.group(1)), text)
    text = re.sub(r"`([^`\n]+)`", lambda m: style.bold(m.group(1)), text)
    text = re.sub(r"(?m)^> ?", "  │ ", text)
    return html.unescape(text)


def render_for_terminal(message: Message, style: Style) -> str:
    """The message as lines of text, buttons numbered from 1."""
    lines: list[str] = []
    number = itertools.count(1)

    def button_label(el: dict[str, Any]) -> str:
        return f"[{next(number)}] {el['text']['text']}"

    if not message.blocks:
        return mrkdwn_to_terminal(message.text, style)
    for block in message.blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(style.bold(block["text"]["text"]))
        elif kind == "section":
            lines.append(mrkdwn_to_terminal(block["text"]["text"], style))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                lines.append("  " + style.bold(button_label(accessory)))
        elif kind == "context":
            parts = [mrkdwn_to_terminal(el.get("text", ""), style) for el in block["elements"]]
            lines.append(style.dim("  ".join(parts)) if style.on else "  ".join(parts))
        elif kind == "divider":
            lines.append(style.dim("─" * 40) if style.on else "-" * 40)
        elif kind == "actions":
            buttons = [button_label(el) for el in block["elements"] if el.get("type") == "button"]
            lines.append(style.bold("   ".join(buttons)))
    return "\n".join(lines)


class ConsoleOutbox:
    """Prints what the bot would send; remembers the buttons of the latest private message."""

    def __init__(self, console: Console):
        self.console = console

    async def private(self, message: Message, *, replace: bool = False) -> None:
        label = "only you can see this" + (", replacing the preview" if replace else "")
        self.console.show(message, label, private=True)

    async def delete_private(self) -> None:
        self.console.buttons = []
        self.console.say(self.console.style.dim("(preview dismissed)"))

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        where = "in the thread" if thread_ts else "in #console, visible to everyone"
        self.console.show(message, where, private=False)
        return f"{next(self.console.ts)}.000100"

    async def post_here(self, message: Message) -> None:
        await self.post(CONSOLE_CHANNEL_ID, message)


class Console:
    """A read-eval-print loop over the handlers. ``out`` is where everything is written."""

    def __init__(self, settings: Settings, deps: Deps, *, out: TextIO, style: Style):
        self.settings = settings
        self.deps = deps
        self.out = out
        self.style = style
        self.buttons: list[dict[str, Any]] = []
        self.ts = itertools.count(1700000001)
        self.outbox = ConsoleOutbox(self)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, message: Message, label: str, *, private: bool) -> None:
        buttons = message.buttons()
        self.say(self.style.dim(f"── episode-bot · {label} ──"))
        self.say(render_for_terminal(message, self.style))
        self.say("")
        if private or buttons:
            self.buttons = buttons

    def ask(self) -> Ask:
        return Ask(self.deps, self.outbox, CONSOLE_USER_ID, CONSOLE_CHANNEL_ID, Source.CONSOLE)

    async def handle(self, line: str) -> bool:
        """Act on one input line; False when it asks to quit."""
        line = line.strip()
        command = self.deps.settings.slash_command
        if not line:
            return True
        if line.lower() in QUIT:
            return False
        ask = self.ask()
        if line.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
            n = int(line) if len(line) <= 9 else 0  # int() refuses 4,300+ digits
            if not 1 <= n <= len(self.buttons):
                have = f"1–{len(self.buttons)}" if self.buttons else "none right now"
                self.say(f"No button {n} (buttons: {have}).")
                return True
            el = self.buttons[n - 1]
            await guarded(ask, "button", lambda: press(ask, el["action_id"], el.get("value")))
        elif line.startswith("/"):
            name, _, text = line.partition(" ")
            if name != command:
                self.say(
                    f"Unknown command {name}; this bot answers {command} (try {command} help)."
                )
                return True
            await guarded(ask, "slash command", lambda: run_command(ask, text))
        else:
            # "@bot question" is a mention, answered in a thread; anything else is a DM.
            mention = re.match(r"^@\S+\s*", line)
            text = line[mention.end() :] if mention else line
            question = question_text(text, CONSOLE_BOT_USER_ID)
            thread = "1700000000.000001" if mention else None
            await guarded(ask, "question", lambda: answer_question(ask, question, thread_ts=thread))
        return True

    def banner(self) -> str:
        command = self.deps.settings.slash_command
        return "\n".join([
            self.style.bold("episode-bot console") + f" — the Slack app's answers, on "
            f"{self.settings.database_path}",
            f"Type {command} argo · {command} help · @bot what is devrel? · a question · "
            "a number to press a button · quit",
            "",
        ])  # fmt: skip


async def _lines(stream: TextIO, interactive: bool, prompt: str) -> Any:
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            try:
                line = await loop.run_in_executor(None, input, prompt)
            except EOFError:
                return
        else:
            line = await loop.run_in_executor(None, stream.readline)
            if not line:
                return
        yield line


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    intro: str | None = None,
) -> int:
    """Run the console until ``quit`` or end of input; the exit status.

    Example:
        >>> await run_console(load_settings())  # doctest: +SKIP
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin is sys.stdin and stdin.isatty() and out.isatty()
    if interactive:
        try:
            import readline  # noqa: F401 - line editing and history for input()
        except ImportError:
            pass
    # Like serve: only an existing database (``ingest`` makes one), so a typo creates nothing.
    async with await Store.open(settings.database_path, create=False) as store:
        deps = build_deps(store, settings)
        console = Console(settings, deps, out=out, style=Style(out.isatty()))
        try:
            if intro:
                console.say(intro)
            console.say(console.banner())
            async for line in _lines(stdin, interactive, "you> "):
                if not interactive and line.strip():
                    console.say(console.style.dim(f"you> {line.strip()}"))
                if not await console.handle(line):
                    break
        finally:
            await deps.activity.close()  # this session's searches and shares, written
    return 0
