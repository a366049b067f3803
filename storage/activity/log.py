"""What members do with the bot: events answered, searches made, quotes shared."""

from __future__ import annotations

from storage.clock import now_iso
from storage.db import Store

SEARCH_SQL = (
    "INSERT INTO search_log(at, user_id, channel_id, query, hits, source) VALUES (?, ?, ?, ?, ?, ?)"
)
SHARE_SQL = (
    "INSERT INTO shares(at, user_id, channel_id, episode_id, start, passage_id, query,"
    " message_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


async def claim_event(store: Store, event_id: str) -> bool:
    """Record ``event_id`` as answered; False if it already was (a retry or a duplicate).

    Survives restarts because it lives in the database.
    """
    async with store.transaction() as conn:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO events_seen(event_id, seen_at) VALUES (?, ?)",
            (event_id, now_iso()),
        )
        return cur.rowcount == 1


async def record_search(
    store: Store,
    query: str,
    hits: int,
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
    source: str = "slash",
    at: str | None = None,
) -> None:
    async with store.transaction() as conn:
        await conn.execute(SEARCH_SQL, (at or now_iso(), user_id, channel_id, query, hits, source))


async def record_share(
    store: Store,
    episode_id: str,
    start: float,
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
    passage_id: int | None = None,
    query: str | None = None,
    message_ts: str | None = None,
    at: str | None = None,
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            SHARE_SQL,
            (at or now_iso(), user_id, channel_id, episode_id, start, passage_id, query,
             message_ts),
        )  # fmt: skip
