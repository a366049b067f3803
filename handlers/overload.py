"""Staying responsive under load: a bound on work in flight, and logs a flood cannot fill.

Bolt runs every request's listener in its own task, so without a bound a burst of slash commands
becomes an ever-growing backlog: acks still say "fine" while answers arrive minutes late and
memory climbs. :class:`Capacity` admits at most ``max_in_flight`` pieces of work at once, lets a
few more wait (``max_waiting``) and only for ``max_wait`` seconds; everything else raises
:class:`Busy` at once, and the asker is told privately to try again in a moment.

:class:`LogBudget` keeps one kind of log line (a refused request, a busy answer) to a few per
minute, then one line that counts the rest.

Example:
    >>> capacity = Capacity(max_in_flight=8)
    >>> async with capacity.slot():  # doctest: +SKIP
    ...     await answer()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

BUSY_TEXT = (
    ":hourglass_flowing_sand: I'm answering a lot of questions right now. "
    "Please try again in a moment."
)
# A request waits at most this long for a free slot, then it is answered "busy" instead of
# being answered late (Slack shows a slash command's answer whenever it comes; people don't wait).
MAX_WAIT_SECONDS = 2.0
# How many may wait for a slot, per slot.
WAITING_PER_SLOT = 2
DEFAULT_MAX_IN_FLIGHT = 8
# How many busy notices may be on their way at once, per slot.
NOTICES_PER_SLOT = 4


class Busy(Exception):
    """No room for this request now; tell the asker to try again in a moment."""


class Capacity:
    """At most ``max_in_flight`` pieces of work at once, a short queue, a deadline in it.

    ``in_flight``, ``waiting`` and ``peak_in_flight`` are there to be watched (tests, logs).
    """

    def __init__(
        self,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        *,
        max_waiting: int | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
    ):
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.max_waiting = WAITING_PER_SLOT * max_in_flight if max_waiting is None else max_waiting
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(max_in_flight)
        self.in_flight = 0
        self.waiting = 0
        self.peak_in_flight = 0
        # Busy notices are work too (a Web API call, retried after a 429): bounded, never queued.
        self.max_notices = NOTICES_PER_SLOT * max_in_flight
        self.notices = 0

    def full(self) -> bool:
        """True when a new request could neither start nor wait: it would be answered busy."""
        return self._slots.locked() and self.waiting >= self.max_waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot while the block runs; :class:`Busy` when there is none to be had."""
        if self._slots.locked():
            if self.waiting >= self.max_waiting:
                raise Busy
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.max_wait)
            except TimeoutError:
                raise Busy from None
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()  # a slot is free: returns at once
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self._slots.release()

    @asynccontextmanager
    async def notice(self) -> AsyncIterator[None]:
        """Room to send one busy notice; :class:`Busy` when too many are already on their way
        (the notice is then left out: the flood is the asker's answer)."""
        if self.notices >= self.max_notices:
            raise Busy
        self.notices += 1
        try:
            yield
        finally:
            self.notices -= 1


class LogBudget:
    """Log at most ``per_window`` lines a ``window`` seconds, then one line counting the rest.

    The count of lines left out is logged with the first line of the next window, so a flood
    costs a few lines a minute whatever its size.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        per_window: int = 10,
        window: float = 60.0,
        level: int = logging.WARNING,
    ):
        self.logger = logger
        self.what = what
        self.per_window = per_window
        self.window = window
        self.level = level
        self._started = -float("inf")
        self._logged = 0
        self._left_out = 0

    def log(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._started >= self.window:
            if self._left_out:
                self.logger.log(
                    self.level,
                    "%d more %s in the last %.0f s (not logged one by one)",
                    self._left_out, self.what, now - self._started, stacklevel=2,
                )  # fmt: skip
            self._started, self._logged, self._left_out = now, 0, 0
        if self._logged < self.per_window:
            self._logged += 1
            self.logger.log(self.level, msg, *args, stacklevel=2)
        else:
            self._left_out += 1
