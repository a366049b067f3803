"""The Home tab: published each time someone opens it, from the database, for that person.

Its buttons open modals: the search form, a search run again (an example, one of yours), an
episode's chapters. "How to ask" shows three searches checked to find something in this
catalogue; they are worked out once per catalogue (new episodes: again), not on every open.
"""

from __future__ import annotations

import logging
import re
import weakref
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.commands import clean_query
from handlers.context import Deps
from handlers.render import decode_value
from handlers.search_form import form_view, open_modal, results_view
from handlers.views import (
    HOME_CHAPTERS,
    HOME_NEWEST,
    HOME_RECENT,
    HOME_RUN,
    HOME_SEARCH,
    HOME_SHARED,
    Example,
    FormSearch,
    HomeContent,
    render_episode_view,
    render_home,
    render_notice_view,
)
from storage.activity import most_shared, recent_searches
from storage.catalogue import get_episode, list_episodes, summarise_catalogue
from storage.db import Store
from storage.models import Episode
from storage.search import search

log = logging.getLogger("episode_bot.handlers")

SHARED_DAYS = 28
# Topics too broad to teach anything as an example ("tools" is in half the episodes).
BROAD_TOPICS = frozenset({
    "tools", "practices", "mlops", "ai", "machine learning", "data science", "career",
    "career growth", "career transition", "production", "open-source", "llms",
})  # fmt: skip
MAX_EXAMPLE_TRIES = 12  # searches spent looking for examples, at most, per catalogue

# store -> (catalogue signature, examples): worked out again only when episodes change.
_examples: weakref.WeakKeyDictionary[Store, tuple[tuple, list[Example]]] = (
    weakref.WeakKeyDictionary()
)


def _topics(episodes: list[Episode]) -> list[str]:
    """Topics of the newest episodes, specific ones first, each once."""
    seen: dict[str, None] = {}
    for broad in (False, True):
        for episode in episodes:
            for topic in episode.topics:
                t = " ".join(topic.lower().split())
                if 3 <= len(t) <= 40 and (t in BROAD_TOPICS) == broad:
                    seen.setdefault(t, None)
    return list(seen)


def _candidates(episodes: list[Episode]) -> list[list[Example]]:
    """Example searches by kind (words, a guest, a date range), from the newest episodes."""
    topics = _topics(episodes)
    words = [Example(t, "words you remember, in any order, from any episode") for t in topics]
    guests = []
    for episode in episodes:
        for guest in episode.guests[:1]:
            first = clean_query(guest).split(" ")[0].lower()
            mine = [t for t in _topics([episode]) if t not in BROAD_TOPICS] or _topics([episode])
            if first and mine:
                guests.append(Example(f"guest:{first} {mine[0]}", f"what {guest} said about it"))
    dates = []
    years = sorted({e.date[:4] for e in episodes if e.date and e.date[:4].isdigit()}, reverse=True)
    for year in years[:2]:
        for t in topics[1:4]:
            dates.append(Example(f"{t} after:{year}", f"only episodes published since {year}"))
    return [words, guests, dates]


async def how_to_ask(store: Store, newest: list[Episode], signature: tuple) -> list[Example]:
    """Up to three example searches, each checked to find something here."""
    cached = _examples.get(store)
    if cached and cached[0] == signature:
        return cached[1]
    found: list[Example] = []
    tries = 0
    for kind in _candidates(newest):
        for example in kind:
            if tries >= MAX_EXAMPLE_TRIES or example in found:
                break
            tries += 1
            if (await search(store, example.query, limit=1)).hits:
                found.append(example)
                break
    _examples[store] = (signature, found)
    return found


async def home_content(deps: Deps, user_id: str, *, now: datetime | None = None) -> HomeContent:
    """Everything ``user_id``'s Home tab shows, read from the database now."""
    store = deps.store
    now = now or store.now()
    summary = await summarise_catalogue(store)
    newest = await list_episodes(store, limit=HOME_NEWEST * 2)
    signature = (summary.episodes, summary.newest, tuple(e.id for e in newest))
    since = now - timedelta(days=SHARED_DAYS)
    return HomeContent(
        summary=summary,
        newest=newest[:HOME_NEWEST],
        # until is exclusive: a microsecond on, so a share stamped at this very instant counts
        shared=await most_shared(
            store, since=since, until=now + timedelta(microseconds=1), limit=HOME_SHARED
        ),
        examples=await how_to_ask(store, newest, signature),
        recent=await recent_searches(store, user_id, limit=HOME_RECENT),
        command=deps.settings.slash_command,
        shared_days=SHARED_DAYS,
    )


async def build_home(deps: Deps, user_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The Home tab view for ``user_id`` (what ``views.publish`` is given)."""
    return render_home(await home_content(deps, user_id, now=now))


async def publish_home(deps: Deps, client: Any, user_id: str) -> None:
    try:
        view = await build_home(deps, user_id)
    except Exception as exc:  # noqa: BLE001 - the tab keeps what it showed last time
        log.error("home tab for user=%s: %s: %s", user_id, type(exc).__name__, exc, exc_info=True)
        return
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else exc
        log.error("home tab for user=%s: views.publish refused: %s", user_id, error)


async def run_view(deps: Deps, value: str | None, user_id: str | None) -> dict[str, Any]:
    """The results modal for a search the Home tab offers (an example, one of yours)."""
    query = clean_query(str(decode_value(value).get("q") or ""))
    if not query:
        return render_notice_view("That button has expired. Open the Home tab again.")
    return await results_view(deps, FormSearch(words=query), user_id=user_id, record=True)


async def episode_view(deps: Deps, value: str | None) -> dict[str, Any]:
    episode = await get_episode(deps.store, str(decode_value(value).get("e") or ""))
    if episode is None:
        return render_notice_view("That episode is no longer in the catalogue.")
    return render_episode_view(episode)


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """``app_home_opened`` publishes the tab; its buttons open modals."""
    command = deps.settings.slash_command

    @app.event("app_home_opened")
    async def on_home_opened(event, client) -> None:  # noqa: ANN001
        # The Messages tab sends this event too; only the Home tab has a view to publish.
        if event.get("tab") != "home" or not event.get("user"):
            return
        await publish_home(deps, client, event["user"])

    def opener(what: str, make):  # noqa: ANN001, ANN202
        async def listener(ack, body, client) -> None:  # noqa: ANN001
            await ack()
            user = (body.get("user") or {}).get("id")
            value = ((body.get("actions") or [{}])[0]).get("value")
            await open_modal(client, body.get("trigger_id"), lambda: make(value, user), what, user)

        return listener

    app.action(HOME_SEARCH)(
        opener("home search button", lambda v, u: form_view(deps.store, command=command))
    )
    app.action(re.compile(rf"^{HOME_RUN}_[xr]\d+$"))(
        opener("home search again", lambda v, u: run_view(deps, v, u))
    )
    app.action(re.compile(rf"^{HOME_CHAPTERS}_\d+$"))(
        opener("home chapters", lambda v, u: episode_view(deps, v))
    )
