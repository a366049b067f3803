"""Names, choices, small talk, threads and votes in-process, on the real corpus."""

from __future__ import annotations

import json
from dataclasses import replace

from handlers.actions import press
from handlers.commands import run_command
from handlers.context import Ask, Source
from handlers.mentions import about_me, answer_question, answer_thread
from handlers.shortcuts import find_about
from storage.catalogue import episodes_named
from tests.handlers.conftest import RecordingOutbox
from tests.handlers.test_commands import buttons, shown


async def guest_episode_ids(ask: Ask, name: str) -> set[str]:
    rows = await ask.store.fetchall(
        "SELECT DISTINCT e.id FROM episodes e, json_each(e.guests) g WHERE g.value = ?", (name,)
    )
    return {r["id"] for r in rows}


async def test_a_guests_name_lists_their_episodes_not_small_talk(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    for typed, guest in (("hugo", "Hugo Bowne-Anderson"), ("Eugene Yan", "Eugene Yan"),
                         ("guest:hugo", "Hugo Bowne-Anderson")):  # fmt: skip
        outbox.sent.clear()
        await run_command(ask, typed)
        message = outbox.only().message
        expected = await guest_episode_ids(ask, guest)
        assert len(expected) == 2
        opened = {json.loads(b["value"])["e"] for b in buttons(message, "open_episode")}
        assert opened == expected, typed
        text = shown(message)
        assert "Thank you so much for having me" not in text and "Welcome to" not in text
        assert "youtube.com/watch" in text and "&t=" in text  # chapters link to their second


async def test_what_a_guest_said_about_a_topic_still_searches(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    await run_command(ask, "what did hugo say about writing")
    message = outbox.only().message
    assert buttons(message, "share_hit") and not buttons(message, "open_episode")


async def test_episode_words_matching_several_offer_a_choice(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    await run_command(ask, "episode hugo")
    choice = outbox.only().message
    opens = buttons(choice, "open_episode")
    assert {json.loads(b["value"])["e"] for b in opens} == await guest_episode_ids(
        ask, "Hugo Bowne-Anderson"
    )
    assert all(b["accessibility_label"].startswith("Open ") for b in opens)
    await press(ask, opens[1]["action_id"], opens[1]["value"])
    card = outbox.last()
    assert card.replace and card.message.blocks[0]["type"] == "header"


async def test_small_talk_ranks_below_answers_but_stays_findable(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    from storage.search import search

    vague = await search(ask.store, "how do I get a job in data?", limit=3)
    assert vague.hits and vague.hits[0].speaker != "Alexey"  # not the host's question first
    quoted = await search(ask.store, '"thank you so much for having me"', limit=3)
    assert quoted.hits and all("thank you so much for having me" in h.quote.lower()
                               for h in quoted.hits)  # fmt: skip


async def test_page_headers_read_naturally() -> None:
    from handlers.render import quotes_label

    assert quotes_label(4, 4) == "Quote 4" and quotes_label(4, 6) == "Quotes 4–6"


def test_questions_about_the_bot() -> None:
    for text in ("what can you do?", "Who are you", "how does this work?", "help me", "hi!",
                 "How do I use this bot?", "?"):  # fmt: skip
        assert about_me(text), text
    for text in ("what is devrel?", "how does kubernetes work", "help with spark jobs"):
        assert not about_me(text), text


async def test_bare_mention_in_a_thread(ask: Ask, outbox: RecordingOutbox) -> None:
    ask = replace(ask, source=Source.MENTION)
    outbox.messages["1700000050.000100"] = "<@U0MOD> how did Hugo get into devrel?"
    await answer_thread(ask, "1700000050.000100", thread_ts="1700000050.000100")
    post = outbox.only()
    assert (post.kind, post.thread_ts) == ("post", "1700000050.000100")
    outbox.sent.clear()
    await answer_thread(ask, "1700000099.000100", thread_ts="1700000099.000100")  # not readable
    hint = outbox.only()
    assert hint.kind == "private" and "Find episodes about this" in hint.message.text


async def test_the_shortcut_on_a_message_without_words(ask: Ask, outbox: RecordingOutbox) -> None:
    await find_about(ask, "")
    assert "no words I can search" in outbox.only().message.text


async def test_an_announcement_only_channel_refusal_says_so(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    await run_command(ask, "argo")
    [share] = buttons(outbox.last().message, "share_hit_0")
    outbox.refuse, outbox.refusal = {"post"}, "restricted_action_read_only_channel"
    await press(ask, share["action_id"], share["value"])
    note = outbox.last().message.text
    assert "only some members may post in this channel" in note and "episode-bot" not in note
    assert [s.kind for s in outbox.sent].count("post_here") == 0  # not tried: it would fail too


async def test_votes_are_one_per_person_and_export(ask: Ask, outbox: RecordingOutbox) -> None:
    ask = replace(ask, source=Source.MENTION, message_ts="1700000200.000100")
    await answer_question(ask, "argo scheduler", thread_ts="1700000100.000200")
    [up] = buttons(outbox.last().message, "vote_up_0")
    for user in ("U0ASKER", "U0ASKER", "U0OTHER"):
        await press(replace(ask, user_id=user), up["action_id"], up["value"])
    rows = await ask.store.fetchall("SELECT user_id FROM feedback_votes ORDER BY user_id")
    assert [r["user_id"] for r in rows] == ["U0ASKER", "U0OTHER"]
    from storage.activity import voted_passages

    [voted] = await voted_passages(ask.store)
    assert (voted.query, voted.up, voted.down) == ("argo scheduler", 2, 0)
    assert "argo" in voted.passage.lower()


async def test_episodes_named_wants_the_whole_name(ask: Ask) -> None:
    assert await episodes_named(ask.store, "kubernetes") == []
    assert await episodes_named(ask.store, "hugo devrel") == []  # a topic too: a search
    [devrel] = await episodes_named(ask.store, "DevRel Role for Machine Learning")
    assert devrel.id == "devrel-open-source-machine-learning"


async def test_episodes_named_sees_a_guest_renamed_after_it_was_asked(ask: Ask) -> None:
    # Names are read once and kept: a change to the catalogue must still show at once.
    assert await episodes_named(ask.store, "zorba") == []
    async with ask.store.transaction() as conn:
        await conn.execute(
            "UPDATE episodes SET guests = json('[\"Zorba Quill\"]') WHERE id = ?",
            ("devrel-open-source-machine-learning",),
        )
    [named] = await episodes_named(ask.store, "Zorba")
    assert named.id == "devrel-open-source-machine-learning"
    assert await episodes_named(ask.store, "zorba") == [named]


async def test_the_digest_lists_useful_answers_without_voters(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    from datetime import UTC, datetime, timedelta

    from handlers.digest import render_digest
    from storage.activity import build_digest

    ask = replace(ask, source=Source.MENTION, message_ts="1700000200.000100")
    await answer_question(ask, "argo scheduler", thread_ts="1700000100.000200")
    [up] = buttons(outbox.last().message, "vote_up_0")
    for user in ("U0VOTER1", "U0VOTER2"):
        await press(replace(ask, user_id=user), up["action_id"], up["value"])
    digest = await build_digest(ask.store, now=datetime.now(UTC) + timedelta(minutes=1))
    [useful] = digest.useful
    assert useful.votes == 2 and "argo" in useful.quote.lower()
    text = shown(render_digest(digest))
    assert "Answers people found useful" in text and "2 votes" in text
    assert "U0VOTER" not in text
