"""The once-only post ledger: each digest (key: ISO week) and each new-episode announcement
(key: episode id) is claimed before it is posted and confirmed with its message ts after, and the
announcement watermark says which arrivals were already considered.

``digest_arrivals`` keeps when each episode first arrived, which re-ingesting never changes.
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
    interrupted) or skipped (a week deliberately not posted: no channel, no ts)."""

    kind: str
    key: str
    channel: str | None
    ts: str | None
    posted_at: str

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
    return PostRecord(row["kind"], row["key"], row["channel"], row["ts"], row["posted_at"])


async def get_post(store: Store, kind: str, key: str) -> PostRecord | None:
    return _record(
        await store.fetchone(
            "SELECT kind, key, channel, ts, posted_at FROM posts WHERE kind = ? AND key = ?",
            (kind, key),
        )
    )


async def last_digest(store: Store, *, before: datetime | None = None) -> PostRecord | None:
    """The most recent digest actually posted (before ``before``, if given)."""
    sql = (
        "SELECT kind, key, channel, ts, posted_at FROM posts"
        " WHERE kind = 'digest' AND ts IS NOT NULL"
    )
    params: tuple = ()
    if before is not None:
        sql += " AND posted_at < ?"
        params = (iso(before),)
    return _record(await store.fetchone(sql + " ORDER BY posted_at DESC LIMIT 1", params))


async def claim_post(
    store: Store,
    kind: str,
    key: str,
    channel: str,
    *,
    now: datetime,
    stale_after: timedelta,
    over_skip: bool = False,
) -> Claim:
    """Claim the right to post (kind, key), atomically across processes.

    Run before posting; the row it writes says "a post is under way". A claim older than
    ``stale_after`` with no ts means its poster died between claiming and confirming.
    ``over_skip`` lets an explicit request post a week that was skipped as empty.

    Example:
        >>> claim = await claim_post(store, "digest", "2026-W48", "C1", now=now,
        ...                          stale_after=timedelta(minutes=5))  # doctest: +SKIP
        >>> claim.status                                                  # doctest: +SKIP
        'claimed'
    """
    async with store.transaction() as conn:
        async with conn.execute(
            "SELECT kind, key, channel, ts, posted_at FROM posts WHERE kind = ? AND key = ?",
            (kind, key),
        ) as cur:
            record = _record(await cur.fetchone())
        if record is None:
            await conn.execute(
                "INSERT INTO posts(kind, key, channel, ts, posted_at) VALUES (?, ?, ?, NULL, ?)",
                (kind, key, channel, iso(now)),
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
) -> None:
    """Record the posted message's ts (and the archive quote it used) in one transaction."""
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE posts SET channel = ?, ts = ?, posted_at = ? WHERE kind = ? AND key = ?",
            (channel, ts, iso(now), kind, key),
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


async def record_skip(store: Store, kind: str, key: str, *, now: datetime) -> bool:
    """Record (kind, key) as deliberately not posted; False if a row already exists."""
    async with store.transaction() as conn:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO posts(kind, key, channel, ts, posted_at)"
            " VALUES (?, ?, NULL, NULL, ?)",
            (kind, key, iso(now)),
        )
        return cur.rowcount == 1


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
