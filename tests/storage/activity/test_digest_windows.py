"""Digest windows at their edges (issue 15): every arrival, share and search counts in exactly
one digest, whatever instant it lands on, and a database from before the fix upgrades to that."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.db.store
from storage.activity.digest import WEEK, Digest, build_digest
from storage.activity.log import record_search, record_share
from storage.activity.posts import claim_post, confirm_post, record_skip
from storage.clock import iso
from storage.db import Store
from tests.clock import Clock
from tests.conftest import PODCAST, need_corpus

# Last week's digest window ended at T0; this week's run is at T1, next week's at T2.
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
T1 = T0 + WEEK
T2 = T1 + WEEK
LONG_AGO = datetime(2026, 1, 5, 10, tzinfo=UTC)
AT_SINCE = "devrel-open-source-machine-learning"  # arrives exactly at T0
AT_UNTIL = "crisp-dm"  # arrives exactly at T1
LEASE = timedelta(minutes=5)


@pytest.fixture
async def corpus_store(corpus_db: Path, tmp_path: Path):
    """A private copy of the ingested corpus; the back catalogue arrived in January."""
    path = tmp_path / "corpus.db"
    shutil.copy(corpus_db, path)
    store = await Store.open(path, clock=Clock(T0))
    async with store.transaction() as conn:
        await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (iso(LONG_AGO),))
    try:
        yield store
    finally:
        await store.close()


async def post_digest_run(store: Store, week: str, digest: Digest) -> None:
    """Record ``digest`` as posted, through the ledger, the way the Poster does."""
    claim = await claim_post(
        store, "digest", week, "C0DIGEST", now=digest.until, stale_after=LEASE,
        window_until=digest.until,
    )  # fmt: skip
    assert claim.status == "claimed"
    await confirm_post(
        store, "digest", week, "C0DIGEST", f"{digest.until.timestamp():.6f}",
        now=digest.until, window_until=digest.until,
    )  # fmt: skip


def counted(digest: Digest) -> tuple[set[str], set[str], int]:
    """(new episode ids, shared episode ids, searches) a digest counts."""
    return (
        {e.id for e in digest.new_episodes},
        {q.episode_id for q in digest.shared},
        digest.searches,
    )


async def test_events_exactly_at_since_and_at_until_count_in_one_digest_each(
    corpus_store: Store,
) -> None:
    store = corpus_store
    await post_digest_run(store, "2026-W48", await build_digest(store, now=T0))
    for episode_id, moment in ((AT_SINCE, T0), (AT_UNTIL, T1)):
        async with store.transaction() as conn:
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                (iso(moment), episode_id),
            )
        await record_share(store, episode_id, 600.0, user_id="U1", at=iso(moment))
        await record_search(store, f"search at {moment:%A}", 1, user_id="U1", at=iso(moment))

    this_week = await build_digest(store, now=T1, week="2026-W49")
    assert this_week.since == this_week.activity_since == T0 and this_week.until == T1
    assert counted(this_week) == ({AT_SINCE}, {AT_SINCE}, 1)
    await post_digest_run(store, "2026-W49", this_week)

    next_week = await build_digest(store, now=T2, week="2026-W50")
    assert next_week.since == next_week.activity_since == this_week.until
    assert counted(next_week) == ({AT_UNTIL}, {AT_UNTIL}, 1)


async def test_a_skipped_week_ends_a_window_too(corpus_store: Store) -> None:
    """A week found empty and skipped is not read again: the next window starts where it
    ended, and an event exactly there counts in the next digest."""
    store = corpus_store
    await post_digest_run(store, "2026-W48", await build_digest(store, now=T0))
    empty = await build_digest(store, now=T1, week="2026-W49")
    assert empty.is_empty
    assert await record_skip(store, "digest", "2026-W49", now=T1)
    await record_search(store, "right at the skip", 0, user_id="U1", at=iso(T1))
    after = await build_digest(store, now=T2, week="2026-W50")
    assert (after.since, after.activity_since, after.searches) == (T1, T1, 1)


async def test_ingest_and_preview_in_the_same_second(corpus_store: Store) -> None:
    """The issue's report: an episode ingested a moment before the digest is built, within the
    same second, is in it (it used to wait a week)."""
    from storage.ingest import ingest_paths

    store = corpus_store
    second = datetime(2026, 12, 1, 6, 25, 45, tzinfo=UTC)
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM episodes WHERE id = ?", (AT_UNTIL,))
        await conn.execute("DELETE FROM digest_arrivals WHERE episode_id = ?", (AT_UNTIL,))
    store.clock = Clock(second + timedelta(microseconds=400_000))
    report = await ingest_paths(store, [PODCAST / f"{AT_UNTIL}.md"])
    assert [o.status for o in report.outcomes] == ["added"]
    digest = await build_digest(store, now=second + timedelta(microseconds=400_001))
    assert [e.id for e in digest.new_episodes] == [AT_UNTIL]
    # Half-open: a window that ends at the very instant it was stamped leaves it to the next.
    before = await build_digest(store, now=second + timedelta(microseconds=400_000))
    assert before.new_episodes == ()


async def test_a_row_stamped_before_the_run_but_committed_after_is_waited_for(
    db_path: Path,
) -> None:
    """Another process stamped a search just before the digest's instant and is still in its
    transaction: the digest waits for it instead of leaving it out of this window (and, as
    the next one starts at this one's end, out of every window)."""
    stamp = datetime(2026, 11, 30, 8, 59, 59, 999_999, tzinfo=UTC)
    writer = await Store.open(db_path, clock=Clock(stamp))
    reader = await Store.open(db_path)
    release = asyncio.Event()
    stamped = asyncio.Event()

    async def slow_write() -> None:
        async with writer.transaction() as conn:
            await conn.execute(
                "INSERT INTO search_log(at, user_id, query, hits, source)"
                " VALUES (?, 'U1', 'late commit', 0, 'slash')",
                (writer.stamp(),),
            )
            stamped.set()
            await release.wait()

    try:
        writing = asyncio.create_task(slow_write())
        await asyncio.wait_for(stamped.wait(), 5)
        building = asyncio.create_task(build_digest(reader, now=stamp + timedelta(microseconds=1)))
        await asyncio.wait({building}, timeout=0.2)
        assert not building.done(), "the digest read before the write under way committed"
        release.set()
        await asyncio.wait_for(writing, 5)
        digest = await asyncio.wait_for(building, 10)
        assert digest.searches == 1
    finally:
        release.set()
        await writer.close()
        await reader.close()


async def test_a_database_from_before_upgrades_to_instants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0009 on a file stamped to the second: an episode that arrived in the same
    second as the last digest (left out of it) is in the next one, every stamp takes the one
    form, and the digest row says where its window ended."""
    need_corpus()
    old = tmp_path / "old.db"
    names = [m.name for m in storage.db.store.MIGRATIONS]
    same_second = "2026-11-23T09:00:00+00:00"  # as the earlier version wrote them
    with monkeypatch.context() as patch:
        patch.setattr(
            storage.db.store, "MIGRATIONS",
            storage.db.store.MIGRATIONS[: names.index("0009_instants_microseconds")],
        )  # fmt: skip
        async with await Store.open(old) as store:
            from storage.ingest import ingest_paths

            await ingest_paths(store, [PODCAST / f"{AT_SINCE}.md"])
            async with store.transaction() as conn:
                await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (same_second,))
                await conn.execute("UPDATE episodes SET ingested_at = ?", (same_second,))
                await conn.execute("UPDATE schema_migrations SET applied_at = ?", (same_second,))
                await conn.execute(
                    "INSERT INTO posts(kind, key, channel, ts, posted_at) VALUES"
                    " ('digest', '2026-W48', 'C0DIGEST', '1763888400.000100', ?)",
                    (same_second,),
                )
                await conn.execute(
                    "INSERT INTO search_log(at, user_id, query, hits, source)"
                    " VALUES ('2026-11-25T10:00:00Z', 'U1', 'old style', 1, 'slash')"
                )
    async with await Store.open(old) as store:
        assert "0009_instants_microseconds" in await store.applied_migrations()
        stamps = [
            r[0]
            for sql in (
                "SELECT arrived_at FROM digest_arrivals", "SELECT ingested_at FROM episodes",
                "SELECT posted_at FROM posts", "SELECT window_until FROM posts",
                "SELECT at FROM search_log", "SELECT applied_at FROM schema_migrations",
            )
            for r in await store.fetchall(sql)
        ]  # fmt: skip
        assert len(stamps) >= 6
        assert all(s == iso(datetime.fromisoformat(s)) for s in stamps), stamps
        digest = await build_digest(store, now=T1)
        assert digest.since == T0
        assert counted(digest) == ({AT_SINCE}, set(), 1)
