"""The once-only post ledger: each digest (key: ISO week) and each new-episode announcement
(key: episode id) is claimed before it is posted and confirmed with its message ts after, and the
announcement watermark says which arrivals were already considered.

``digest_arrivals`` keeps when each episode first arrived, which re-ingesting never changes.

Each digest row also keeps where its window ended (``window_until``): the next digest's window
starts exactly there, so consecutive digests tile time, half-open, with no gap and no overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from storage.clock import iso, parse_iso
from storage.db import Store


class UsedQuote(Protocol):
    """What the ledger keeps of an archive quote a digest carried (``ArchiveQuote`` is one)."""

    episode_id: str
    start: float
    text_key: str


# --- once-only posts --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostRecord:
    """A row of ``posts``. ``state``: posted (has a ts), claimed (a post is under way or was
    interrupted) or skipped (a week deliberately not posted: no channel, no ts).
    ``window_until``: for a digest, the end of the window [since, until) its message covers."""

    kind: str
    key: str
    channel: str | None
    ts: str | None
    posted_at: str
    window_until: str | None = None

    @property
    def state(self) -> str:
        if self.ts:
            return "posted"
        return "claimed" if self.channel else "skipped"


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim_post`.

    ``status``: ``claimed`` (post now), ``stale`` (an earlier claim was never confirmed; the
    caller owns it now and must find out whether that post reached Slack before posting),
    ``posted``, ``skipped`` or ``busy`` (another process claimed it moments ago).
    ``record`` is the row as it was before this call, if there was one.
    """

    status: str
    record: PostRecord | None = None


def _record(row) -> PostRecord | None:  # noqa: ANN001
    if row is None:
        return None
    return PostRecord(
        row["kind"], row["key"], row["channel"], row["ts"], row["posted_at"], row["window_until"]
    )


_COLUMNS = "kind, key, channel, ts, posted_at, window_until"


async def get_post(store: Store, kind: str, key: str) -> PostRecord | None:
    return _record(
        await store.fetchone(
            f"SELECT {_COLUMNS} FROM posts WHERE kind = ? AND key = ?",  # noqa: S608 - constant
            (kind, key),
        )
    )


async def last_digest(store: Store, *, until: datetime) -> PostRecord | None:
    """The digest run that the window of a digest ending at ``until`` follows: the latest one
    posted or skipped whose own window ended at or before ``until``. A claim still under way
    (or never confirmed) is not a run yet."""
    return _record(
        await store.fetchone(
            f"SELECT {_COLUMNS} FROM posts WHERE kind = 'digest'"  # noqa: S608 - constant columns
            " AND (ts IS NOT NULL OR channel IS NULL)"
            " AND window_until IS NOT NULL AND window_until <= ?"
            " ORDER BY window_until DESC LIMIT 1",
            (iso(until),),
        )
    )


async def claim_post(
    store: Store,
    kind: str,
    key: str,
    channel: str,
    *,
    now: datetime,
    stale_after: timedelta,
    over_skip: bool = False,
    window_until: datetime | None = None,
) -> Claim:
    """Claim the right to post (kind, key), atomically across processes.

    Run before posting; the row it writes says "a post is under way". A claim older than
    ``stale_after`` with no ts means its poster died between claiming and confirming.
    ``over_skip`` lets an explicit request post a week that was skipped as empty.
    ``window_until`` (a digest) is where the window of the message about to go out ends; a
    new claim records it (by default ``now``), so a run that finds the post after a crash knows
    what it covered.

    Example:
        >>> claim = await claim_post(store, "digest", "2026-W48", "C1", now=now,
        ...                          stale_after=timedelta(minutes=5))  # doctest: +SKIP
        >>> claim.status                                                  # doctest: +SKIP
        'claimed'
    """
    if kind == "digest" and window_until is None:
        window_until = now
    async with store.transaction() as conn:
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM posts WHERE kind = ? AND key = ?",  # noqa: S608 - constant
            (kind, key),
        ) as cur:
            record = _record(await cur.fetchone())
        if record is None:
            await conn.execute(
                "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until)"
                " VALUES (?, ?, ?, NULL, ?, ?)",
                (kind, key, channel, iso(now), _iso_or_none(window_until)),
            )
            return Claim("claimed")
        state = record.state
        if state == "posted":
            return Claim("posted", record)
        if state == "skipped" and not over_skip:
            return Claim("skipped", record)
        if state == "claimed" and parse_iso(record.posted_at) > now - stale_after:
            return Claim("busy", record)
        await conn.execute(
            "UPDATE posts SET channel = ?, posted_at = ? WHERE kind = ? AND key = ?",
            (channel, iso(now), kind, key),
        )
        return Claim("claimed" if state == "skipped" else "stale", record)


async def confirm_post(
    store: Store,
    kind: str,
    key: str,
    channel: str,
    ts: str,
    *,
    now: datetime,
    archive: UsedQuote | None = None,
    window_until: datetime | None = None,
) -> None:
    """Record the posted message's ts (and the archive quote it used) in one transaction.

    ``window_until``: where the window of the message that went out ends (a digest).
    """
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE posts SET channel = ?, ts = ?, posted_at = ?,"
            " window_until = coalesce(?, window_until) WHERE kind = ? AND key = ?",
            (channel, ts, iso(now), _iso_or_none(window_until), kind, key),
        )
        if archive is not None:
            await conn.execute(
                "INSERT INTO archive_quotes(episode_id, start, text_key, used_at)"
                " VALUES (?, ?, ?, ?)",
                (archive.episode_id, archive.start, archive.text_key, iso(now)),
            )


async def restore_claim(store: Store, record: PostRecord) -> None:
    """Put back a taken-over claim's original time (its post is still unaccounted for)."""
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE posts SET channel = ?, posted_at = ? WHERE kind = ? AND key = ? AND ts IS NULL",
            (record.channel, record.posted_at, record.kind, record.key),
        )


async def release_post(store: Store, kind: str, key: str) -> None:
    """Give a claim back after Slack said no (nothing was posted), so a later try can post."""
    async with store.transaction() as conn:
        await conn.execute(
            "DELETE FROM posts WHERE kind = ? AND key = ? AND ts IS NULL", (kind, key)
        )


async def record_skip(
    store: Store, kind: str, key: str, *, now: datetime, window_until: datetime | None = None
) -> bool:
    """Record (kind, key) as deliberately not posted; False if a row already exists.

    A skipped digest still ends a window (``window_until``, by default ``now``): the next
    digest starts where it ended, so the week it looked at and found empty is not read twice.
    """
    if kind == "digest" and window_until is None:
        window_until = now
    async with store.transaction() as conn:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO posts(kind, key, channel, ts, posted_at, window_until)"
            " VALUES (?, ?, NULL, NULL, ?, ?)",
            (kind, key, iso(now), _iso_or_none(window_until)),
        )
        return cur.rowcount == 1


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


# --- new-episode announcements ----------------------------------------------------------------

WATERMARK = "announce_watermark"


async def announce_watermark(store: Store) -> int:
    """The arrival after which the serving bot announces; set to "now" the first time asked,
    so a bot started on a full catalogue announces none of it."""
    async with store.transaction() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO digest_state(name, value)"
            " SELECT ?, coalesce(max(seq), 0) FROM digest_arrivals",
            (WATERMARK,),
        )
        async with conn.execute(
            "SELECT value FROM digest_state WHERE name = ?", (WATERMARK,)
        ) as cur:
            row = await cur.fetchone()
    return int(row["value"])


async def advance_watermark(store: Store, seq: int) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE digest_state SET value = max(CAST(value AS INTEGER), ?) WHERE name = ?",
            (seq, WATERMARK),
        )


@dataclass(frozen=True)
class Arrival:
    seq: int
    episode_id: str
    arrived_at: str


async def arrivals_after(store: Store, seq: int) -> list[Arrival]:
    """Episodes that arrived after ``seq`` and were never announced, oldest first."""
    rows = await store.fetchall(
        "SELECT a.seq, a.episode_id, a.arrived_at FROM digest_arrivals a"
        " JOIN episodes e ON e.id = a.episode_id"
        " WHERE a.seq > ? AND NOT EXISTS (SELECT 1 FROM posts p"
        "  WHERE p.kind = 'announcement' AND p.key = a.episode_id AND p.ts IS NOT NULL)"
        " ORDER BY a.seq",
        (seq,),
    )
    return [Arrival(r["seq"], r["episode_id"], r["arrived_at"]) for r in rows]
