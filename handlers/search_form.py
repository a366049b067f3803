"""The search form: a modal opened by the "Search episodes" shortcut or the Home tab's button.

Words, a guest, an episode and dates go to ``storage.search.search`` as data (its keyword
filters), never pasted into the query language. Submitting shows the results in the modal
(``response_action: update``) or, for a form that can't be searched, says why on the field
(``response_action: errors``). Results page in place (``views.update``) and each can be posted
into the conversation the person picks. Guest and episode menus load matching choices as one
types when there are more than Slack's 100 static options (``block_suggestion``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.context import CannotPost, Deps, SlackOutbox, Source, problem_text
from handlers.render import decode_value, render_shared
from handlers.slack_ids import is_channel_id
from handlers.views import (
    AFTER,
    BEFORE,
    EPISODE,
    FORM_CHANNEL,
    FORM_EDIT,
    FORM_EPISODE,
    FORM_GUEST,
    FORM_PAGE_NEXT,
    FORM_PAGE_PREV,
    FORM_POST,
    FORM_SUGGEST,
    FORM_VIEW,
    GUEST,
    INPUT_ACTIONS,
    MAX_OPTIONS,
    POST_TO,
    RESULTS_PER_PAGE,
    SEARCH_SHORTCUT,
    WORDS,
    WORDS_CHARS,
    FormSearch,
    episode_options,
    guest_options,
    render_notice_view,
    render_search_form,
    render_search_results,
)
from storage.catalogue import list_episode_choices, list_guests
from storage.db import Store
from storage.models import Hit
from storage.search import search

log = logging.getLogger("episode_bot.handlers")

EXPIRED = "That button has expired. Press *Change search* and search again."
TYPED_CHARS = 100  # what a select menu's typeahead sends is cut here
NOTHING_TO_SEARCH = "Type some words, or pick a guest, an episode or dates to search."
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- the form ------------------------------------------------------------------------------------
async def form_view(store: Store, form: FormSearch | None = None, *, command: str) -> dict:
    """The form, its menus static when the catalogue has at most 100 guests (episodes)."""
    form = form or FormSearch()
    guests = await list_guests(store, limit=MAX_OPTIONS + 1)
    episodes = await list_episode_choices(store, limit=MAX_OPTIONS + 1)
    return render_search_form(
        form,
        guests=guests if len(guests) <= MAX_OPTIONS else None,
        episodes=episodes if len(episodes) <= MAX_OPTIONS else None,
        command=command,
    )


def _state(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    found = (values.get(block_id) or {}).get(INPUT_ACTIONS[block_id])
    return found if isinstance(found, dict) else {}


def _text(value: Any, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def form_from_state(values: dict[str, Any], *, before: FormSearch | None = None) -> FormSearch:
    """What a submitted form asks for, from ``view.state.values`` (Slack's shape)."""
    guest = _state(values, GUEST).get("selected_option") or {}
    episode = _state(values, EPISODE).get("selected_option") or {}
    episode_id = _text(episode.get("value"), 200) or None
    return FormSearch(
        words=_text(_state(values, WORDS).get("value"), WORDS_CHARS),
        guest=_text(guest.get("value"), 200) or None,
        episode=episode_id,
        episode_title=_text((episode.get("text") or {}).get("text"), 300) or None,
        after=_text(_state(values, AFTER).get("selected_date"), 10) or None,
        before=_text(_state(values, BEFORE).get("selected_date"), 10) or None,
        channel=_text(_state(values, POST_TO).get("selected_conversation"), 40) or None,
    )


def _is_date(text: str) -> bool:
    try:
        return bool(_ISO_DATE.fullmatch(text)) and date.fromisoformat(text) is not None
    except ValueError:
        return False


def form_errors(form: FormSearch) -> dict[str, str]:
    """Problems to show on the form's fields (block id -> message); empty when it can run."""
    errors: dict[str, str] = {}
    if form.is_empty:
        errors[WORDS] = NOTHING_TO_SEARCH
    for block_id, value in ((AFTER, form.after), (BEFORE, form.before)):
        if value and not _is_date(value):
            errors[block_id] = f"“{value[:20]}” is not a date; pick one in the calendar."
    if BEFORE not in errors and AFTER not in errors and form.after and form.before:
        if form.before < form.after:
            errors[BEFORE] = f"This is before the start date ({form.after}); pick a later end date."
    return errors


async def results_view(
    deps: Deps,
    form: FormSearch,
    *,
    user_id: str | None,
    note: str | None = None,
    record: bool = False,
) -> dict:
    """Search as the form asks and render that page in the modal (``record``: log it)."""
    result = await search(
        deps.store, form.words,
        limit=RESULTS_PER_PAGE, offset=form.page * RESULTS_PER_PAGE,
        guest=form.guest, episode=form.episode, after=form.after, before=form.before,
    )  # fmt: skip
    if record and form.words.strip():
        # Only the words: they are the topic the digest counts (filters are not).
        deps.activity.search(form.words, len(result.hits), user_id=user_id, source=Source.FORM)
    return render_search_results(result, form, note=note)


async def submit(deps: Deps, values: dict[str, Any], *, user_id: str | None) -> dict[str, Any]:
    """What to answer a ``view_submission`` of the form with: field errors, or the results."""
    form = form_from_state(values)
    errors = form_errors(form)
    if errors:
        return {"response_action": "errors", "errors": errors}
    view = await results_view(deps, form, user_id=user_id, record=True)
    return {"response_action": "update", "view": view}


# -- buttons inside the results ------------------------------------------------------------------
def selected_channel(view: dict[str, Any]) -> str | None:
    """The conversation picked in the results' "Post a quote to" menu, if any."""
    for block in ((view.get("state") or {}).get("values") or {}).values():
        chosen = (block or {}).get(FORM_CHANNEL) or {}
        if isinstance(chosen.get("selected_conversation"), str):
            return chosen["selected_conversation"]
    return None


def _whole(fields: dict[str, Any], key: str) -> int | None:
    value = fields.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1000:
        return None
    return value


async def _hit_to_post(deps: Deps, form: FormSearch, fields: dict[str, Any]) -> Hit | None:
    """The hit whose Post was pressed: the same search again, checked by episode and second."""
    episode_id, start, index = fields.get("e"), fields.get("s"), _whole(fields, "i")
    if (
        not isinstance(episode_id, str)
        or isinstance(start, bool)
        or not isinstance(start, int | float)
        or not math.isfinite(start)
        or index is None
    ):
        return None
    filters = {"guest": form.guest, "episode": form.episode, "after": form.after,
               "before": form.before}  # fmt: skip
    offset = form.page * RESULTS_PER_PAGE
    for limit, skip in ((RESULTS_PER_PAGE, offset), (50, 0)):  # the page, then a little further
        result = await search(deps.store, form.words, limit=limit, offset=skip, **filters)
        for hit in result.hits:
            if hit.episode_id == episode_id and abs(hit.start - start) < 0.5:
                return hit
    return None


def _where(channel: str) -> str:
    return f"<#{channel}>" if is_channel_id(channel) else "that conversation"


async def post_hit(
    deps: Deps, client: Any, form: FormSearch, fields: dict[str, Any], *, user_id: str | None
) -> str:
    """Post the chosen quote where the person picked; the note to show in the modal."""
    if not form.channel:
        return ":point_down: Pick a conversation under *Post a quote to*, then press *Post*."
    hit = await _hit_to_post(deps, form, fields)
    if hit is None:
        return EXPIRED
    outbox = SlackOutbox(client, user_id=user_id, channel_id=form.channel, names=deps.names)
    sharer = await outbox.display_name(user_id) if user_id else None
    try:
        ts = await outbox.post(
            form.channel, render_shared(hit, sharer=sharer, query=form.words or None)
        )
    except CannotPost:
        return (
            f":no_entry: I can't post in {_where(form.channel)}: it is private or a direct "
            "message I'm not part of. Invite me there with `/invite @episode-bot`, or pick "
            "another conversation."
        )
    deps.activity.share(
        hit.episode_id, hit.start,
        user_id=user_id, channel_id=form.channel, passage_id=hit.passage_id,
        query=form.words or None, message_ts=ts or None,
    )  # fmt: skip
    return f":white_check_mark: Posted to {_where(form.channel)}."


async def press_in_results(
    deps: Deps, client: Any, view: dict[str, Any], action: dict[str, Any], *, user_id: str | None
) -> dict:
    """The view that replaces the results after a button in them was pressed."""
    form = FormSearch.from_metadata(view.get("private_metadata"))
    if form is None:
        return render_notice_view(EXPIRED.replace("Press *Change search* and", "Please"))
    form = replace(form, channel=selected_channel(view) or form.channel)
    action_id = action.get("action_id", "")
    fields = decode_value(action.get("value"))
    if action_id == FORM_EDIT:
        return await form_view(deps.store, replace(form, page=0), command=_command(deps))
    if action_id in (FORM_PAGE_PREV, FORM_PAGE_NEXT):
        page = _whole(fields, "p")
        if page is None:
            return await results_view(deps, form, user_id=user_id, note=EXPIRED)
        return await results_view(deps, replace(form, page=page), user_id=user_id)
    if action_id == FORM_SUGGEST:
        words = _text(fields.get("q"), WORDS_CHARS)
        if not words:
            return await results_view(deps, form, user_id=user_id, note=EXPIRED)
        form = replace(form, words=words, page=0)
        return await results_view(deps, form, user_id=user_id, record=True)
    note = await post_hit(deps, client, form, fields, user_id=user_id)
    return await results_view(deps, form, user_id=user_id, note=note)


def _command(deps: Deps) -> str:
    return deps.settings.slash_command


# -- menus that load as one types ----------------------------------------------------------------
async def guest_choices(deps: Deps, typed: str) -> list[dict[str, Any]]:
    return guest_options(await list_guests(deps.store, _text(typed, TYPED_CHARS)))


async def episode_choices(deps: Deps, typed: str) -> list[dict[str, Any]]:
    return episode_options(await list_episode_choices(deps.store, _text(typed, TYPED_CHARS)))


# -- Slack ---------------------------------------------------------------------------------------
async def _show(
    client: Any, method: str, target: dict[str, str], make: Callable[[], Awaitable[dict]],
    what: str, user: Any,
) -> None:  # fmt: skip
    """Call ``views.open`` or ``views.update`` with what ``make`` builds; when building fails,
    a modal saying so (the details go to the log, never to the person)."""
    try:
        view = await make()
    except Exception as exc:  # noqa: BLE001 - the person sees a short message, the log the rest
        log.error("%s failed (user=%s): %s: %s", what, user, type(exc).__name__, exc,
                  exc_info=True)  # fmt: skip
        view = render_notice_view(problem_text(exc))
    try:
        await getattr(client, method)(**target, view=view)
    except SlackApiError as exc:
        log.error("%s: %s refused (user=%s): %s", what, method.replace("_", "."), user,
                  exc.response.get("error") if exc.response is not None else exc)  # fmt: skip


async def open_modal(
    client: Any, trigger_id: str | None, make: Callable[[], Awaitable[dict]], what: str, user: Any
) -> None:
    """Open a modal with what ``make`` builds (a trigger_id is good for 3 seconds)."""
    if not trigger_id:
        log.warning("%s: no trigger_id from user=%s; nothing opened", what, user)
        return
    await _show(client, "views_open", {"trigger_id": trigger_id}, make, what, user)


async def update_modal(
    client: Any, view_id: str | None, make: Callable[[], Awaitable[dict]], what: str, user: Any
) -> None:
    """Replace the modal ``view_id`` with what ``make`` builds."""
    if view_id:
        await _show(client, "views_update", {"view_id": view_id}, make, what, user)


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """The global shortcut, the form's submission, buttons in the results, and menu options."""
    command = _command(deps)

    @app.shortcut(SEARCH_SHORTCUT)
    async def on_shortcut(ack, body, client) -> None:  # noqa: ANN001
        await ack()
        user = (body.get("user") or {}).get("id")
        await open_modal(
            client, body.get("trigger_id"),
            lambda: form_view(deps.store, command=command), "search shortcut", user,
        )  # fmt: skip

    @app.view(FORM_VIEW)
    async def on_submit(ack, body, view) -> None:  # noqa: ANN001
        user = (body.get("user") or {}).get("id")
        values = (view.get("state") or {}).get("values") or {}
        try:
            answer = await submit(deps, values, user_id=user)
        except Exception as exc:  # noqa: BLE001
            log.error("search form failed (user=%s): %s: %s", user, type(exc).__name__, exc,
                      exc_info=True)  # fmt: skip
            answer = {"response_action": "update",
                      "view": render_notice_view(problem_text(exc))}  # fmt: skip
        await ack(**answer)

    buttons = re.compile(
        rf"^({FORM_PAGE_PREV}|{FORM_PAGE_NEXT}|{FORM_SUGGEST}|{FORM_EDIT}|{FORM_POST}_\d+)$"
    )

    @app.action(buttons)
    async def on_results_button(ack, body, client) -> None:  # noqa: ANN001
        await ack()
        view = body.get("view") or {}
        action = (body.get("actions") or [{}])[0]
        user = (body.get("user") or {}).get("id")
        await update_modal(
            client, view.get("id"),
            lambda: press_in_results(deps, client, view, action, user_id=user),
            f"button {action.get('action_id')}", user,
        )  # fmt: skip

    @app.action(FORM_CHANNEL)
    async def on_channel_chosen(ack) -> None:  # noqa: ANN001
        await ack()  # read from the view's state when Post is pressed

    async def answer_options(ack, payload, load, what: str) -> None:  # noqa: ANN001
        try:
            options = await load(deps, payload.get("value") or "")
        except Exception as exc:  # noqa: BLE001 - an empty menu, not a hung one
            log.error("%s options failed: %s: %s", what, type(exc).__name__, exc)
            options = []
        await ack(options=options)

    @app.options(FORM_GUEST)
    async def on_guest_options(ack, payload) -> None:  # noqa: ANN001
        await answer_options(ack, payload, guest_choices, "guest")

    @app.options(FORM_EPISODE)
    async def on_episode_options(ack, payload) -> None:  # noqa: ANN001
        await answer_options(ack, payload, episode_choices, "episode")
