"""Time as people read it and as the database stores it: ``14:22`` into an episode, instants
as ISO text, ISO weeks."""

from __future__ import annotations

from datetime import UTC, datetime


def clock(seconds: float) -> str:
    """``seconds`` into the episode as ``M:SS``, or ``H:MM:SS`` from an hour on.

    Example:
        >>> clock(862), clock(3723), clock(-1)
        ('14:22', '1:02:03', '0:00')
    """
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def iso(moment: datetime) -> str:
    """The timestamp form the database stores (UTC, seconds): ``2026-11-23T09:00:00+00:00``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (UTC or the digest's time zone)")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def week_key(moment: datetime) -> str:
    """The ISO week of an aware local time: ``2026-W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
