"""The Home tab and the search form for real: Slack-shaped, signed requests in, the Web API
stand-in out (it checks every view against Slack's limits: tests/slack_api.py view_problems),
the 200-episode corpus database underneath."""

from __future__ import annotations

import json
from typing import Any

from handlers.render import Message
from handlers.views import (
    FORM_CHANNEL,
    FORM_EPISODE,
    FORM_GUEST,
    FORM_PAGE_NEXT,
    FORM_VIEW,
    HOME_SEARCH,
    RESULTS_VIEW,
    SEARCH_SHORTCUT,
)
from storage.activity import record_search, record_share
from storage.catalogue import get_episode, list_episodes
from storage.search import search
from tests.bot.test_slack_app import displayed
from tests.slack_api import (
    app_home_opened,
    as_opened,
    block_suggestion,
    event_callback,
    global_shortcut,
    view_action,
    view_problems,
    view_submission,
)

HUGO = "Hugo Bowne-Anderson"
DEVREL = "devrel-open-source-machine-learning"


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return Message("", tuple(view["blocks"])).buttons()


def shown(view: dict[str, Any]) -> str:
    """The text a person sees in a view (text objects, not button values)."""
    return displayed({"blocks": view["blocks"]})


async def open_home(bot, slack_api, user: str = "U0ASKER") -> dict[str, Any]:
    before = len(slack_api.calls_to("views.publish"))
    status, _ = await bot.send(event_callback(app_home_opened(user), event_id=f"Ev{before}"))
    assert status == 200
    call = (await slack_api.wait_for("views.publish", before + 1))[before]
    assert call.answer["ok"], call.answer
    assert call.args["user_id"] == user
    return call.args["view"]


async def open_form(bot, slack_api) -> dict[str, Any]:
    before = len(slack_api.calls_to("views.open"))
    status, _ = await bot.send(global_shortcut(SEARCH_SHORTCUT))
    assert status == 200
    call = (await slack_api.wait_for("views.open", before + 1))[before]
    assert call.answer["ok"], call.answer
    return as_opened(call.args["view"])


async def submit(bot, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    status, body = await bot.send(view_submission(view, values))
    assert status == 200
    return json.loads(body)


def words(text: str) -> dict[str, Any]:
    return {"q": {"words": {"type": "plain_text_input", "value": text}}}


def picked(block: str, action: str, value: str, label: str | None = None) -> dict[str, Any]:
    chosen = {"text": {"type": "plain_text", "text": label or value}, "value": value}
    return {block: {action: {"type": "external_select", "selected_option": chosen}}}


def dates(after: str | None, before: str | None) -> dict[str, Any]:
    out = {}
    for block, day in (("after", after), ("before", before)):
        if day:
            out[block] = {"date": {"type": "datepicker", "selected_date": day}}
    return out


def posts(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(b["value"]) for b in buttons(view) if b["action_id"].startswith("form_post")]


# -- the Home tab --------------------------------------------------------------------------------
async def test_home_tab_is_published_valid_with_what_the_issue_lists(bot, slack_api) -> None:
    store = bot.store
    await record_search(store, "argo workflows", 3, user_id="U0ASKER", source="slash")
    await record_search(store, "my secret salary question", 0, user_id="U0OTHER", source="dm")
    await record_search(store, "someone elses topic", 2, user_id="U0OTHER", source="slash")
    hit = (await search(store, "argo scheduler", limit=1)).hits[0]
    for sharer in ("U0SHARER1", "U0SHARER2"):
        await record_share(store, hit.episode_id, hit.start, user_id=sharer,
                           channel_id="C0GENERAL", passage_id=hit.passage_id)  # fmt: skip

    view = await open_home(bot, slack_api)
    assert view_problems(view) == [] and view["type"] == "home"
    text = shown(view)
    newest = (await list_episodes(store, limit=1))[0]
    assert newest.title.split(":")[0] in text and "Chapters" in text
    assert "shared twice" in text and "U0SHARER" not in json.dumps(view)  # counts, never who
    assert "argo workflows" in text  # the person's own search...
    assert "someone elses topic" not in text and "salary" not in text  # ...never another's
    assert any(b["action_id"] == HOME_SEARCH for b in buttons(view))
    tries = [json.loads(b["value"])["q"] for b in buttons(view) if "_x" in b["action_id"]]
    assert len(tries) == 3
    for query in tries:  # "how to ask" examples really find something here
        assert (await search(store, query, limit=1)).hits, query


async def test_messages_tab_opening_publishes_nothing(bot, slack_api) -> None:
    status, _ = await bot.send(event_callback(app_home_opened(tab="messages")))
    assert status == 200
    await slack_api.quiet(0.3)
    assert slack_api.calls_to("views.publish") == []


async def test_home_chapters_button_opens_the_episode_in_a_modal(bot, slack_api) -> None:
    view = await open_home(bot, slack_api)
    chapters = next(b for b in buttons(view) if b["action_id"].startswith("home_chapters"))
    status, _ = await bot.send(view_action(as_opened(view, "VHOME"), chapters["action_id"],
                                           chapters["value"]))  # fmt: skip
    assert status == 200
    [call] = await slack_api.wait_for("views.open")
    assert call.answer["ok"], call.answer
    episode = await get_episode(bot.store, json.loads(chapters["value"])["e"])
    assert episode is not None and episode.chapters
    assert episode.chapters[0].title.split(" ")[0] in shown(call.args["view"])


# -- opening the form ----------------------------------------------------------------------------
async def test_global_shortcut_and_home_button_open_the_form(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    [call] = slack_api.calls_to("views.open")
    assert call.args["trigger_id"] == "111.222.shortcut"
    assert form["callback_id"] == FORM_VIEW and view_problems(form) == []
    kinds = {b["block_id"]: b["element"]["type"] for b in form["blocks"] if b["type"] == "input"}
    # 180 guests and 200 episodes: more than 100 options, so the menus load as one types
    assert kinds == {"q": "plain_text_input", "guest": "external_select",
                     "episode": "external_select", "after": "datepicker",
                     "before": "datepicker", "to": "conversations_select"}  # fmt: skip
    post_to = next(b for b in form["blocks"] if b.get("block_id") == "to")["element"]
    assert post_to["default_to_current_conversation"] is True

    home = await open_home(bot, slack_api)
    status, _ = await bot.send(view_action(as_opened(home, "VHOME"), HOME_SEARCH))
    assert status == 200
    calls = await slack_api.wait_for("views.open", 2)
    assert calls[1].args["trigger_id"] == "555.666.button"
    assert calls[1].args["view"]["callback_id"] == FORM_VIEW and calls[1].answer["ok"]


async def test_guest_and_episode_options_match_what_is_typed(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    status, body = await bot.send(block_suggestion(form, FORM_GUEST, "hug", block_id="guest"))
    assert status == 200
    options = json.loads(body)["options"]
    names = [o["value"] for o in options]
    assert HUGO in names
    for name in names:
        assert any(w.lower().startswith("hug") for w in name.replace("-", " ").split()), name
    status, body = await bot.send(
        block_suggestion(form, FORM_EPISODE, "devrel", block_id="episode")
    )
    episodes = json.loads(body)["options"]
    assert DEVREL in [o["value"] for o in episodes]
    assert all(len(o["text"]["text"]) <= 75 for o in episodes)
    status, body = await bot.send(block_suggestion(form, FORM_GUEST, "", block_id="guest"))
    assert len(json.loads(body)["options"]) == 100  # the first 100 before anything is typed


# -- submitting ----------------------------------------------------------------------------------
async def test_submission_with_filters_shows_results_that_obey_them(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    values = {**words("open source"), **picked("guest", FORM_GUEST, HUGO),
              **dates("2023-01-01", "2025-12-31")}  # fmt: skip
    answer = await submit(bot, form, values)
    assert answer["response_action"] == "update"
    view = answer["view"]
    assert view["callback_id"] == RESULTS_VIEW and view_problems(as_opened(view)) == []
    found = posts(view)
    assert found, shown(view)
    for hit in found:
        episode = await get_episode(bot.store, hit["e"])
        assert episode is not None and HUGO in episode.guests
        assert "2023-01-01" <= (episode.date or "") <= "2025-12-31"
    assert "▶" in shown(view) and "youtube.com/watch" in json.dumps(view)

    only = await submit(bot, form, picked("episode", FORM_EPISODE, DEVREL, "DevRel…"))
    in_episode = posts(only["view"])
    assert in_episode and {h["e"] for h in in_episode} == {DEVREL}
    row = await bot.store.fetchone("SELECT query, source FROM search_log ORDER BY id DESC")
    assert tuple(row) == ("open source", "form")  # words only; filter-only searches aren't


async def test_invalid_submissions_get_errors_on_the_field(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    empty = await submit(bot, form, {})
    assert empty["response_action"] == "errors" and set(empty["errors"]) == {"q"}
    backwards = await submit(bot, form, {**words("argo"), **dates("2024-05-01", "2023-01-01")})
    assert backwards["response_action"] == "errors" and set(backwards["errors"]) == {"before"}
    assert "2024-05-01" in backwards["errors"]["before"]
    assert slack_api.calls_to("views.update") == []


async def test_nothing_found_says_so_with_the_did_you_mean(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    answer = await submit(bot, form, words("argp"))  # four letters: suggested, not corrected
    view = answer["view"]
    assert "Nothing found" in shown(view) and "Did you mean *argo*" in shown(view)
    assert view_problems(as_opened(view)) == [] and posts(view) == []
    [suggest] = [b for b in buttons(view) if b["action_id"] == "form_suggest"]
    status, _ = await bot.send(view_action(as_opened(view), "form_suggest", suggest["value"]))
    assert status == 200
    [update] = await slack_api.wait_for("views.update")
    assert update.answer["ok"] and posts(update.args["view"])


# -- in the results ------------------------------------------------------------------------------
async def test_posting_a_result_reaches_the_chosen_conversation(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    results = as_opened((await submit(bot, form, words("argo scheduler")))["view"])
    post = next(b for b in buttons(results) if b["action_id"] == "form_post_0")
    chosen = {"x1": {FORM_CHANNEL: {"type": "conversations_select",
                                    "selected_conversation": "C0CHOSEN"}}}  # fmt: skip
    status, _ = await bot.send(view_action(results, "form_post_0", post["value"], values=chosen))
    assert status == 200
    [message] = await slack_api.wait_for("chat.postMessage")
    assert message.args["channel"] == "C0CHOSEN" and message.answer["ok"]
    assert "shared by" in json.dumps(message.args) and "<@U0ASKER>" not in json.dumps(message.args)
    assert f"t={int(json.loads(post['value'])['s'])}s" in json.dumps(message.args)
    [update] = await slack_api.wait_for("views.update")
    assert update.args["view_id"] == results["id"] and update.answer["ok"]
    assert "Posted to <#C0CHOSEN>" in shown(update.args["view"])
    await bot.deps.activity.flush()  # shares are logged in the background
    row = await bot.store.fetchone("SELECT channel_id, user_id, query FROM shares")
    assert tuple(row) == ("C0CHOSEN", "U0ASKER", "argo scheduler")

    # A conversation the bot may not post in: said in the modal, nothing recorded.
    slack_api.reply("chat.postMessage", json={"ok": False, "error": "channel_not_found"})
    chosen["x1"][FORM_CHANNEL]["selected_conversation"] = "G0SECRET"
    await bot.send(view_action(results, "form_post_0", post["value"], values=chosen))
    updates = await slack_api.wait_for("views.update", 2)
    assert "can't post in <#G0SECRET>" in shown(updates[1].args["view"])
    assert (await bot.store.fetchone("SELECT count(*) FROM shares"))[0] == 1


async def test_results_page_in_the_modal(bot, slack_api) -> None:
    form = await open_form(bot, slack_api)
    first = as_opened((await submit(bot, form, words("feature store")))["view"])
    [nxt] = [b for b in buttons(first) if b["action_id"] == FORM_PAGE_NEXT]
    await bot.send(view_action(first, FORM_PAGE_NEXT, nxt["value"]))
    [update] = await slack_api.wait_for("views.update")
    second = update.args["view"]
    assert update.answer["ok"] and "Quotes 6–10" in shown(second)
    assert not {(h["e"], h["s"]) for h in posts(first)} & {(h["e"], h["s"]) for h in posts(second)}
