"""``/episodes ...`` in-process: the subcommand table, search, latest and episode cards."""

from __future__ import annotations

import json
from typing import Any

import pytest

import handlers.commands
from handlers.commands import SUBCOMMANDS, Subcommand, run_command
from handlers.context import Ask
from handlers.render import Message, render_notice
from storage.catalogue import get_episode, list_episodes
from tests.handlers.conftest import RecordingOutbox
from tests.slack_api import block_kit_problems


def shown(message: Message | None) -> str:
    assert message is not None
    return json.dumps(message.payload(), ensure_ascii=False)


def buttons(message: Message | None, prefix: str = "") -> list[dict[str, Any]]:
    assert message is not None
    return [b for b in message.buttons() if b["action_id"].startswith(prefix)]


async def test_help_and_empty_command_come_from_the_subcommand_table(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    assert [row.name for row in SUBCOMMANDS] == ["", "latest", "episode", "digest", "help"]
    for text in ("help", "", "HELP"):
        await run_command(ask, text)
        sent = outbox.last()
        assert sent.kind == "private" and block_kit_problems(sent.message.payload()) == []
        help_ = shown(sent.message)
        for row in SUBCOMMANDS:
            assert row.usage.replace("<", "&lt;").replace(">", "&gt;") in help_
            for example in row.examples:
                assert f"/episodes {example}" in help_
    # the query language, from storage.search's table
    for word in ("guest:", "speaker:", "episode:", "after:", "before:", "-spark", "exact phrase"):
        assert word in help_


async def test_a_new_row_is_shown_in_help_and_dispatched(
    ask: Ask, outbox: RecordingOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def ping(ask: Ask, words: str) -> None:
        await ask.outbox.private(render_notice(f"pong {words}"))

    row = Subcommand("ping", "ping [words]", "answers pong", ping, ("ping",))
    monkeypatch.setattr(handlers.commands, "SUBCOMMANDS", (*SUBCOMMANDS, row))
    await run_command(ask, "help")
    assert "ping [words]" in shown(outbox.last().message)
    await run_command(ask, "ping hello")
    assert "pong hello" in shown(outbox.last().message)


async def test_search_shows_a_private_preview_and_records_it(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    await run_command(ask, "argo")
    sent = outbox.only()
    assert sent.kind == "private" and not sent.replace
    assert block_kit_problems(sent.message.payload()) == []
    shares = buttons(sent.message, "share_hit")
    assert len(shares) == 3
    first = json.loads(shares[0]["value"])
    assert (first["q"], first["p"], first["i"]) == ("argo", 0, 0)
    assert "Quotes 1–3 for *argo*" in shown(sent.message)
    assert buttons(sent.message, "page_next") and buttons(sent.message, "dismiss")
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    row = await ask.store.fetchone("SELECT * FROM search_log ORDER BY id DESC LIMIT 1")
    assert (row["query"], row["hits"], row["user_id"], row["channel_id"], row["source"]) == (
        "argo", 3, "U0ASKER", "C0GENERAL", "slash",
    )  # fmt: skip


async def test_nothing_found_offers_the_did_you_mean_as_a_button(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    from handlers.actions import press

    await run_command(ask, "argp")
    preview = outbox.only().message
    assert "Nothing found for *argp*" in shown(preview)
    assert "Did you mean *argo*?" in shown(preview)
    [suggestion] = buttons(preview, "search_suggestion")
    await press(ask, suggestion["action_id"], suggestion["value"])
    results = outbox.last()
    assert results.kind == "private" and results.replace
    assert "Quotes 1–3 for *argo*" in shown(results.message)
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    rows = await ask.store.fetchall("SELECT query, hits FROM search_log ORDER BY id")
    assert [(r["query"], r["hits"]) for r in rows] == [("argp", 0), ("argo", 3)]


async def test_nothing_found_without_a_suggestion_gives_a_tip(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    await run_command(ask, "qqqzzzxv")
    text = shown(outbox.only().message)
    assert "Nothing found for *qqqzzzxv*" in text and "Tip:" in text
    assert "Did you mean" not in text


async def test_latest_lists_the_newest_episodes_and_opens_one(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    from handlers.actions import press

    await run_command(ask, "latest")
    listing = outbox.only().message
    newest = await list_episodes(ask.store, limit=5)
    assert len(newest) == 5
    text = shown(listing)
    positions = [text.find(e.title.replace("&", "&amp;")[:40]) for e in newest]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert block_kit_problems(listing.payload()) == []
    # "Chapters" opens the episode card in place of the list
    [first, *_] = buttons(listing, "open_episode")
    await press(ask, first["action_id"], first["value"])
    card = outbox.last()
    assert card.replace and card.message.blocks[0]["text"]["text"] == newest[0].title[:150]


async def test_latest_with_words_is_a_search(ask: Ask, outbox: RecordingOutbox) -> None:
    await run_command(ask, "latest trends in kubernetes")
    assert "Quotes 1–3 for *latest trends in kubernetes*" in shown(outbox.only().message)


async def test_episode_card_has_guests_links_and_chapters(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    episode = await get_episode(ask.store, "devrel-open-source-machine-learning")
    assert episode is not None and episode.chapters and episode.guests
    await run_command(ask, "episode devrel metaflow")
    card = outbox.only().message
    text = shown(card)
    assert card.blocks[0]["type"] == "header"
    assert card.blocks[0]["text"]["text"] == episode.title[:150]
    for guest in episode.guests:
        assert guest in text
    for chapter in episode.chapters:
        assert f"t={int(chapter.start)}s|" in text
    assert block_kit_problems(card.payload()) == []
    await run_command(ask, f"episode {episode.id}")  # by exact id too
    assert outbox.last().message.blocks[0]["text"]["text"] == episode.title[:150]


async def test_unknown_or_missing_episode_is_honest(ask: Ask, outbox: RecordingOutbox) -> None:
    await run_command(ask, "episode zzzqqq nonexistent")
    assert "No episode matches *zzzqqq nonexistent*" in outbox.last().message.text
    await run_command(ask, "episode")
    assert "Which episode?" in outbox.last().message.text
