"""``python -m bot console``: the Slack handlers on the local database, in a terminal.

Type what you would type in Slack: ``/episodes argo``, ``@bot what is devrel?``, or just a
question (as in a DM). ``shortcut <a message>`` runs the message shortcut "Find episodes about
this" on that message; a bare ``@bot`` is a mention in the thread of the last message you typed.
Buttons are numbered; type the number to press one (Share, More, 👍/👎...). Messages are drawn
from the same Block Kit the bot sends to Slack, so this is also how to check rendering. Works
with a pipe too (``printf '/episodes argo\\n1\\n' | python -m bot console``).
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
from handlers.context import Ask, CannotRead, Deps, Source, guarded
from handlers.mentions import answer_question, answer_thread, question_text
from handlers.render import Message
from handlers.shortcuts import find_about
from storage.db import Store

# Who is typing, where, and the bot, as the handlers see them in the console.
CONSOLE_USER_ID = "U0YOU"
CONSOLE_CHANNEL_ID = "C0CONSOLE"
CONSOLE_BOT_USER_ID = "U0BOT"
QUIT = {"quit", "exit", "q", ":q"}
SHORTCUT = "shortcut"  # "shortcut <message>": the message shortcut on that message


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
        if self.console.buttons_ts is None:  # the buttons were the preview's: gone with it
            self.console.buttons = []
        self.console.say(self.console.style.dim("(preview dismissed)"))

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        where = (
            "in the thread, visible to everyone"
            if thread_ts
            else ("in #console, visible to everyone")
        )
        ts = f"{next(self.console.ts)}.000100"
        self.console.show(message, where, private=False, ts=ts, thread_ts=thread_ts)
        return ts

    async def post_here(self, message: Message) -> None:
        await self.post(CONSOLE_CHANNEL_ID, message)

    async def read_message(self, channel: str, ts: str) -> str:
        if not self.console.last_message:
            raise CannotRead("no message above: type one first")
        return self.console.last_message

    async def display_name(self, user_id: str) -> str | None:
        return "you" if user_id == CONSOLE_USER_ID else None


class Console:
    """A read-eval-print loop over the handlers. ``out`` is where everything is written."""

    def __init__(self, settings: Settings, deps: Deps, *, out: TextIO, style: Style):
        self.settings = settings
        self.deps = deps
        self.out = out
        self.style = style
        self.buttons: list[dict[str, Any]] = []
        # The message the numbered buttons are on (a public one has a ts; votes name it) and
        # the thread it is in (Share posts there).
        self.buttons_ts: str | None = None
        self.buttons_thread: str | None = None
        self.thread_ts: str | None = None  # the thread of the last message typed
        self.last_message = ""  # what a bare @bot in its thread asks about
        self.ts = itertools.count(1700000001)
        self.outbox = ConsoleOutbox(self)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(
        self,
        message: Message,
        label: str,
        *,
        private: bool,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        buttons = message.buttons()
        self.say(self.style.dim(f"── episode-bot · {label} ──"))
        self.say(render_for_terminal(message, self.style))
        self.say("")
        if buttons:  # a note without buttons (a vote's thanks) leaves the last ones pressable
            self.buttons = buttons
            self.buttons_ts = None if private else ts
            if not private:
                self.buttons_thread = thread_ts

    def ask(
        self, *, thread_ts: str | None = None, message_ts: str | None = None,
        source: Source = Source.CONSOLE,
    ) -> Ask:  # fmt: skip
        return Ask(
            self.deps, self.outbox, CONSOLE_USER_ID, CONSOLE_CHANNEL_ID, source,
            thread_ts, message_ts,
        )  # fmt: skip

    def new_message(self, text: str) -> str:
        """A message typed into #console: it starts a thread a bare @bot can answer."""
        self.last_message = text
        self.thread_ts = f"{next(self.ts)}.000100"
        return self.thread_ts

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
            ask = self.ask(thread_ts=self.buttons_thread, message_ts=self.buttons_ts)
            await guarded(ask, "button", lambda: press(ask, el["action_id"], el.get("value")))
        elif line.lower().startswith(SHORTCUT + " ") or line.lower() == SHORTCUT:
            # The message shortcut on a message typed here: "shortcut how do I learn k8s?"
            text = line[len(SHORTCUT) :].strip()
            thread = self.new_message(text)
            self.buttons_thread = thread
            ask = self.ask(thread_ts=thread, source=Source.SHORTCUT)
            self.say(self.style.dim("(⋮ → Find episodes about this, on that message)"))
            await guarded(ask, "shortcut", lambda: find_about(ask, question_text(text)))
        elif line.startswith("/"):
            name, _, text = line.partition(" ")
            if name != command:
                self.say(
                    f"Unknown command {name}; this bot answers {command} (try {command} help)."
                )
                return True
            await guarded(ask, "slash command", lambda: run_command(ask, text))
        else:
            # "@bot question" is a mention, answered in a thread; anything else is a DM. A bare
            # "@bot" is a mention in the thread of the last message typed: it answers that.
            mention = re.match(r"^@\S+\s*", line)
            text = line[mention.end() :] if mention else line
            question = question_text(text, CONSOLE_BOT_USER_ID)
            if mention and not question and self.thread_ts:
                thread = self.thread_ts
                ask = self.ask(thread_ts=thread)
                await guarded(ask, "mention", lambda: answer_thread(ask, thread, thread_ts=thread))
                return True
            thread = self.new_message(text) if mention else None
            if not mention:
                self.new_message(text)
            ask = self.ask(thread_ts=thread)
            await guarded(ask, "question", lambda: answer_question(ask, question, thread_ts=thread))
        return True

    def banner(self) -> str:
        command = self.deps.settings.slash_command
        return "\n".join([
            self.style.bold("episode-bot console") + f" — the Slack app's answers, on "
            f"{self.settings.database_path}",
            f"Type {command} argo · {command} help · @bot what is devrel? · a question · "
            "shortcut <a message> (Find episodes about this) · @bot alone (answers the last "
            "message) · a number to press a button · quit",
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
