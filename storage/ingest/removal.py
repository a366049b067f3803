"""Taking episodes out of the catalogue: every row of theirs, in one transaction."""

from __future__ import annotations

from pathlib import Path

from storage.db import Store


async def remove_episodes(store: Store, episode_ids: list[str]) -> list[str]:
    """Delete these episodes and everything stored for them; returns the ids that existed.

    One transaction for all of them: the episode rows (their chapters, segments, passages and
    the full-text index, word times and speakers go with them: foreign keys and triggers),
    caption tracks linked to them, their arrival (digest, announcements), shares and archive
    quotes. Search's cached vocabulary notices (the episodes triggers bump its generation).
    The posts ledger is kept: an announcement made stays made. A feed item that was one of
    these episodes is marked removed, so the next poll does not bring it back.

    Example:
        >>> await remove_episodes(store, ["talk-42"])  # doctest: +SKIP
        ['talk-42']
    """
    removed = []
    async with store.transaction() as conn:
        for episode_id in dict.fromkeys(episode_ids):
            cur = await conn.execute("DELETE FROM episodes WHERE id = ?", (episode_id,))
            if cur.rowcount == 0:
                continue
            removed.append(episode_id)
            await conn.execute(
                "DELETE FROM caption_tracks WHERE episode_id = ? OR id = ?",
                (episode_id, episode_id),
            )
            for table in ("digest_arrivals", "shares", "archive_quotes", "search_speakers"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE episode_id = ?",  # noqa: S608 - fixed names
                    (episode_id,),
                )
            await conn.execute(
                "UPDATE feed_items SET removed_at = ? WHERE episode_id = ?",
                (store.stamp(), episode_id),
            )
    return removed


async def episodes_from(store: Store, folder: Path) -> list[str]:
    """The ids of the episodes ingested from files inside ``folder`` (the demo: ``examples/``)."""
    rows = await store.fetchall("SELECT id, source_path FROM episodes ORDER BY id")
    folder = folder.resolve()
    return [r["id"] for r in rows if Path(r["source_path"]).is_relative_to(folder)]
