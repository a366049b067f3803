"""Buttons in-process: share, page, dismiss, and values that are not ours."""

from __future__ import annotations

import json
import logging

import pytest

from handlers.actions import press
from handlers.commands import run_command
from handlers.context import Ask
from tests.handlers.conftest import RecordingOutbox
from tests.handlers.test_commands import buttons, shown


async def preview(ask: Ask, outbox: RecordingOutbox, query: str):  # noqa: ANN201 - a Message
    await run_command(ask, query)
    return outbox.last().message


async def test_share_posts_the_quote_and_records_it(ask: Ask, outbox: RecordingOutbox) -> None:
    share = buttons(await preview(ask, outbox, "argo"), "share_hit_1")[0]
    await press(ask, share["action_id"], share["value"])
    post, removed = outbox.sent[1:]
    assert (post.kind, post.channel, post.thread_ts) == ("post", "C0GENERAL", None)
    value = json.loads(share["value"])
    assert "shared by Ana Asker" in shown(post.message) and "<@" not in shown(post.message)
    assert f"t={int(value['s'])}s" in shown(post.message)
    assert removed.kind == "delete_private"  # the preview goes once shared
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    row = await ask.store.fetchone("SELECT * FROM shares")
    assert (row["episode_id"], row["user_id"], row["channel_id"], row["query"]) == (
        value["e"], "U0ASKER", "C0GENERAL", "argo",
    )  # fmt: skip
    assert row["message_ts"] == "1700000002.000100"


async def test_share_falls_back_to_the_response_url_then_says_so(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    share = buttons(await preview(ask, outbox, "argo"), "share_hit_0")[0]
    outbox.refuse = {"post"}
    await press(ask, share["action_id"], share["value"])
    assert [s.kind for s in outbox.sent[1:]] == ["post_here", "delete_private"]
    outbox.refuse = {"post", "post_here"}
    await press(ask, share["action_id"], share["value"])
    note = outbox.last()
    assert note.kind == "private" and "I'm not a member of this conversation" in note.message.text
    assert "youtube.com" in note.message.text  # the link to copy instead
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    rows = await ask.store.fetchall("SELECT * FROM shares")
    assert len(rows) == 1  # only the share that went out


async def test_paging_replaces_the_preview_and_is_not_a_new_search(
    ask: Ask, outbox: RecordingOutbox
) -> None:
    first = await preview(ask, outbox, "kubernetes")
    [more] = buttons(first, "page_next")
    await press(ask, more["action_id"], more["value"])
    second = outbox.last()
    assert second.replace and "Quotes 4–6" in shown(second.message)
    [back] = buttons(second.message, "page_prev")
    await press(ask, back["action_id"], back["value"])
    third = outbox.last().message
    assert "Quotes 1–3" in shown(third)
    assert [b["value"] for b in buttons(third, "share")] == [
        b["value"] for b in buttons(first, "share")
    ]
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    rows = await ask.store.fetchall("SELECT query FROM search_log")
    assert [r["query"] for r in rows] == ["kubernetes"]


async def test_paging_ends_at_the_last_page(ask: Ask, outbox: RecordingOutbox) -> None:
    """Search pages up to 500 hits; the last page has no Next, and a page past it says so."""
    [more] = buttons(await preview(ask, outbox, "data"), "page_next")
    value = json.loads(more["value"])
    await press(ask, "page_next", json.dumps({**value, "p": 166}))  # hits 499-501
    last = outbox.last().message
    assert "Quotes 499–501" in shown(last) and "more below" not in shown(last)
    assert buttons(last, "page_next") == [] and buttons(last, "page_prev")
    await press(ask, "page_next", json.dumps({**value, "p": 167}))  # an old button
    past = shown(outbox.last().message)
    assert "No more quotes" in past and "Quotes 502" not in past


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("page_next", {"q": "argo", "p": "x"}),
        ("page_prev", {"q": "argo", "p": 1.5}),
        ("page_next", {"q": "argo", "p": 10**30}),
        ("share_hit_0", {"e": "devrel-open-source-machine-learning", "s": 10, "q": "argo",
                         "p": "one", "i": 0}),
        ("share_hit_1", {"e": "x", "s": 10, "q": "argo", "p": 0, "i": [1]}),
        ("share_hit_2", {"e": "x", "s": "NaN", "q": 5, "p": 0, "i": 0}),
        ("open_episode_0", {"e": "no-such-episode"}),
        ("share_episode", {}),
    ],
)  # fmt: skip
async def test_malformed_button_values_say_expired(
    ask: Ask, outbox: RecordingOutbox, caplog: pytest.LogCaptureFixture, action_id, value
) -> None:
    """A hand-made or old button value is "expired", privately; nothing is logged as a bug."""
    caplog.set_level(logging.INFO)
    await press(ask, action_id, json.dumps(value))
    sent = outbox.only()
    assert sent.kind == "private" and "button has expired" in sent.message.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_dismiss_and_unknown_buttons(ask: Ask, outbox: RecordingOutbox, caplog) -> None:
    await press(ask, "dismiss", None)
    assert outbox.only().kind == "delete_private"
    with caplog.at_level(logging.WARNING, logger="episode_bot"):
        await press(ask, "not_ours", "{}")
    assert len(outbox.sent) == 1 and "unknown action 'not_ours'" in caplog.text


async def test_share_an_episode_card(ask: Ask, outbox: RecordingOutbox) -> None:
    [share] = buttons(await preview(ask, outbox, "episode devrel metaflow"), "share_episode")
    await press(ask, share["action_id"], share["value"])
    post, removed = outbox.sent[1:]
    assert post.kind == "post" and post.message.blocks[0]["type"] == "header"
    assert "shared by Ana Asker" in shown(post.message) and "<@" not in shown(post.message)
    assert removed.kind == "delete_private"
    await ask.deps.activity.flush()  # searches and shares are logged in the background
    row = await ask.store.fetchone("SELECT episode_id, start FROM shares")
    assert (row["episode_id"], row["start"]) == ("devrel-open-source-machine-learning", 0.0)
