"""What the ``digest`` subcommand needs from the poster bot/ gives it, as protocols.

bot.scheduler's ``Poster`` posts the digest once and only once; handlers get one through
``Deps.digest_poster`` and describe its results, without importing bot (layers go one way).
:class:`PostStatus` lives here, below both, so the two sides compare the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from enum import StrEnum
from typing import Any, Protocol

from storage.activity import Digest
from storage.db import Store


class PostStatus(StrEnum):
    """What one attempt to post did (the values appear in logs and the CLI's output)."""

    POSTED = "posted"
    ALREADY = "already"  # posted before: the result's ts is that post's
    RECOVERED = "recovered"  # an interrupted post turned out to have reached Slack
    SKIPPED = "skipped"  # an empty week, or a batch too large to announce
    BUSY = "busy"  # another process is posting it
    NOT_DUE = "not_due"
    UNCERTAIN = "uncertain"  # interrupted; may or may not have reached Slack; not reposted
    FAILED = "failed"  # Slack refused or could not be reached; the detail says why


class DigestSchedule(Protocol):
    """When the digest goes out (bot.schedule.Schedule): its time zone and a description."""

    @property
    def timezone(self) -> tzinfo: ...

    def describe(self) -> str: ...


class DigestPostResult(Protocol):
    """What one attempt to post the digest did (bot.scheduler.PostResult)."""

    @property
    def status(self) -> PostStatus: ...
    @property
    def key(self) -> str: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def detail(self) -> str | None: ...


class DigestPoster(Protocol):
    """Previews and posts the digest once (bot.scheduler.Poster)."""

    @property
    def schedule(self) -> DigestSchedule: ...

    async def preview(self) -> Digest: ...

    async def post_digest(self, *, force: bool = False) -> DigestPostResult: ...


# (the open store, the Slack Web API client or None) -> a poster; bot/ binds its settings in.
DigestPosterFactory = Callable[[Store, Any], DigestPoster]
