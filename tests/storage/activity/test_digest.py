"""The digest's content from the real corpus, first arrivals, and once-only post claims."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.db.store
from storage.activity.digest import (
    IMPORT_BATCH,
    MIN_TOPIC_USERS,
    ArchiveQuote,
    archive_quote,
    build_digest,
    normalise_query,
    quotable,
    quote_score,
)
from storage.activity.log import record_search, record_share
from storage.activity.posts import (
    announce_watermark,
    arrivals_after,
    claim_post,
    confirm_post,
    get_post,
    last_digest,
    record_skip,
    release_post,
)
from storage.clock import iso, week_key
from storage.db import Store
from storage.ingest import ingest_paths
from storage.text import passage_key
from tests.conftest import DEVREL, PEOPLE, PODCAST, corpus_files, need_corpus

# Monday 30 November 2026, 09:00 UTC: the digest being built. The last one went out a week ago.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LONG_AGO = iso(datetime(2026, 1, 5, 10, tzinfo=UTC))
THURSDAY_NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)
NEW = {
    # episode id: (first arrival, publication date we give it)
    "lean-mlops-for-startups": (iso(datetime(2026, 11, 24, 8, tzinfo=UTC)), "2026-11-24"),
    "devrel-open-source-machine-learning": (
        iso(datetime(2026, 11, 26, 15, 30, tzinfo=UTC)),
        "2026-11-26",
    ),
    "crisp-dm": (iso(datetime(2026, 11, 28, 19, tzinfo=UTC)), None),  # no chapters: quotes instead
}
LEASE = timedelta(minutes=5)


@pytest.fixture
async def corpus_store(corpus_db: Path, tmp_path: Path):
    """A private copy of the ingested corpus: the back catalogue arrived in January, three
    episodes arrived this week, and last week's digest was posted a week before NOW."""
    path = tmp_path / "corpus.db"
    shutil.copy(corpus_db, path)
    store = await Store.open(path)
    async with store.transaction() as conn:
        await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (LONG_AGO,))
        for episode_id, (arrived, date) in NEW.items():
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                (arrived, episode_id),
            )
            await conn.execute("UPDATE episodes SET date = ? WHERE id = ?", (date, episode_id))
        await conn.execute(
            "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until) VALUES"
            " ('digest', '2026-W48', 'C0DIGEST', '1700000000.000100', ?, ?)",
            (iso(NOW - timedelta(days=7)), iso(NOW - timedelta(days=7))),
        )
    try:
        yield store
    finally:
        await store.close()


async def _passage(store: Store, episode_id: str, nth: int):
    return await store.fetchone(
        "SELECT id, start, text FROM passages WHERE episode_id = ? ORDER BY idx LIMIT 1 OFFSET ?",
        (episode_id, nth),
    )


async def test_digest_from_the_corpus(corpus_store: Store) -> None:
    store = corpus_store
    day = NOW - timedelta(days=2)
    searches = [
        ("feature store", 3, "U1"), ("Feature stores", 2, "U2"), ("feature store", 1, "U1"),
        ("argo", 2, "U1"), ("argo", 2, "U3"), ("quantum baking", 0, "U1"),
        ("Quantum   baking?", 0, "U2"), ("llm evals", 0, "U1"), ("llm evals", 4, "U2"),
    ]  # fmt: skip
    for query, hits, user in searches:
        await record_search(store, query, hits, user_id=user, at=iso(day))
    await record_search(store, "older than the window", 0, at=iso(NOW - timedelta(days=9)))
    await record_search(store, "tried at the terminal", 0, source="cli", at=iso(day))
    a = await _passage(store, "ab-testing-and-product-experimentation", 40)
    b = await _passage(store, "building-mlops-startup", 12)
    for user in ("U1", "U2", "U3"):
        await record_share(store, "ab-testing-and-product-experimentation", a["start"],
                           passage_id=a["id"], user_id=user, at=iso(day))  # fmt: skip
    await record_share(store, "building-mlops-startup", b["start"], passage_id=b["id"],
                       user_id="U9", at=iso(day))  # fmt: skip
    await record_share(
        store,
        "building-mlops-startup",
        b["start"],
        passage_id=b["id"],
        at=iso(NOW - timedelta(days=8)),
    )  # fmt: skip (last week's)

    digest = await build_digest(store, now=NOW)

    assert digest.week == "2026-W49"
    assert digest.since == NOW - timedelta(days=7)
    # New this week: the three arrivals, dated ones newest first, then the undated one.
    assert [e.id for e in digest.new_episodes] == [
        "devrel-open-source-machine-learning",
        "lean-mlops-for-startups",
        "crisp-dm",
    ]
    assert digest.more_new == 0
    devrel = digest.new_episodes[0]
    assert devrel.guests == ("Hugo Bowne-Anderson",)
    assert devrel.url == "https://www.youtube.com/watch?v=z7BvslwVRbQ&t=0s"
    assert len(devrel.highlights) == 3 and not any(h.is_quote for h in devrel.highlights)
    chapters = {
        r["title"]: r["start"]
        for r in await store.fetchall(
            "SELECT title, start FROM chapters WHERE episode_id = ?", (devrel.id,)
        )
    }
    for h in devrel.highlights:
        assert chapters[h.title] == h.start
        assert h.url == f"https://www.youtube.com/watch?v=z7BvslwVRbQ&t={int(h.start)}s"
        assert "Introduction" not in h.title
    crisp = digest.new_episodes[2]
    assert crisp.highlights and all(h.is_quote for h in crisp.highlights)
    assert all(h.speaker and len(h.title) <= 280 for h in crisp.highlights)
    # Most shared: counts this week only, most shared first; nobody's name is carried.
    assert [(s.episode_id, s.count) for s in digest.shared] == [
        ("ab-testing-and-product-experimentation", 3),
        ("building-mlops-startup", 1),
    ]
    assert digest.shared[0].start == a["start"]
    assert digest.shared[0].quote == quotable(a["text"])
    assert not any(hasattr(s, "user_id") for s in digest.shared)
    # Searches: near-duplicates merged; terminal searches and older ones not counted.
    assert digest.searches == len(searches)
    # Topics are what found something, each counted every time it was asked.
    assert [(t.query, t.count) for t in digest.topics] == [
        ("feature store", 3), ("argo", 2), ("llm evals", 2),
    ]  # fmt: skip
    # Found nothing: "quantum baking" (twice); "llm evals" later found something.
    assert [(t.query, t.count) for t in digest.unanswered] == [("quantum baking", 2)]
    # From the archive: an episode from the back catalogue, a guest speaking.
    archive = digest.archive
    assert archive is not None
    assert archive.episode_id not in NEW
    assert archive.speaker and archive.url and archive.url.endswith(f"t={int(archive.start)}s")
    assert not digest.is_empty


async def test_new_counts_from_the_last_digest_not_a_fixed_week(corpus_store: Store) -> None:
    # A digest posted on Thursday: only what arrived after it is new on Monday.
    async with corpus_store.transaction() as conn:
        await conn.execute(
            "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until) VALUES"
            " ('digest', 'manual', 'C0DIGEST', '1700000001.000100', ?, ?)",
            (iso(THURSDAY_NOON), iso(THURSDAY_NOON)),
        )
    digest = await build_digest(corpus_store, now=NOW)
    assert [e.id for e in digest.new_episodes] == ["crisp-dm"]
    assert digest.since == THURSDAY_NOON


async def test_first_digest_after_the_initial_import_is_not_all_news(corpus_store: Store) -> None:
    """No earlier digest: a catalogue imported this week is the archive, not "200 new"."""
    store = corpus_store
    async with store.transaction() as conn:
        await conn.execute("DELETE FROM posts")
        # The whole catalogue arrived on Thursday, a second or so apart (one ingest run)...
        await conn.execute(
            "UPDATE digest_arrivals SET arrived_at = strftime('%Y-%m-%dT%H:%M:%S.000000+00:00',"
            " '2026-11-26T10:00:00', '+' || seq || ' seconds')"
        )
        # ...and one episode of its own on Saturday.
        await conn.execute(
            "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = 'crisp-dm'",
            (iso(datetime(2026, 11, 28, 19, tzinfo=UTC)),),
        )
    catalogue = await store.fetchone("SELECT count(*) AS n FROM digest_arrivals")
    assert catalogue["n"] > IMPORT_BATCH
    digest = await build_digest(store, now=NOW)
    assert [e.id for e in digest.new_episodes] == ["crisp-dm"] and digest.more_new == 0
    assert digest.archive is not None and digest.archive.episode_id != "crisp-dm"
    assert digest.activity_since == NOW - timedelta(days=7)
    # A few episodes arriving close together are news, not an import.
    async with store.transaction() as conn:
        await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (LONG_AGO,))
        for i, episode_id in enumerate(NEW):
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                (iso(datetime(2026, 11, 28, 19, 0, i, tzinfo=UTC)), episode_id),
            )
    digest = await build_digest(store, now=NOW)
    assert {e.id for e in digest.new_episodes} == set(NEW)
    # With an earlier digest to count from, every arrival since it is new, however many.
    async with store.transaction() as conn:
        await conn.execute(
            "UPDATE digest_arrivals SET arrived_at = strftime('%Y-%m-%dT%H:%M:%S.000000+00:00',"
            " '2026-11-26T10:00:00', '+' || seq || ' seconds')"
        )
        await conn.execute(
            "INSERT INTO posts(kind, key, channel, ts, posted_at, window_until) VALUES"
            " ('digest', '2026-W48', 'C0DIGEST', '1700000000.000100', ?, ?)",
            (iso(NOW - timedelta(days=7)), iso(NOW - timedelta(days=7))),
        )
    digest = await build_digest(store, now=NOW)
    assert len(digest.new_episodes) + digest.more_new == catalogue["n"]


def moment(quote: ArchiveQuote) -> tuple[str, float]:
    """What a listener would call the same quote: that episode, that second."""
    return quote.episode_id, quote.start


async def use(store: Store, quote: ArchiveQuote, now: datetime) -> None:
    """Post a digest carrying ``quote`` at ``now``."""
    await confirm_post(store, "digest", week_key(now), "C0DIGEST", "1.1", now=now, archive=quote)


async def reingest_changed(store: Store, source: Path, folder: Path, old: str, new: str) -> None:
    """Ingest an edited copy of ``source`` (``old`` replaced by ``new`` once): it replaces the
    episode, whose passages get new ids."""
    copy = folder / source.name
    text = source.read_text()
    assert old in text
    copy.write_text(text.replace(old, new, 1))
    report = await ingest_paths(store, [copy])
    assert [o.status for o in report.outcomes] == ["replaced"]


async def test_archive_quote_is_stable_for_a_week_and_not_repeated_within_a_year(
    corpus_store: Store,
) -> None:
    first = await archive_quote(corpus_store, now=NOW, week="2026-W49")
    again = await archive_quote(corpus_store, now=NOW, week="2026-W49")
    assert first is not None and first == again  # a preview shows what the post will carry
    seen = {moment(first)}
    await use(corpus_store, first, NOW)
    now = NOW
    for _ in range(8):  # eight more weeks: never the same quote, never the same episode
        now += timedelta(days=7)
        quote = await archive_quote(corpus_store, now=now, week=week_key(now))
        assert quote is not None and moment(quote) not in seen
        seen.add(moment(quote))
        await use(corpus_store, quote, now)
    episodes = await corpus_store.fetchall("SELECT DISTINCT episode_id FROM archive_quotes")
    assert len(episodes) == 9
    # More than a year later the first quote may come round again.
    later = NOW + timedelta(days=400)
    async with corpus_store.transaction() as conn:
        await conn.execute(
            "DELETE FROM archive_quotes WHERE NOT (episode_id = ? AND start = ?)", moment(first)
        )
    assert await archive_quote(corpus_store, now=later, week="2026-W49") == first


async def test_reingesting_the_episode_does_not_bring_its_archive_quote_back_within_a_year(
    corpus_store: Store, tmp_path: Path
) -> None:
    first = await archive_quote(corpus_store, now=NOW, week="2026-W49")
    assert first is not None
    await use(corpus_store, first, NOW)
    ids = "SELECT id FROM passages WHERE episode_id = ?"
    before = {r["id"] for r in await corpus_store.fetchall(ids, (first.episode_id,))}
    # The episode's file is corrected and ingested again.
    source = PODCAST / f"{first.episode_id}.md"
    await reingest_changed(corpus_store, source, tmp_path, "\n---\n", "\n---\n\n")
    after = {r["id"] for r in await corpus_store.fetchall(ids, (first.episode_id,))}
    assert after and before.isdisjoint(after)  # what the digest once recorded is gone
    # Even the draw that chose it (the same week's seed) now passes over its episode...
    redraw = await archive_quote(corpus_store, now=NOW + timedelta(days=7), week="2026-W49")
    assert redraw is not None and redraw.episode_id != first.episode_id
    # ...and no digest in the year repeats it.
    now = NOW
    for _ in range(51):
        now += timedelta(days=7)
        quote = await archive_quote(corpus_store, now=now, week=week_key(now))
        assert quote is not None and moment(quote) != moment(first)
        assert quote.quote != first.quote
        await use(corpus_store, quote, now)


async def test_a_reingested_episode_gives_its_next_quote_not_the_used_one_again(
    store: Store, tmp_path: Path
) -> None:
    """One episode in the archive: after its best quote is used and the file re-ingested with
    that very quote's words edited, the digest takes another quote of it."""
    need_corpus()
    report = await ingest_paths(store, [PEOPLE, DEVREL])
    assert [o.status for o in report.of("added")] == ["added"]
    async with store.transaction() as conn:
        await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (LONG_AGO,))
    first = await archive_quote(store, now=NOW, week="2026-W49")
    assert first is not None
    await use(store, first, NOW)
    # Edit a word that only the quoted passage has: its text (and text key) changes.
    source = DEVREL.read_text()
    word = next(
        w
        for w in sorted(set(re.findall(r"[A-Za-z]{6,}", first.quote)), key=len, reverse=True)
        if len(re.findall(rf"\b{w}\b", source)) == 1
    )
    await reingest_changed(store, DEVREL, tmp_path, word, f"{word} (sic)")
    edited = await store.fetchone(
        "SELECT start, text FROM passages WHERE episode_id = ? AND text LIKE ?",
        (first.episode_id, f"%{word} (sic)%"),
    )
    assert edited is not None and passage_key(edited["text"]) != first.text_key
    for weeks in (1, 2, 3):
        now = NOW + timedelta(days=7 * weeks)
        quote = await archive_quote(store, now=now, week="2026-W49")
        assert quote is not None and quote.episode_id == first.episode_id
        assert quote.start != edited["start"] and moment(quote) != moment(first)
        await use(store, quote, now)


async def test_archive_quotes_recorded_by_passage_id_are_converted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0008_digest_archive_stable on a file whose records name passage ids."""
    need_corpus()

    async def devrel_archive(path: Path) -> None:
        async with await Store.open(path) as store:
            await ingest_paths(store, [PEOPLE, DEVREL])
            async with store.transaction() as conn:
                await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (LONG_AGO,))

    # The quote a digest takes from this episode, as the current version sees it.
    await devrel_archive(tmp_path / "current.db")
    async with await Store.open(tmp_path / "current.db") as store:
        best = await archive_quote(store, now=NOW, week="2026-W49")
    assert best is not None
    # A file from before the migration, whose digest used that quote (and one long gone).
    old = tmp_path / "old.db"
    names = [m.name for m in storage.db.store.MIGRATIONS]
    with monkeypatch.context() as patch:
        patch.setattr(
            storage.db.store, "MIGRATIONS",
            storage.db.store.MIGRATIONS[: names.index("0008_digest_archive_stable")],
        )  # fmt: skip
        await devrel_archive(old)
        async with await Store.open(old) as store:
            passage = await store.fetchone(
                "SELECT id, start, text FROM passages WHERE episode_id = ? AND start = ?",
                moment(best),
            )
            async with store.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO archive_quotes(passage_id, used_at) VALUES (?, ?)",
                    [(passage["id"], iso(NOW)), (999_999, iso(NOW))],
                )
    async with await Store.open(old) as store:
        assert "0008_digest_archive_stable" in await store.applied_migrations()
        rows = await store.fetchall(
            "SELECT episode_id, start, text_key, used_at FROM archive_quotes"
        )
        assert [tuple(r) for r in rows] == [(*moment(best), best.text_key, iso(NOW))]
        assert passage_key(passage["text"]) == best.text_key
        # The digest knows that quote as used: the same draw a week later takes another.
        quote = await archive_quote(store, now=NOW + timedelta(days=7), week="2026-W49")
        assert quote is not None and moment(quote) != moment(best)


def test_quote_score_prefers_a_guest_statement_to_the_host_or_an_intro() -> None:
    guests = ("Hugo Bowne-Anderson",)
    statement = (
        "The key is to treat documentation as part of the product. If developers cannot get "
        "from zero to a working flow in ten minutes, they will never see the interesting parts, "
        "so we invest in that first experience more than anything else we do."
    )
    assert quote_score(statement, "Hugo", guests, 900, 3600) > 1
    assert quote_score(statement, "Alexey", guests, 900, 3600) == 0  # the host
    assert quote_score(statement, "Hugo", guests, 30, 3600) < quote_score(
        statement, "Hugo", guests, 900, 3600
    )
    assert quote_score("Yes, exactly.", "Hugo", guests, 900, 3600) == 0


def test_queries_are_counted_in_one_form() -> None:
    assert normalise_query("  Feature   Stores?") == "feature stores"
    assert normalise_query("scikit-learn vs. C++") == "scikit-learn vs. c++"
    assert normalise_query("???") == ""


async def test_empty_week_and_a_week_with_only_searches(store: Store) -> None:
    digest = await build_digest(store, now=NOW)
    assert digest.is_empty and digest.archive is None
    for user in ("U1", "U2"):
        await record_search(store, "anything", 0, user_id=user, at=iso(NOW - timedelta(hours=1)))
    digest = await build_digest(store, now=NOW)
    assert not digest.is_empty
    assert [t.query for t in digest.unanswered] == ["anything"]


async def test_private_questions_stay_out_of_the_digest(store: Store) -> None:
    """DMs are never listed or counted; a slash search is listed only when at least
    MIN_TOPIC_USERS different people asked it (a slash preview is private)."""
    assert MIN_TOPIC_USERS == 2
    hour_ago = iso(NOW - timedelta(hours=1))
    await record_search(store, "is alice from acme leaving", 0, user_id="U1", source="dm",
                        at=hour_ago)  # fmt: skip
    await record_search(store, "is alice from acme leaving", 0, user_id="U2", source="dm",
                        at=hour_ago)  # fmt: skip
    digest = await build_digest(store, now=NOW)
    assert digest.searches == 0 and digest.is_empty
    # One person, asking three times by slash command (found and not found): not listed.
    for hits in (0, 0, 3):
        await record_search(store, "salary of bob at acme", hits, user_id="U3", at=hour_ago)
    await record_search(store, "my secret project", 0, user_id="U4", at=hour_ago)
    await record_search(store, "my secret project", 0, at=hour_ago)  # no user: nobody
    # Two people: listed.
    await record_search(store, "feature store", 2, user_id="U5", at=hour_ago)
    await record_search(store, "Feature stores", 1, user_id="U6", source="mention", at=hour_ago)
    await record_search(store, "quantum baking", 0, user_id="U5", at=hour_ago)
    await record_search(store, "quantum baking", 0, user_id="U6", at=hour_ago)
    digest = await build_digest(store, now=NOW)
    assert [(t.query, t.count) for t in digest.topics] == [("feature store", 2)]
    assert [(t.query, t.count) for t in digest.unanswered] == [("quantum baking", 2)]
    assert digest.searches == 9  # counted (DMs aside), but not named


async def test_reingesting_an_updated_file_keeps_the_first_arrival(
    store: Store, tmp_path: Path
) -> None:
    need_corpus()
    copy = tmp_path / DEVREL.name
    shutil.copy(DEVREL, copy)
    report = await ingest_paths(store, [PEOPLE, copy])
    assert [o.status for o in report.of("added")] == ["added"]
    before = await store.fetchall("SELECT seq, episode_id, arrived_at FROM digest_arrivals")
    async with store.transaction() as conn:  # pretend it arrived last week
        await conn.execute("UPDATE digest_arrivals SET arrived_at = ?", (LONG_AGO,))
    copy.write_text(copy.read_text().replace("Metaflow", "Metaflow (metaflow.org)", 1))
    report = await ingest_paths(store, [copy])
    assert [o.status for o in report.outcomes] == ["replaced"]
    after = await store.fetchall("SELECT seq, episode_id, arrived_at FROM digest_arrivals")
    assert [(r["seq"], r["episode_id"]) for r in after] == [
        (r["seq"], r["episode_id"]) for r in before
    ]
    assert after[0]["arrived_at"] == LONG_AGO


async def test_claims_are_once_only_and_stale_ones_are_reported(store: Store) -> None:
    claim = await claim_post(store, "digest", "2026-W49", "C1", now=NOW, stale_after=LEASE)
    assert claim.status == "claimed"
    # Another poster a minute later: busy; six minutes later the claim is stale.
    later = await claim_post(
        store, "digest", "2026-W49", "C1", now=NOW + timedelta(minutes=1), stale_after=LEASE
    )
    assert later.status == "busy"
    stale = await claim_post(
        store, "digest", "2026-W49", "C1", now=NOW + timedelta(minutes=6), stale_after=LEASE
    )
    assert stale.status == "stale" and stale.record and stale.record.posted_at == iso(NOW)
    await confirm_post(store, "digest", "2026-W49", "C1", "1700000000.000100", now=NOW)
    done = await claim_post(
        store, "digest", "2026-W49", "C1", now=NOW + timedelta(days=1), stale_after=LEASE
    )
    assert done.status == "posted" and done.record and done.record.ts == "1700000000.000100"
    assert (await last_digest(store, until=NOW + timedelta(days=1))).key == "2026-W49"  # type: ignore[union-attr]
    # A refused post gives the claim back.
    assert (await claim_post(store, "digest", "X", "C1", now=NOW, stale_after=LEASE)).status == (
        "claimed"
    )
    await release_post(store, "digest", "X")
    assert await get_post(store, "digest", "X") is None
    # A skipped week stays skipped, unless asked explicitly.
    assert await record_skip(store, "digest", "2026-W50", now=NOW)
    assert not await record_skip(store, "digest", "2026-W50", now=NOW)
    claim = await claim_post(store, "digest", "2026-W50", "C1", now=NOW, stale_after=LEASE)
    assert claim.status == "skipped"
    claim = await claim_post(
        store, "digest", "2026-W50", "C1", now=NOW, stale_after=LEASE, over_skip=True
    )
    assert claim.status == "claimed"


async def test_two_processes_claiming_at_once_get_one_claim(db_path: Path) -> None:
    async with await Store.open(db_path) as first, await Store.open(db_path) as second:
        results = await asyncio.gather(
            *[
                claim_post(s, "digest", "2026-W49", "C1", now=NOW, stale_after=LEASE)
                for s in (first, second, first, second)
            ]
        )
    assert sorted(c.status for c in results) == ["busy", "busy", "busy", "claimed"]


async def test_watermark_starts_at_the_catalogue_and_new_arrivals_follow(
    corpus_store: Store, tmp_path: Path
) -> None:
    store = corpus_store
    mark = await announce_watermark(store)
    assert mark == len(corpus_files(PODCAST)) and await arrivals_after(store, mark) == []
    assert await announce_watermark(store) == mark  # set once
    episode = tmp_path / "new-episode.md"
    episode.write_text(
        "---\ntitle: A brand new episode\ntranscript:\n"
        "- header: Opening\n"
        "- line: Hello and welcome, this is a new episode about things worth hearing.\n"
        "  sec: 0\n  time: '0:00'\n  who: Alexey\n---\n"
    )
    report = await ingest_paths(store, [episode])
    assert [o.status for o in report.outcomes] == ["added"]
    [arrival] = await arrivals_after(store, mark)
    assert arrival.episode_id == "new-episode" and arrival.seq == mark + 1
    await claim_post(store, "announcement", "new-episode", "C1", now=NOW, stale_after=LEASE)
    assert len(await arrivals_after(store, mark)) == 1  # claimed, not yet posted
    await confirm_post(store, "announcement", "new-episode", "C1", "1.5", now=NOW)
    assert await arrivals_after(store, mark) == []
