"""Time as people read it and as the database stores it: ``14:22`` into an episode, clock
times and dates read from files and queries, instants in the one form the database stores them
(:func:`iso`), the clock a store reads the time from, ISO weeks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

_CLOCK_TEXT = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})(\.\d+)?")
_ISO_DURATION = re.compile(r"PT?(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", re.I)
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.+Z-]*)?")
_PERIOD = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")


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


def exact_clock(seconds: float) -> str:
    """``seconds`` as ``H:MM:SS`` with its fraction, for messages about a file's times.

    Unlike :func:`clock` it keeps the hours and the fraction: a message must show the value
    the file holds.

    >>> exact_clock(3723.5), exact_clock(59)
    ('1:02:03.5', '0:00:59')
    """
    whole = int(seconds)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    frac = f"{seconds - whole:.3f}"[1:].rstrip("0").rstrip(".")
    return f"{h}:{m:02d}:{s:02d}{frac}"


def clock_seconds(
    hours: str | None,
    minutes: str,
    seconds: str,
    fraction: str | None = None,
    *,
    negative: bool = False,
) -> float:
    """Seconds from the digits of a clock time as a format's own pattern captured them.

    >>> clock_seconds("1", "02", "03", "5"), clock_seconds(None, "0", "07", "250", negative=True)
    (3723.5, -7.25)
    """
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if fraction:
        value += int(fraction) / 10 ** len(fraction)
    return -float(value) if negative else float(value)


def parse_clock(text: str, *, fraction: bool = False) -> int | None:
    """Whole seconds of ``H:MM:SS`` or ``M:SS`` text; None when it is not one.

    A decimal fraction (``4:10.5``) is accepted, and dropped, only with ``fraction``.

    >>> parse_clock("1:02:03"), parse_clock(" 4:10 "), parse_clock("4:10.5", fraction=True)
    (3723, 250, 250)
    """
    m = _CLOCK_TEXT.fullmatch(text.strip())
    if m is None or (m[4] and not fraction):
        return None
    return int(m[1] or 0) * 3600 + int(m[2]) * 60 + int(m[3])


def iso_duration(text: str) -> float | None:
    """Seconds of an ISO-8601 duration (``PT1H2M3S``, ``PT57M52S``); None when it is not one.

    >>> iso_duration("PT00H57M52S")
    3472.0
    """
    m = _ISO_DURATION.fullmatch(text.strip())
    if m and any(m.groups()):
        h, mi, s = m.groups()
        return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    return None


def iso_date(value: object, *, checked: bool = True) -> str | None:
    """A date, a datetime or ISO text as ``YYYY-MM-DD``; None when it is not one.

    Text is ``YYYY-MM-DD``, maybe with a time after it, and must be a real date. Unchecked
    (``checked=False``, for a site's own front matter, read as written): any text that starts
    with ``YYYY-MM-DD`` gives those ten characters.

    >>> iso_date("2024-03-12T10:00:00Z"), iso_date("2024-02-30"), iso_date(date(2024, 5, 2))
    ('2024-03-12', None, '2024-05-02')
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not checked:
        m = _ISO_DAY.match(value.strip()) if isinstance(value, str) else None
        return m[1] if m else None
    m = _ISO_DAY.fullmatch(str(value).strip())
    if m:
        try:
            return date.fromisoformat(m[1]).isoformat()
        except ValueError:
            pass
    return None


def period_bound(text: str, *, end: bool) -> str | None:
    """``2023``, ``2023-06`` or ``2023-06-30`` as an ISO date: the first day of that period,
    or with ``end`` the last. None when it is not a date.

    >>> period_bound("2024-02", end=True), period_bound("2023", end=False)
    ('2024-02-29', '2023-01-01')
    """
    m = _PERIOD.match(text.strip())
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    try:
        if day:
            return date(year, month, day).isoformat()
        if month:
            first = date(year, month, 1)
            if not end:
                return first.isoformat()
            nxt = date(year + (month == 12), month % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1).isoformat()
        return date(year, 12, 31).isoformat() if end else date(year, 1, 1).isoformat()
    except ValueError:
        return None


Clock = Callable[[], datetime]
"""A source of the current time, aware; the store carries one so tests can set the time."""


def utc_now() -> datetime:
    """The machine's time, aware, in UTC: the default :data:`Clock`."""
    return datetime.now(UTC)


# One form for every instant the database stores: UTC, to the microsecond, fixed width
# (``2026-12-01T06:25:45.123456+00:00``), so comparing two of them as text (in SQL, in an index)
# is comparing them as instants. Second-precision text made an event in the same second as a
# digest's end equal to it, and so outside its half-open window (issue 15).
def iso(moment: datetime) -> str:
    """An instant as the database stores it: UTC, microseconds, fixed width.

    >>> iso(datetime(2026, 12, 1, 6, 25, 45, 120000, tzinfo=UTC))
    '2026-12-01T06:25:45.120000+00:00'
    >>> iso(datetime(2026, 12, 1, tzinfo=UTC)) < iso(datetime(2026, 12, 1, 0, 0, 0, 1, tzinfo=UTC))
    True
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (UTC or the digest's time zone)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """An instant read back from the database (or any ISO text; no offset means UTC).

    >>> parse_iso("2026-12-01T06:25:45.120000+00:00") == parse_iso("2026-12-01T07:25:45.12+01:00")
    True
    """
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def week_key(moment: datetime) -> str:
    """The ISO week of an aware local time: ``2026-W48``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"
