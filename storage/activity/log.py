"""What members do with the bot: events answered, searches made (and a member's own recent
ones), quotes shared."""

from __future__ import annotations

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
            (event_id, store.stamp()),
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
        await conn.execute(
            SEARCH_SQL, (at or store.stamp(), user_id, channel_id, query, hits, source)
        )


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
            (at or store.stamp(), user_id, channel_id, episode_id, start, passage_id, query,
             message_ts),
        )  # fmt: skip


async def recent_searches(
    store: Store, user_id: str, *, limit: int = 5, sources: tuple[str, ...] = ()
) -> list[str]:
    """``user_id``'s own latest distinct searches, newest first (no one else's, ever).

    ``sources``: only searches made there (search_log.source); empty, from anywhere.
    Searches that differ only in case or spacing count once, as last typed.
    """
    if not user_id or limit <= 0:
        return []
    where, params = "", []
    if sources:
        where = f" AND source IN ({', '.join('?' for _ in sources)})"
        params = list(sources)
    seen: dict[str, str] = {}
    # Newest first, in bounded batches: a member who repeats one search a thousand times
    # still gets their other searches listed.
    async with store.reading() as conn:
        async with conn.execute(
            "SELECT query FROM search_log WHERE user_id = ?"  # noqa: S608 - placeholders only
            f"{where} ORDER BY at DESC, id DESC LIMIT 500",
            (user_id, *params),
        ) as cur:
            async for (query,) in cur:
                key = " ".join(query.split()).casefold()
                if key and key not in seen:
                    seen[key] = " ".join(query.split())
                    if len(seen) >= limit:
                        break
    return list(seen.values())
