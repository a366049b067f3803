"""The handlers in-process, errbot-style: an ``Ask`` whose answers land in a recording outbox.

No Slack, no HTTP: a test calls ``run_command(ask, "latest")`` or ``press(ask, ...)`` and reads
what the handler sent from ``outbox.sent``. The signed-HTTP tests in tests/bot cover the wiring.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers.context import Ask, CannotPost, CannotRead, Deps, HandlerSettings, Source
from handlers.render import Message
from storage.db import Store

ASKER = "U0ASKER"
CHANNEL = "C0GENERAL"


@dataclass(frozen=True)
class Sent:
    """One thing a handler sent: ``kind`` is the Outbox method (private, post, post_here,
    delete_private)."""

    kind: str
    message: Message | None = None
    replace: bool = False
    channel: str | None = None
    thread_ts: str | None = None


class RecordingOutbox:
    """An :class:`handlers.context.Outbox` that records instead of sending.

    ``refuse``: the kinds ("post", "post_here") that raise CannotPost, as Slack does where the
    bot may not post; ``refusal`` is the reason given. ``messages`` are the conversation's
    messages the bot may read (ts -> text); others raise CannotRead. ``names``: users.info.
    """

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refuse: set[str] = set()
        self.refusal = "channel_not_found"
        self.messages: dict[str, str] = {}
        self.names: dict[str, str] = {"U0ASKER": "Ana Asker"}
        self._ts = 1700000001

    async def private(self, message: Message, *, replace: bool = False) -> None:
        self.sent.append(Sent("private", message, replace=replace))

    async def delete_private(self) -> None:
        self.sent.append(Sent("delete_private"))

    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        if "post" in self.refuse:
            raise CannotPost(self.refusal)
        self.sent.append(Sent("post", message, channel=channel, thread_ts=thread_ts))
        self._ts += 1
        return f"{self._ts}.000100"

    async def post_here(self, message: Message) -> None:
        if "post_here" in self.refuse:
            raise CannotPost("response URL answered 404")
        self.sent.append(Sent("post_here", message))

    async def read_message(self, channel: str, ts: str) -> str:
        if ts not in self.messages:
            raise CannotRead("missing_scope")
        return self.messages[ts]

    async def display_name(self, user_id: str) -> str | None:
        return self.names.get(user_id)

    def only(self) -> Sent:
        """The one thing sent (fails when there were none or several)."""
        assert len(self.sent) == 1, [s.kind for s in self.sent]
        return self.sent[0]

    def last(self) -> Sent:
        assert self.sent, "nothing was sent"
        return self.sent[-1]


@pytest.fixture
async def corpus_store(corpus_db: Path, tmp_path: Path):
    """A copy of the 200-episode corpus database this test may write to (searches, shares)."""
    path = tmp_path / "handlers.db"
    shutil.copy(corpus_db, path)
    async with await Store.open(path) as store:
        yield store


@pytest.fixture
def outbox() -> RecordingOutbox:
    return RecordingOutbox()


@pytest.fixture
async def ask(corpus_store: Store, outbox: RecordingOutbox):
    """U0ASKER typing ``/episodes ...`` in C0GENERAL, with the default settings."""
    deps = Deps(corpus_store, HandlerSettings())
    yield Ask(deps, outbox, ASKER, CHANNEL, Source.SLASH)
    await deps.activity.close()
