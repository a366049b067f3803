"""The weekly digest's schedule: ``DIGEST_SCHEDULE`` and ``DIGEST_TIMEZONE`` read into run times.

:class:`Schedule` turns ``mon 09:00`` or a cron expression into APScheduler's ``CronTrigger``,
which keeps 09:00 at 09:00 local time across daylight-saving changes. A leaf: bot/config.py checks
settings with it without loading Slack, the handlers or the database (bot/scheduler.py uses it
to post).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.clock import week_key

# APScheduler is loaded when a schedule is built, not when settings are checked: a one-off
# `python -m bot search` reads the settings too and has no use for it.
if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    "mon": "Mondays", "tue": "Tuesdays", "wed": "Wednesdays", "thu": "Thursdays",
    "fri": "Fridays", "sat": "Saturdays", "sun": "Sundays",
}  # fmt: skip
_SIMPLE = re.compile(r"^\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$", re.I)
_CRON_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")  # cron: 0 and 7 are Sunday


class ScheduleError(ValueError):
    """DIGEST_SCHEDULE or DIGEST_TIMEZONE cannot be used; the message says what to write."""


def parse_timezone(name: str) -> ZoneInfo:
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            "must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York"
        ) from None


def _cron_day_of_week(field: str) -> str:
    """Standard cron's day-of-week numbers (0 or 7 = Sunday) as names APScheduler reads right.

    APScheduler 3 counts 0 as Monday, so ``0 9 * * 1`` would silently mean Tuesday.
    """
    if not re.search(r"\d", field):
        return field
    days: set[int] = set()
    for item in field.split(","):
        m = re.fullmatch(r"(\*|\d)(?:-(\d))?(?:/(\d+))?", item)
        if not m:
            raise ScheduleError(
                "day of week: use 0-7 (0 and 7 are Sunday) or mon..sun, with - , and /"
            )
        lo, hi, step = m[1], m[2], int(m[3] or 1)
        first, last = (0, 6) if lo == "*" else (int(lo), int(hi) if hi else int(lo))
        if m[3] and lo != "*" and not hi:
            last = 7  # "5/2": from Friday on, every other day
        if not 0 <= first <= 7 or not 0 <= last <= 7 or first > last or step < 1:
            raise ScheduleError("day of week: numbers go from 0 to 7 (0 and 7 are Sunday)")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_CRON_DOW[d] for d in sorted(days))


def _simple(text: str) -> tuple[str, int, int] | None:
    """``mon 09:00`` read as (day, hour, minute); None for anything else (cron fields)."""
    simple = _SIMPLE.match(text)
    if not simple:
        return None
    day, hour, minute = simple[1].lower(), int(simple[2]), int(simple[3])
    if day not in _DAYS or not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(
            "write a weekday and a 24-hour time, such as 'mon 09:00' or 'fri 16:30'"
        )
    return day, hour, minute


def check_schedule(text: str, timezone: str = "UTC") -> None:
    """Raise :class:`ScheduleError` if :meth:`Schedule.parse` would. A weekday and a time are
    checked by themselves; only cron fields need APScheduler's reading."""
    parse_timezone(timezone)
    if _simple(" ".join((text or "").split())) is None:
        Schedule.parse(text, timezone)


@dataclass(frozen=True)
class Schedule:
    """When the weekly digest goes out.

    Example:
        >>> s = Schedule.parse("mon 09:00", "Europe/Berlin")
        >>> s.next_run(datetime(2026, 10, 20, tzinfo=UTC)).isoformat()
        '2026-10-26T09:00:00+01:00'
        >>> s.describe()
        'Mondays at 09:00 (Europe/Berlin)'
    """

    text: str
    timezone: ZoneInfo
    trigger: CronTrigger

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> Schedule:
        """``mon 09:00`` (a weekday and a 24-hour time) or five cron fields (``0 9 * * 1``)."""
        from apscheduler.triggers.cron import CronTrigger

        tz = parse_timezone(timezone)
        text = " ".join((text or "").split())
        simple = _simple(text)
        try:
            if simple:
                day, hour, minute = simple
                trigger = CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz)
            else:
                fields = text.split(" ")
                if len(fields) != 5:
                    raise ScheduleError(
                        "write a weekday and a time such as 'mon 09:00', or five cron fields "
                        "(minute hour day month weekday) such as '0 9 * * 1'"
                    )
                minute, hour, day, month, dow = fields
                trigger = CronTrigger(
                    minute=minute, hour=hour, day=day, month=month,
                    day_of_week=_cron_day_of_week(dow.lower()), timezone=tz,
                )  # fmt: skip
        except ScheduleError:
            raise
        except ValueError as exc:
            raise ScheduleError(f"not a valid cron expression ({exc})") from None
        schedule = cls(text, tz, trigger)
        if schedule.next_run(datetime(2000, 1, 1, tzinfo=UTC)) is None:
            raise ScheduleError("this schedule never runs")
        return schedule

    def next_run(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after`` (an aware datetime), in the schedule's zone."""
        return self.trigger.get_next_fire_time(None, after + timedelta(microseconds=1))

    def week_start(self, moment: datetime) -> datetime:
        """Monday 00:00 local time of the ISO week ``moment`` falls in."""
        local = moment.astimezone(self.timezone)
        monday = local.date() - timedelta(days=local.weekday())
        return datetime.combine(monday, time(0), tzinfo=self.timezone)

    def week_of(self, moment: datetime) -> str:
        """The ISO week (``2026-W49``) of ``moment`` in the schedule's time zone."""
        return week_key(moment.astimezone(self.timezone))

    def due(self, now: datetime) -> datetime | None:
        """This week's first scheduled run if it is at or before ``now``, else None.

        Only the current week counts: after a long outage the bot posts this week's digest
        (late), never last week's.
        """
        first = self.trigger.get_next_fire_time(None, self.week_start(now))
        if first is None or first > now or self.week_of(first) != self.week_of(now):
            return None
        return first

    def describe(self) -> str:
        simple = _SIMPLE.match(self.text)
        if simple:
            day = _DAY_NAMES[simple[1].lower()[:3]]
            return f"{day} at {int(simple[2]):02d}:{simple[3]} ({self.timezone.key})"
        return f"cron '{self.text}' ({self.timezone.key})"
