"""Block Kit views: the Home tab, the search form, its results, an episode in a modal.

Views have their own limits (https://docs.slack.dev/reference/views/modal-views): 100 blocks, a
24-character title, submit and close labels, 3,000 characters of ``private_metadata``; select
menus take at most 100 options of 75 characters, each value at most 150. Every function here
stays within them however large the catalogue or long the text, and escapes user and transcript
text as handlers/render.py does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from handlers.render import (
    NAME_CHARS,
    TITLE_CHARS,
    actions_block,
    button,
    clip,
    context_block,
    divider,
    header,
    hit_lines,
    length,
    link,
    render_episode,
    safe,
    section,
)
from storage.activity import SharedQuote
from storage.catalogue import CatalogueSummary, EpisodeChoice, deep_link
from storage.clock import clock
from storage.models import Episode, SearchResult

# Slack's limits for views and their elements.
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24  # title, submit and close labels
MAX_METADATA = 3000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150

RESULTS_PER_PAGE = 5
WORDS_CHARS = 500  # the words field's max_length, and what private_metadata keeps of it

# Callback ids (the shortcut in manifest.yml, the views) and action ids. Buttons repeated in
# one view end in "_<n>"; the listeners route on the prefix.
SEARCH_SHORTCUT = "search_episodes"
FORM_VIEW = "search_form"
RESULTS_VIEW = "search_results"
EPISODE_VIEW = "episode_card"
HOME_SEARCH = "home_search"  # open the form
HOME_RUN = "home_run"  # run a search (an example, one of yours) in a modal
HOME_CHAPTERS = "home_chapters"  # an episode's chapters in a modal
FORM_GUEST = "form_guest"  # select menus whose options may load as one types
FORM_EPISODE = "form_episode"
FORM_CHANNEL = "form_channel"  # where Post sends a quote
FORM_POST = "form_post"
FORM_PAGE_PREV = "form_page_prev"
FORM_PAGE_NEXT = "form_page_next"
FORM_SUGGEST = "form_suggest"
FORM_EDIT = "form_edit"

# The form's input blocks (block_id, action_id): view_submission state is keyed by these, and
# response_action "errors" names the block.
WORDS, GUEST, EPISODE, AFTER, BEFORE, POST_TO = "q", "guest", "episode", "after", "before", "to"
INPUT_ACTIONS = {
    WORDS: "words",
    GUEST: FORM_GUEST,
    EPISODE: FORM_EPISODE,
    AFTER: "date",
    BEFORE: "date",
    POST_TO: FORM_CHANNEL,
}


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (Slack shows it as typed: no escaping, only clipping)."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


@dataclass(frozen=True)
class FormSearch:
    """What someone asked the form for; travels in the view's ``private_metadata``.

    ``guest`` is a guest's name, ``episode`` an episode id (``episode_title`` for showing it),
    ``after``/``before`` ISO dates, ``channel`` where Post sends a quote, ``page`` from 0.
    """

    words: str = ""
    guest: str | None = None
    episode: str | None = None
    episode_title: str | None = None
    after: str | None = None
    before: str | None = None
    channel: str | None = None
    page: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.words.strip() or self.guest or self.episode or self.after or self.before)

    def to_metadata(self) -> str:
        """Compact JSON within :data:`MAX_METADATA` (long titles and words are clipped)."""
        short = replace(
            self,
            words=self.words[:WORDS_CHARS],
            guest=(self.guest or "")[:MAX_OPTION_VALUE] or None,
            episode_title=clip(self.episode_title or "", 300) or None,
        )
        data = {k: v for k, v in asdict(short).items() if v not in (None, "", 0)}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: str | None) -> FormSearch | None:
        """The search a view carries; None when the metadata is not one of ours."""
        try:
            data = json.loads(text or "")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                return None
            if key == "page":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1000:
                    return None
            elif not isinstance(value, str):
                return None
            values[key] = value
        return cls(**values)

    def describe(self) -> str:
        """The filters in words, escaped mrkdwn ("guest *Ana Lima* · from 2023-01-01")."""
        parts = []
        if self.guest:
            parts.append(f"guest *{safe(self.guest, NAME_CHARS)}*")
        if self.episode:
            parts.append(f"in *{safe(self.episode_title or self.episode, 200)}*")
        if self.after and self.before:
            parts.append(f"{self.after} to {self.before}")
        elif self.after:
            parts.append(f"from {self.after}")
        elif self.before:
            parts.append(f"until {self.before}")
        return " · ".join(parts)


# -- select options ------------------------------------------------------------------------------
def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, MAX_OPTION_TEXT), "value": value}


def guest_options(names: Sequence[str]) -> list[dict[str, Any]]:
    """Guests as options (a name too long to be an option's value is left out)."""
    return [option(n, n) for n in names if n and len(n) <= MAX_OPTION_VALUE][:MAX_OPTIONS]


def episode_options(choices: Sequence[EpisodeChoice]) -> list[dict[str, Any]]:
    """Episodes as options: the title, then the date (the title clipped to leave it room)."""
    out = []
    for c in choices:
        if not c.id or len(c.id) > MAX_OPTION_VALUE:
            continue
        when = f" ({c.date[:4]})" if c.date else ""
        out.append(option(clip(c.title, MAX_OPTION_TEXT - len(when)) + when, c.id))
    return out[:MAX_OPTIONS]


def _select(
    action_id: str,
    placeholder: str,
    static: list[dict[str, Any]] | None,
    initial: dict[str, Any] | None,
) -> dict[str, Any]:
    """A static_select over ``static`` options, or (None) an external_select that asks the bot
    for options as one types (``block_suggestion``; Bolt's ``app.options``)."""
    el: dict[str, Any] = {"action_id": action_id, "placeholder": plain(placeholder, 150)}
    if static is not None:
        el["type"] = "static_select"
        el["options"] = static or [option("(none yet)", "-")]
        if initial and any(o["value"] == initial["value"] for o in el["options"]):
            el["initial_option"] = initial
    else:
        el["type"] = "external_select"
        el["min_query_length"] = 0  # the first 100 show at once; typing narrows them
        if initial:
            el["initial_option"] = initial
    return el


def _input(
    block_id: str, label: str, element: dict[str, Any], hint: str | None = None
) -> dict[str, Any]:
    block = {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": plain(label, MAX_LABEL),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, MAX_LABEL)
    return block


def _modal(
    callback_id: str,
    title: str,
    blocks: list[dict[str, Any]],
    *,
    submit: str | None = None,
    close: str = "Close",
    metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_VIEW_TITLE),
        "close": plain(close, MAX_VIEW_TITLE),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }
    if submit:
        view["submit"] = plain(submit, MAX_VIEW_TITLE)
    if metadata:
        view["private_metadata"] = metadata[:MAX_METADATA]
    return view


def _post_to(form: FormSearch) -> dict[str, Any]:
    """Where Post sends a quote: the conversation chosen before, else where the person was
    when they opened the form (Slack fills that in)."""
    el: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": FORM_CHANNEL,
        "placeholder": plain("Where Post sends a quote", MAX_PLACEHOLDER),
        "filter": {"exclude_bot_users": True},
    }
    if form.channel:
        el["initial_conversation"] = form.channel
    else:
        el["default_to_current_conversation"] = True
    return el


# -- the search form -----------------------------------------------------------------------------
def render_search_form(
    form: FormSearch | None = None,
    *,
    guests: Sequence[str] | None = None,
    episodes: Sequence[EpisodeChoice] | None = None,
    command: str = "/episodes",
) -> dict[str, Any]:
    """The search form as a modal.

    ``guests``/``episodes``: every choice when there are at most 100 (a static select); None
    when there are more, and the menu loads matching ones as the person types.
    """
    words: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTIONS[WORDS],
        "max_length": WORDS_CHARS,
        "placeholder": plain("argo workflows, how to become a data engineer…", MAX_PLACEHOLDER),
    }
    if form.words:
        words["initial_value"] = form.words[:WORDS_CHARS]
    guest_initial = option(form.guest, form.guest) if form.guest else None
    episode_initial = (
        option(form.episode_title or form.episode, form.episode) if form.episode else None
    )
    static_guests = guest_options(guests) if guests is not None else None
    static_episodes = episode_options(episodes) if episodes is not None else None
    after: dict[str, Any] = {"type": "datepicker", "action_id": "date"}
    before: dict[str, Any] = {"type": "datepicker", "action_id": "date"}
    if form.after:
        after["initial_date"] = form.after
    if form.before:
        before["initial_date"] = form.before
    blocks = [
        section(
            "Fill in what you know; everything is optional, but give me words or at least one "
            f"filter. (The same search as `{safe(command, 40)} &lt;words&gt;`.)"
        ),
        _input(WORDS, "Words", words, "What was said, or what you want to know."),
        _input(
            GUEST,
            "Guest",
            _select(FORM_GUEST, "Any guest", static_guests, guest_initial),
        ),  # fmt: skip
        _input(
            EPISODE,
            "Episode",
            _select(FORM_EPISODE, "Any episode", static_episodes, episode_initial),
        ),  # fmt: skip
        _input(AFTER, "Published from", after),
        _input(BEFORE, "Published until", before),
        _input(POST_TO, "Post a result to", _post_to(form), "You pick the quote after searching."),
    ]
    return _modal(
        FORM_VIEW, "Search episodes", blocks, submit="Search", close="Cancel",
        metadata=form.to_metadata(),
    )  # fmt: skip


# -- results -------------------------------------------------------------------------------------
def render_search_results(
    result: SearchResult, form: FormSearch, *, note: str | None = None
) -> dict[str, Any]:
    """One page of hits in the modal: quote, speaker, chapter and linked timestamp, a Post
    button each, a conversation to post to, paging, and a way back to the form.

    ``note`` (our own mrkdwn, already escaped) goes on top: "Posted to #general", a refusal.
    """
    page = form.page
    top = [section(note)] if note else []
    notices = [context_block(f"ⓘ {safe(n, 300)}") for n in result.notices[:3] if n.strip()]
    filters = form.describe()
    what = f"*{safe(form.words, 300)}*" if form.words.strip() else "everything"
    if filters:
        what += f" · {filters}"
    nav: list[dict[str, Any]] = []
    if result.hits:
        first = page * RESULTS_PER_PAGE + 1
        last = first + len(result.hits) - 1
        more = " · more on the next page" if result.has_more else ""
        blocks = [*top, context_block(f"Quotes {first}–{last} for {what}{more}"), *notices]
        for i, hit in enumerate(result.hits[:RESULTS_PER_PAGE]):
            text, meta = hit_lines(hit)
            post = button("Post", f"{FORM_POST}_{i}", {"i": i, "e": hit.episode_id,
                                                      "s": round(hit.start, 2)})  # fmt: skip
            blocks += [section(text, post), context_block(meta), divider()]
        if result.suggestion:
            blocks.append(context_block(f"Showing results for *{safe(result.suggestion, 200)}*"))
        # A section accessory, not an input: choosing fires an action we only acknowledge,
        # and Post reads the choice from the view's state.
        blocks.append(section("*Post a quote to* (it says you shared it)", _post_to(form)))
        if page > 0:
            nav.append(button("◀ Previous", FORM_PAGE_PREV, {"p": page - 1}))
        if result.has_more:
            nav.append(button("Next ▶", FORM_PAGE_NEXT, {"p": page + 1}))
    else:
        lines = [f"No more quotes for {what}." if page > 0 else f"Nothing found for {what}."]
        if result.suggestion:
            lines.append(f"Did you mean *{safe(result.suggestion, 200)}*?")
            nav.append(
                button(f"Search “{clip(result.suggestion, 50)}”", FORM_SUGGEST,
                       {"q": result.suggestion}, style="primary")
            )  # fmt: skip
        else:
            lines.append(
                "Try fewer or other words, or fewer filters: a guest and an episode together, "
                "or a narrow date range, leave little to search."
            )
        blocks = [*top, section("\n".join(lines)), *notices]
        if page > 0:
            nav.append(button("◀ Previous", FORM_PAGE_PREV, {"p": page - 1}))
    nav.append(button("Change search", FORM_EDIT))
    blocks.append(actions_block(*nav))
    return _modal(RESULTS_VIEW, "Search episodes", blocks, close="Done",
                  metadata=form.to_metadata())  # fmt: skip


def render_notice_view(text: str) -> dict[str, Any]:
    """A modal that only says ``text`` (our own mrkdwn, already safe): expired, a failure."""
    return _modal(RESULTS_VIEW, "Search episodes", [section(text)], close="Close")


def render_episode_view(episode: Episode) -> dict[str, Any]:
    """An episode's card (guests, date, links, chapters with timestamps) as a modal."""
    card = render_episode(episode, shareable=False)
    return _modal(EPISODE_VIEW, "Episode", list(card.blocks), close="Close")


# -- the Home tab --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """A search to show in "How to ask": what to type and what it does."""

    query: str
    meaning: str


@dataclass(frozen=True)
class HomeContent:
    """Everything one person's Home tab shows; gathered by handlers/home.py."""

    summary: CatalogueSummary
    newest: Sequence[Episode] = ()
    shared: Sequence[SharedQuote] = ()
    examples: Sequence[Example] = ()
    recent: Sequence[str] = ()  # this person's own searches, newest first
    command: str = "/episodes"
    shared_days: int = 28


HOME_NEWEST = 5
HOME_SHARED = 3
HOME_RECENT = 5


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def render_home(home: HomeContent) -> dict[str, Any]:
    """The Home tab: what the bot is for, newest episodes, most shared, how to ask, your
    searches. A fixed number of entries per section keeps it far inside 100 blocks."""
    command = safe(home.command, 40)
    blocks: list[dict[str, Any]] = [
        section(
            "*Search every episode of the show for the moment someone said it:* the quote, who "
            "said it, and a link to that second.",
            button("Search episodes", HOME_SEARCH, style="primary"),
        )
    ]
    s = home.summary
    if s.episodes:
        facts = [f"{s.episodes:,} episode{'s' if s.episodes != 1 else ''}"]
        if s.hours >= 1:
            facts.append(f"{s.hours:,.0f} h of audio")
        if s.newest:
            facts.append(f"newest {safe(s.newest[:10], 20)}")
        blocks.append(context_block(" · ".join(facts)))
    else:
        blocks.append(context_block("No episodes yet. An admin adds them with "
                                    "`python -m bot ingest PATH`."))  # fmt: skip

    if home.newest:
        blocks += [divider(), header("Newest episodes")]
        for i, episode in enumerate(list(home.newest)[:HOME_NEWEST]):
            url = deep_link(episode.url, 0) if episode.url else None
            title = f"*{link(url, safe(episode.title, TITLE_CHARS))}*"
            facts = []
            if episode.guests:
                facts.append("with " + safe(", ".join(episode.guests), 300))
            if episode.date:
                facts.append(safe(episode.date[:10], 20))
            if length(episode.duration):
                facts.append(length(episode.duration) or "")
            text = title + ("\n" + " · ".join(facts) if facts else "")
            chapters = button("Chapters", f"{HOME_CHAPTERS}_{i}", {"e": episode.id})
            blocks.append(section(text, chapters))

    blocks += [divider(), header("Most shared lately")]
    if home.shared:
        for quote in list(home.shared)[:HOME_SHARED]:
            meta = [link(quote.url, f"▶ {clock(quote.start)}")]
            if quote.speaker:
                meta.append(f"*{safe(quote.speaker, NAME_CHARS)}*")
            meta += [safe(quote.episode_title, TITLE_CHARS), f"shared {_times(quote.count)}"]
            blocks += [section(f"> “{safe(quote.quote, 1500)}”"), context_block(" · ".join(meta))]
    else:
        blocks.append(context_block(
            f"Nothing shared in the last {home.shared_days // 7} weeks. Press *Share* under a "
            "result to show a quote to your channel; the most shared appear here (never who)."
        ))  # fmt: skip

    if home.examples:
        blocks += [divider(), header("How to ask")]
        for i, example in enumerate(list(home.examples)[:3]):
            text = f"`{command} {safe(example.query, 200)}`\n{safe(example.meaning, 300)}"
            blocks.append(section(text, button("Try it", f"{HOME_RUN}_x{i}", {"q": example.query})))
        blocks.append(context_block(
            f"Type these after `{command}` (only you see the answer), mention me in a channel, "
            "DM me a question, or use *Search episodes*: no syntax needed there."
        ))  # fmt: skip

    blocks += [divider(), header("Your recent searches")]
    recent = [q for q in home.recent if q.strip()][:HOME_RECENT]
    if recent:
        blocks.append(actions_block(*(
            button(clip(q, 70), f"{HOME_RUN}_r{i}", {"q": q}) for i, q in enumerate(recent)
        )))  # fmt: skip
        blocks.append(context_block("Only you see this list. Press one to run it again."))
    else:
        blocks.append(context_block("Your searches will be listed here, for you only."))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}
