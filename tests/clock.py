"""A clock tests set and move; the store (and so ingest, the logs, the digest) reads it."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """Injected time: tests move it; the code under test reads it.

    Example:
        >>> clock = Clock(datetime(2026, 11, 30, 9, tzinfo=UTC))  # doctest: +SKIP
        >>> store = await Store.open(path, clock=clock)            # doctest: +SKIP
    """

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)``; the new time."""
        self.now += timedelta(**delta)
        return self.now
