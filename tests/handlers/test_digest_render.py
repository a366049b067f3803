"""The digest and announcement messages: real corpus content, Block Kit limits, escaping."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers.digest import digest_text, render_announcement, render_digest
from handlers.render import MAX_SECTION_TEXT
from storage.activity.digest import (
    ArchiveQuote,
    Digest,
    Highlight,
    NewEpisode,
    SearchTopic,
    SharedQuote,
    build_digest,
)
from storage.activity.log import record_search, record_share
from storage.catalogue import get_episode
from storage.clock import iso
from storage.db import Store
from storage.models import Chapter, Episode
from tests.slack_api import block_kit_problems

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NEW = ("devrel-open-source-machine-learning", "crisp-dm")


async def corpus_digest(corpus_db: Path, tmp_path: Path) -> Digest:
    path = tmp_path / "corpus.db"
    shutil.copy(corpus_db, path)
    async with await Store.open(path) as store:
        async with store.transaction() as conn:
            await conn.execute(
                "UPDATE digest_arrivals SET arrived_at = ?",
                (iso(datetime(2026, 1, 5, tzinfo=UTC)),),
            )
            for episode_id in NEW:
                await conn.execute(
                    "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                    (iso(NOW - timedelta(days=2)), episode_id),
                )
        day = iso(NOW - timedelta(days=1))
        for user in ("U1", "U2"):  # topics are named once two people searched them
            await record_search(store, "<!channel> & <@U123> ping", 0, user_id=user, at=day)
            await record_search(store, "feature store", 4, user_id=user, at=day)
        passage = await store.fetchone(
            "SELECT id, start FROM passages WHERE episode_id = 'crisp-dm' LIMIT 1 OFFSET 30"
        )
        for _ in range(2):
            await record_share(store, "crisp-dm", passage["start"], passage_id=passage["id"],
                               at=day)  # fmt: skip
        return await build_digest(store, now=NOW)


def blocks_text(payload: dict) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


async def test_corpus_digest_renders_within_limits_and_escaped(
    corpus_db: Path, tmp_path: Path
) -> None:
    digest = await corpus_digest(corpus_db, tmp_path)
    payload = render_digest(digest).payload()
    assert block_kit_problems(payload) == []
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False
    text = blocks_text(payload)
    for heading in ("New this week", "Most shared", "From the archive", "What people searched"):
        assert heading in text
    assert "Hugo Bowne-Anderson" in text and "shared 2 times" in text
    # A search for "<!channel>" is shown, never executed: no raw mention reaches Slack.
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "*channel u123 ping*" in text  # counted in its plain form
    assert "Argo &amp; ML Interoperability" in text  # transcript text is escaped too
    assert " & " not in text.replace("&amp;", "")
    assert "<!channel>" not in payload["text"]
    # The fallback names every section's content for notifications and screen readers.
    assert "NEW THIS WEEK" in payload["text"] and "DevRel Role" in payload["text"]
    # The devrel episode's chapter links point at their second.
    assert "<https://www.youtube.com/watch?v=z7BvslwVRbQ&t=832s|▶ 13:52>" in text


async def test_sections_without_content_are_left_out(corpus_db: Path, tmp_path: Path) -> None:
    digest = await corpus_digest(corpus_db, tmp_path)
    only_new = Digest(digest.week, digest.since, digest.activity_since, digest.until,
                      new_episodes=digest.new_episodes)  # fmt: skip
    text = blocks_text(render_digest(only_new).payload())
    assert "New this week" in text
    for heading in ("Most shared", "From the archive", "What people searched"):
        assert heading not in text
    plain = digest_text(only_new)
    assert "MOST SHARED" not in plain and "NEW THIS WEEK" in plain


def test_a_huge_week_still_fits_one_message() -> None:
    long = "Very long title with <tags> & ampersands " * 60
    quote = "A quote that goes on and on & on <b> " * 80
    episodes = tuple(
        NewEpisode(
            id=f"e{i}", title=long, guests=tuple(f"Guest {j} {long}" for j in range(5)),
            date="2026-11-2" + str(i), url=f"https://www.youtube.com/watch?v=abcdefghij{i}&t=0s",
            arrived_at=iso(NOW),
            highlights=tuple(Highlight(quote, 60.0 * k, None, "Speaker", True) for k in range(3)),
        )
        for i in range(5)
    )  # fmt: skip
    shared = tuple(SharedQuote(f"e{i}", long, 12.0, "Someone", quote, None, 9 - i)
                   for i in range(3))  # fmt: skip
    topics = tuple(SearchTopic(long[: 70 + i], 10 - i) for i in range(5))
    digest = Digest(
        "2026-W49", NOW - timedelta(days=7), NOW - timedelta(days=7), NOW,
        new_episodes=episodes, more_new=42, shared=shared,
        archive=ArchiveQuote("e0", "k0", long, "2020-01-01", ("G",), 5.0, "G", quote, None),
        topics=topics, unanswered=topics, searches=99,
    )  # fmt: skip
    payload = render_digest(digest, preview_note="Preview, only for you.").payload()
    assert block_kit_problems(payload) == []
    assert all(
        len(b.get("text", {}).get("text", "")) <= MAX_SECTION_TEXT for b in payload["blocks"]
    )
    assert "…and 42 more" in blocks_text(payload)
    assert len(payload["text"]) <= 3000


async def test_announcement_has_the_chapters_with_timestamps(corpus_db: Path) -> None:
    async with await Store.open(corpus_db, migrate=False) as store:
        episode = await get_episode(store, "devrel-open-source-machine-learning")
    assert episode is not None and episode.chapters
    payload = render_announcement(episode).payload()
    assert block_kit_problems(payload) == []
    text = blocks_text(payload)
    assert "New episode" in text and "Hugo Bowne-Anderson" in text and "2023-06-17" in text
    for chapter in episode.chapters:
        stamp = f"t={int(chapter.start)}s"
        assert stamp in text, chapter
    assert payload["text"].startswith("New episode: DevRel Role for Machine Learning")
    assert "buttons" not in text and "share_episode" not in text  # a post, not a preview


HOSTILE_URL = "https://example.com/ep?x=<!channel>&y=<@U123>|z"


def test_urls_in_the_fallback_text_are_escaped() -> None:
    """A URL carrying ``<!channel>`` never reaches Slack raw, in blocks or in the fallback."""
    episode = NewEpisode(
        id="e1", title="An episode", guests=("Guest",), date="2026-11-28", url=HOSTILE_URL,
        arrived_at=iso(NOW), highlights=(Highlight("A chapter", 60.0, HOSTILE_URL),),
    )  # fmt: skip
    digest = Digest(
        "2026-W49", NOW - timedelta(days=7), NOW - timedelta(days=7), NOW,
        new_episodes=(episode,),
        shared=(SharedQuote("e1", "An episode", 12.0, "Guest", "A quote.", HOSTILE_URL, 2),),
        archive=ArchiveQuote("e0", "k0", "Old", "2020-01-01", ("G",), 5.0, "G", "Old.",
                             HOSTILE_URL),
    )  # fmt: skip
    payload = render_digest(digest).payload()
    for text in (payload["text"], blocks_text(payload)):
        assert "<!channel>" not in text and "<@U123>" not in text
    assert payload["text"].count("https://example.com/ep?x=&lt;!channel&gt;&amp;y=") == 3
    # The terminal preview prints the URL as it is.
    assert HOSTILE_URL in digest_text(digest)


def test_announcement_fallback_escapes_the_url() -> None:
    episode = Episode(
        id="e1", title="Title & more", guests=("Guest",), date="2026-11-28", duration=3600.0,
        url=HOSTILE_URL, links={}, topics=(), season=None, number=None, description=None,
        chapters=(), source_path="e1.md", source_format="markdown", timing="edited",
        ingested_at=iso(NOW),
    )  # fmt: skip
    payload = render_announcement(episode).payload()
    for text in (payload["text"], blocks_text(payload)):
        assert "<!channel>" not in text and "<@U123>" not in text
    assert payload["text"].startswith(
        "New episode: Title &amp; more https://example.com/ep?x=&lt;!channel&gt;&amp;y="
    )


_BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def test_fallback_keeps_lines_and_never_cuts_inside_an_entity() -> None:
    """A fallback over the limit is cut at a line or word, or before an entity, never in one."""
    for pad in range(5):  # shifts where the limit falls by one character each time
        title = "x" * pad + "&" * 2000  # escaped: one word of 10,000 characters
        episode = NewEpisode("e1", title, (), None, None, iso(NOW), ())
        digest = Digest("2026-W49", NOW - timedelta(days=7), NOW - timedelta(days=7), NOW,
                        new_episodes=(episode,))  # fmt: skip
        text = render_digest(digest).payload()["text"]
        assert len(text) <= 3000 and text.endswith("…")
        assert "\n\nNEW THIS WEEK\n* " in text  # line breaks kept
        assert not _BROKEN_ENTITY.search(text), text[-12:]
        chapters = tuple(Chapter("x" * pad + "&" * 100, 60.0 * i) for i in range(30))
        announced = Episode(
            id="e1", title="T & U", guests=("G",), date=None, duration=None,
            url="https://www.youtube.com/watch?v=z7BvslwVRbQ", links={}, topics=(),
            season=None, number=None, description=None, chapters=chapters,
            source_path="e1.md", source_format="markdown", timing="edited", ingested_at=iso(NOW),
        )  # fmt: skip
        text = render_announcement(announced).payload()["text"]
        assert len(text) <= 3000
        assert text.startswith("New episode: T &amp; U https://www.youtube.com/watch?v=z7BvslwVRbQ")
        assert "\n" in text and not _BROKEN_ENTITY.search(text), text[-12:]
