"""Block Kit messages the bot sends: mrkdwn escaping, and Slack's size limits built in.

Every function here returns a :class:`Message` with a plain-text fallback and blocks that stay
within Slack's limits however long the quotes, titles or lists are. All user and transcript text
goes through :func:`escape`, so a query like ``<!channel>`` shows as text and never pings anyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.slack_ids import is_user_id
from storage.catalogue import deep_link
from storage.clock import clock
from storage.models import Episode, Hit, SearchResult

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000  # Slack allows 40,000; a notification never needs more

# Our own budgets (escaped characters), chosen so a section always fits in MAX_SECTION_TEXT.
TITLE_CHARS = 300
QUOTE_CHARS = 2000
NAME_CHARS = 120
URL_CHARS = 500

# Action ids. Buttons of one message must have distinct ids, so repeated buttons add "_<n>";
# handlers/actions.py routes on the prefix.
SHARE_HIT = "share_hit"
SHARE_EPISODE = "share_episode"
PAGE_NEXT = "page_next"
PAGE_PREV = "page_prev"
SEARCH_SUGGESTION = "search_suggestion"
OPEN_EPISODE = "open_episode"
DISMISS = "dismiss"
VOTE_UP = "vote_up"
VOTE_DOWN = "vote_down"
MORE_PRIVATE = "more_private"
MAX_ACCESSIBILITY_LABEL = 75


@dataclass(frozen=True)
class Message:
    """One Slack message: Block Kit ``blocks`` and the plain-text fallback ``text``.

    Example:
        >>> Message("Nothing found.").payload()["unfurl_links"]
        False
    """

    text: str
    blocks: tuple[dict[str, Any], ...] = ()

    def payload(self) -> dict[str, Any]:
        """Arguments for chat.postMessage or a response URL (YouTube links never unfurl)."""
        body: dict[str, Any] = {"text": self.text, "unfurl_links": False, "unfurl_media": False}
        if self.blocks:
            body["blocks"] = [dict(b) for b in self.blocks]
        return body

    def buttons(self) -> list[dict[str, Any]]:
        """Every button, in reading order (the console numbers them this way)."""
        found = []
        for block in self.blocks:
            if (
                block.get("type") == "section"
                and block.get("accessory", {}).get("type") == "button"
            ):
                found.append(block["accessory"])
            elif block.get("type") == "actions":
                found.extend(e for e in block["elements"] if e.get("type") == "button")
        return found


# -- text ----------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """User or transcript text made inert in mrkdwn.

    >>> escape("<!channel> & <@U123>")
    '&lt;!channel&gt; &amp; &lt;@U123&gt;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def safe(text: str, limit: int) -> str:
    """``text`` clipped and escaped so that the *escaped* result is at most ``limit`` chars."""
    budget = limit
    while True:
        out = escape(clip(text, budget))
        if len(out) <= limit:
            return out
        budget -= max(1, len(out) - limit)


_UNSAFE_IN_URL = re.compile(r"[<>|\s\"]")


def link(url: str | None, label: str | None = None) -> str:
    """A mrkdwn link; ``label`` must already be escaped (none: the URL itself is shown).

    An unusable URL (not http(s), too long) gives the plain label, never a broken link.
    """
    if not url or len(url) > URL_CHARS or not url.startswith(("http://", "https://")):
        return label or ""
    url = _UNSAFE_IN_URL.sub(lambda m: f"%{ord(m.group()):02X}", url)
    return f"<{url}|{label}>" if label else f"<{url}>"


def mention(user_id: str | None) -> str:
    """``<@U123>`` for a real Slack user id, else a neutral word (never raw text)."""
    return f"<@{user_id}>" if user_id and is_user_id(user_id) else "someone"


def length(seconds: float | None) -> str | None:
    if not seconds:
        return None
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


# -- blocks --------------------------------------------------------------------------------------
# context_block and actions_block say "block": handlers.context and handlers.actions are modules.
def section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if accessory:
        block["accessory"] = accessory
    return block


def context_block(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts[:10]]}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT)}}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def actions_block(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(buttons)}


def button(
    text: str,
    action_id: str,
    value: dict[str, Any] | None = None,
    *,
    style: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """A button whose ``value`` carries what its action needs (see :func:`encode_value`).

    ``label`` is what a screen reader says instead of ``text``: every button repeated in a
    message ("Share", "👍") gets one naming what it acts on, so it is not "Share, Share, Share".
    """
    el: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
    }
    if value is not None:
        el["value"] = encode_value(value)
    if style:
        el["style"] = style
    if label:
        el["accessibility_label"] = clip(label, MAX_ACCESSIBILITY_LABEL)
    return el


def _about(hit: Hit) -> str:
    """A hit in a few words, for accessibility labels: "Hugo, 14:20, DevRel Role for…"."""
    who = f"{hit.speaker}, " if hit.speaker else ""
    return f"{who}{clock(hit.start)}, {hit.episode_title}"


def vote_buttons(hit: Hit, query: str, n: int) -> dict[str, Any]:
    """👍/👎 for one quote of an answer (an actions block); the value names the quote."""
    value = {"e": hit.episode_id, "s": round(hit.start, 2), "q": query}
    if hit.passage_id is not None:
        value["i"] = hit.passage_id
    return actions_block(
        button("👍", f"{VOTE_UP}_{n}", value, label=f"Useful: quote {n + 1}, {_about(hit)}"),
        button("👎", f"{VOTE_DOWN}_{n}", value, label=f"Not useful: quote {n + 1}, {_about(hit)}"),
    )


def encode_value(fields: dict[str, Any]) -> str:
    """Button value as compact JSON, within 2,000 chars (a long query ``q`` is clipped to fit).

    A click on an ephemeral message arrives without the message, so the value is all we get back.

    Raises:
        ValueError: the other fields alone (e.g. an episode id) exceed 2,000 chars; Slack would
            refuse the whole message, so this fails here, where the cause is visible.

    Example:
        >>> encode_value({"q": "argo", "p": 1})
        '{"q":"argo","p":1}'
    """

    def dump(f: dict[str, Any]) -> str:
        return json.dumps(f, ensure_ascii=False, separators=(",", ":"))

    out = dump(fields)
    if len(out) <= MAX_BUTTON_VALUE:
        return out
    if isinstance(fields.get("q"), str) and fields["q"]:
        low, high = 0, len(fields["q"])  # the longest prefix of q that fits
        while low < high:
            mid = (low + high + 1) // 2
            if len(dump({**fields, "q": fields["q"][:mid]})) <= MAX_BUTTON_VALUE:
                low = mid
            else:
                high = mid - 1
        out = dump({**fields, "q": fields["q"][:low]})
        if len(out) <= MAX_BUTTON_VALUE:
            return out
    raise ValueError(
        f"button value is {len(out)} chars, over Slack's {MAX_BUTTON_VALUE} "
        f"(fields: {', '.join(f'{k}={len(str(v))} chars' for k, v in fields.items())})"
    )


def decode_value(value: str | None) -> dict[str, Any]:
    """A button value back as a dict; ``{}`` when it is missing or not ours."""
    try:
        fields = json.loads(value or "{}")
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


def _fallback(*lines: str) -> str:
    """The plain-text fallback: notifications, screen readers, clients without Block Kit."""
    return cut("\n".join(line for line in lines if line), MAX_FALLBACK_TEXT)


def cut(text: str, limit: int) -> str:
    """Already-escaped mrkdwn cut to ``limit`` chars, keeping line breaks, never mid-entity."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = max(head.rfind("\n"), head.rfind(" "))
    if space > limit // 2:
        head = head[:space]
    head = re.sub(r"&[a-z]{0,3}$", "", head)  # a cut "&amp;" would show as "&am"
    return head.rstrip() + "…"


def _quote(text: str, limit: int) -> str:
    """A quote clipped and escaped; an ellipsis where the passage itself was cut mid-sentence."""
    out = safe(text, limit)
    if out and out[-1] not in ".!?…\"”’')":
        out += "…"
    return out


# -- search results ------------------------------------------------------------------------------
def _hit_lines(hit: Hit) -> tuple[str, str]:
    """(section text: title and quote, context text: timestamp, speaker, chapter, via)."""
    title = f"*{safe(hit.episode_title, TITLE_CHARS)}*"
    # A mrkdwn block quote is a line starting with ">", sent as is (the quote itself is escaped).
    quote = "> “" + _quote(hit.quote, QUOTE_CHARS) + "”" if hit.quote.strip() else ""
    meta = [link(hit.url, f"▶ {clock(hit.start)}")]
    if hit.speaker:
        meta.append(f"*{safe(hit.speaker, NAME_CHARS)}*")
    if hit.chapter:
        meta.append(f"_{safe(hit.chapter, TITLE_CHARS)}_")
    if hit.matched_via:
        meta.append(f"_{safe(hit.matched_via, TITLE_CHARS)}_")
    return (f"{title}\n{quote}" if quote else title), " · ".join(meta)


def hit_lines(hit: Hit) -> tuple[str, str]:
    """A hit as (section text, context text), as the preview shows it (views reuse it)."""
    return _hit_lines(hit)


def _hit_plain(hit: Hit) -> str:
    """One hit as a fallback line (escaped; the link in Slack's ``<url>`` form)."""
    who = f"{hit.speaker}, " if hit.speaker else ""
    quote = f"“{_quote(hit.quote, 300)}” " if hit.quote.strip() else ""
    line = f"{quote}({escape(who + clip(hit.episode_title, 100))}, {clock(hit.start)})"
    return line + (f" {link(hit.url)}" if hit.url else "")


NOTICE_CHARS = 300


def _notices(result: SearchResult) -> list[dict[str, Any]]:
    """What search said about the query itself (a dropped filter, an unknown guest), escaped."""
    lines = [f"ⓘ {safe(n, NOTICE_CHARS)}" for n in result.notices[:5] if n.strip()]
    return [context_block(*lines)] if lines else []


def _notices_plain(result: SearchResult) -> list[str]:
    return [escape(clip(n, NOTICE_CHARS)) for n in result.notices[:5] if n.strip()]


def quotes_label(first: int, last: int) -> str:
    """ "Quotes 1–3", or "Quote 4" on a last page of one."""
    return f"Quote {first}" if first == last else f"Quotes {first}–{last}"


def _results_heading(
    result: SearchResult, first: int, last: int, label: str | None = None
) -> tuple[str, str]:
    """(mrkdwn, plain) first line of a page of results: the words searched, corrections said
    at once (with hits, search read the query with the corrected words)."""
    label = label or quotes_label(first, last)
    if result.suggestion:
        shown = (
            f"{label} · showing results for *{safe(result.suggestion, 200)}* (you typed "
            f"“{safe(result.query, 200)}”)"
        )
        plain = (
            f"{label} for “{escape(clip(result.suggestion, 200))}” (you typed "
            f"“{escape(clip(result.query, 200))}”):"
        )
        return shown, plain
    return f"{label} for *{safe(result.query, 500)}*", (
        f"{label} for “{escape(clip(result.query, 200))}”:"
    )


def render_results(
    result: SearchResult,
    *,
    page: int,
    per_page: int,
    command: str,
    thread_ts: str | None = None,
) -> Message:
    """The private preview of one page of hits, with Share, paging and Dismiss buttons.

    ``thread_ts``: the thread the preview lives in; Share posts there (it travels in the
    button's value, as a click on an ephemeral message brings nothing else back).
    """
    query = result.query
    if not result.hits:
        return render_nothing_found(result, command=command, page=page)
    first = page * per_page + 1
    last = first + len(result.hits) - 1
    heading, plain_heading = _results_heading(result, first, last)
    blocks: list[dict[str, Any]] = [
        context_block(heading + (" · more below" if result.has_more else "")),
        *_notices(result),
    ]
    room = (MAX_BLOCKS - 5) // 3  # header, notices, suggestion, actions; three blocks per hit
    for i, hit in enumerate(result.hits[:room]):
        text, meta = _hit_lines(hit)
        value: dict[str, Any] = {
            "e": hit.episode_id, "s": round(hit.start, 2), "q": query, "p": page, "i": i,
        }  # fmt: skip
        if thread_ts:
            value["t"] = thread_ts
        share = button(
            "Share", f"{SHARE_HIT}_{i}", value, label=f"Share quote {first + i}: {_about(hit)}"
        )
        blocks += [section(text, share), context_block(meta), divider()]
    nav = []
    if page > 0:
        nav.append(button("◀ Previous", PAGE_PREV, {"q": query, "p": page - 1}))
    if result.has_more:
        nav.append(
            button("More ▶" if page == 0 else "Next ▶", PAGE_NEXT, {"q": query, "p": page + 1})
        )
    nav.append(button("Dismiss", DISMISS))
    blocks.append(actions_block(*nav))
    text = _fallback(
        plain_heading,
        *_notices_plain(result),
        *(_hit_plain(h) for h in result.hits[:room]),
    )
    return Message(text, tuple(blocks))


def render_nothing_found(result: SearchResult, *, command: str, page: int = 0) -> Message:
    """Honest "nothing found", with the did-you-mean as a button, or a tip."""
    q = safe(result.query, 500)
    if page > 0:
        lines = [f"No more quotes for *{q}*."]
    else:
        lines = [f"Nothing found for *{q}*."]
    buttons = []
    if result.suggestion:
        s = safe(result.suggestion, 200)
        lines.append(f"Did you mean *{s}*?")
        buttons.append(
            button(f"Search “{clip(result.suggestion, 50)}”", SEARCH_SUGGESTION,
                   {"q": result.suggestion, "p": 0}, style="primary")
        )  # fmt: skip
        tip = ""
    else:
        tip = (
            f"Tip: try fewer or other words, a guest's name, or `{command} latest` "
            f"to see the newest episodes. `{command} help` shows everything I can do."
        )
    if page > 0:
        buttons.insert(0, button("◀ Previous", PAGE_PREV, {"q": result.query, "p": page - 1}))
    buttons.append(button("Dismiss", DISMISS))
    blocks = [section("\n".join(lines)), *_notices(result)]
    if tip:
        blocks.append(context_block(tip))
    blocks.append(actions_block(*buttons))
    plain = [f"Nothing found for “{escape(clip(result.query, 200))}”.", *_notices_plain(result)]
    if result.suggestion:
        plain.append(f"Did you mean “{escape(clip(result.suggestion, 200))}”?")
    return Message(_fallback(*plain, tip), tuple(blocks))


def render_answer(result: SearchResult, *, command: str, private: bool = False) -> Message:
    """A public answer to a mention (or a DM's answer): the best quotes with links, 👍/👎 on
    each, and "More (only you)" opening the next results as a private preview.

    ``private``: the answer is in a DM, seen by the asker alone ("More ▶", not "only you").
    """
    if not result.hits:
        q = safe(result.query, 500)
        lines = [f"I couldn't find anything about *{q}* in the episodes."]
        if result.suggestion:
            lines.append(f"Did you mean *{safe(result.suggestion, 200)}*?")
        else:
            lines.append("Try other words or a guest's name.")
        text = "\n".join(lines)
        return Message(
            _fallback(text.replace("*", ""), *_notices_plain(result)),
            (section(text), *_notices(result)),
        )
    heading, plain_heading = _results_heading(result, 1, 1, "From the episodes,")
    blocks: list[dict[str, Any]] = [context_block(heading), *_notices(result)]
    room = (MAX_BLOCKS - 4) // 3
    for n, hit in enumerate(result.hits[:room]):
        text, meta = _hit_lines(hit)
        blocks += [section(text), context_block(meta), vote_buttons(hit, result.query, n)]
    if result.has_more:
        label = "More ▶" if private else "More (only you)"
        blocks.append(
            actions_block(
                button(label, MORE_PRIVATE, {"q": result.query, "p": 1},
                       label="More results, shown only to you")
            )
        )  # fmt: skip
    text = _fallback(
        plain_heading,
        *_notices_plain(result),
        *(_hit_plain(h) for h in result.hits[:room]),
    )
    return Message(text, tuple(blocks))


def shared_by(name: str | None) -> str:
    """ "shared by Ana": the sharer's name as text, never a mention (it would ping them)."""
    return f"shared by {safe(name, NAME_CHARS)}" if name and name.strip() else "shared"


def render_shared(hit: Hit, *, sharer: str | None, query: str | None = None) -> Message:
    """The visible message the Share button posts: the quote, its link, who shared it (as
    text: no ping) and 👍/👎 for the people who read it."""
    text, meta = _hit_lines(hit)
    by = shared_by(sharer)
    blocks = (section(text), context_block(f"{meta} · {by}"), vote_buttons(hit, query or "", 0))
    return Message(_fallback(_hit_plain(hit) + f" — {by}"), blocks)


# -- episodes ------------------------------------------------------------------------------------
def _episode_facts(episode: Episode) -> str:
    facts = []
    if episode.guests:
        facts.append("with " + safe(", ".join(episode.guests), 300))
    if episode.date:
        facts.append(safe(episode.date, 40))
    if length(episode.duration):
        facts.append(length(episode.duration) or "")
    return " · ".join(facts)


def render_episode(
    episode: Episode, *, shareable: bool = True, sharer: str | None = None, shared: bool = False
) -> Message:
    """An episode card: title, guests, date, links and the chapter list with timestamps."""
    title = safe(episode.title, TITLE_CHARS)
    blocks: list[dict[str, Any]] = [header(episode.title)]
    facts = _episode_facts(episode)
    links = []
    if episode.url:
        links.append(link(deep_link(episode.url, 0), "▶ Watch"))
    for name, url in list(episode.links.items())[:8]:
        if url and url != episode.url:
            links.append(link(url, safe(name.capitalize(), 40)))
    intro = "\n".join(x for x in (facts, " · ".join(links)) if x)
    blocks.append(section(intro or f"*{title}*"))
    if episode.description:
        blocks.append(context_block(safe(episode.description, 600)))
    chapter_lines = [
        f"{link(deep_link(episode.url, c.start), clock(c.start))}  {safe(c.title, 200)}"
        for c in episode.chapters
    ]
    tail = 3 if shareable or shared else 2
    room = MAX_BLOCKS - len(blocks) - tail
    shown = 0
    if chapter_lines:
        chunk = "*Chapters*"
        for line in chapter_lines:
            if len(chunk) + 1 + len(line) > MAX_SECTION_TEXT:
                if room <= 1:
                    break
                blocks.append(section(chunk))
                room -= 1
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
            shown += 1
        blocks.append(section(chunk))
        if shown < len(chapter_lines):
            blocks.append(context_block(f"…and {len(chapter_lines) - shown} more chapters."))
    if shared:
        blocks.append(context_block(shared_by(sharer)))
    elif shareable:
        blocks.append(
            actions_block(
                button("Share", SHARE_EPISODE, {"e": episode.id}, style="primary",
                       label=f"Share the episode {episode.title}"),
                button("Dismiss", DISMISS),
            )
        )  # fmt: skip
    plain = [escape(clip(episode.title, 200)), _episode_facts(episode)]
    if episode.url:
        plain.append(escape(deep_link(episode.url, 0) or ""))
    plain += [escape(f"{clock(c.start)} {clip(c.title, 100)}") for c in episode.chapters[:30]]
    if shared:
        plain.append(shared_by(sharer))
    return Message(_fallback(*plain), tuple(blocks))


NAMED_CHAPTERS = 4  # chapters shown per episode in a list of a guest's episodes
MAX_LISTED = 10


def render_named(
    episodes: Sequence[Episode], *, name: str, command: str, public: bool = False
) -> Message:
    """A guest's (or a title's) episodes: title, date, guests, the first chapters and links.

    ``public``: an answer in a channel (no buttons that would act on it); else a private
    preview with "Chapters" and Dismiss buttons.
    """
    shown = list(episodes)[:MAX_LISTED]
    count = "one episode" if len(episodes) == 1 else f"{len(episodes)} episodes"
    head = f"*{safe(name, 200)}*: {count}"
    blocks: list[dict[str, Any]] = [context_block(head)]
    plain = [f"{escape(clip(name, 200))}: {count}"]
    for i, episode in enumerate(shown):
        title = link(deep_link(episode.url, 0), safe(episode.title, TITLE_CHARS))
        lines = [f"*{title or safe(episode.title, TITLE_CHARS)}*"]
        facts = _episode_facts(episode)
        if facts:
            lines.append(facts)
        for c in episode.chapters[:NAMED_CHAPTERS]:
            stamp = link(deep_link(episode.url, c.start), clock(c.start)) or clock(c.start)
            lines.append(f"{stamp}  {safe(c.title, 150)}")
        if len(episode.chapters) > NAMED_CHAPTERS:
            lines.append(f"_…{len(episode.chapters) - NAMED_CHAPTERS} more chapters_")
        chapters = None
        if not public:
            chapters = button("Chapters", f"{OPEN_EPISODE}_{i}", {"e": episode.id},
                              label=f"Chapters of {episode.title}")  # fmt: skip
        blocks.append(section(cut("\n".join(lines), MAX_SECTION_TEXT), chapters))
        plain.append(
            escape(f"{episode.date or ''} {clip(episode.title, 150)}").strip()
            + (f" {link(deep_link(episode.url, 0))}" if episode.url else "")
        )
    tip = f"For quotes, add a topic: `{command} {safe(name, 100)} &lt;topic&gt;`."
    blocks.append(context_block(tip))
    if not public:
        blocks.append(actions_block(button("Dismiss", DISMISS)))
    return Message(_fallback(*plain), tuple(blocks))


def render_episode_choice(episodes: Sequence[Episode], *, words: str, command: str) -> Message:
    """Several episodes match ``episode <words>``: one button each, instead of a silent pick."""
    shown = list(episodes)[:MAX_LISTED]
    more = len(episodes) - len(shown)
    head = f"{len(episodes)} episodes match *{safe(words, 200)}*. Which one?"
    blocks: list[dict[str, Any]] = [section(head)]
    for i, episode in enumerate(shown):
        facts = _episode_facts(episode)
        blocks.append(
            section(
                f"*{safe(episode.title, TITLE_CHARS)}*" + (f"\n{facts}" if facts else ""),
                button("Open", f"{OPEN_EPISODE}_{i}", {"e": episode.id},
                       label=f"Open {episode.title}"),
            )
        )  # fmt: skip
    if more:
        blocks.append(context_block(f"…and {more} more: add a word to `{command} episode`."))
    blocks.append(actions_block(button("Dismiss", DISMISS)))
    plain = [f"{len(episodes)} episodes match “{escape(clip(words, 200))}”:"] + [
        escape(clip(e.title, 150)) for e in shown
    ]
    return Message(_fallback(*plain), tuple(blocks))


def render_latest(episodes: Sequence[Episode], *, command: str) -> Message:
    """The newest episodes, each with a button that opens its card."""
    if not episodes:
        text = "No episodes yet. An admin can add some with `python -m bot ingest PATH`."
        return Message(text, (section(text),))
    blocks: list[dict[str, Any]] = [context_block("*Newest episodes*")]
    room = (MAX_BLOCKS - 3) // 1
    for i, episode in enumerate(list(episodes)[: min(room, 10)]):
        title = link(
            deep_link(episode.url, 0) if episode.url else None, safe(episode.title, TITLE_CHARS)
        )
        facts = _episode_facts(episode)
        blocks.append(
            section(
                f"*{title}*" + (f"\n{facts}" if facts else ""),
                button(
                    "Chapters",
                    f"{OPEN_EPISODE}_{i}",
                    {"e": episode.id},
                    label=f"Chapters of {episode.title}",
                ),  # fmt: skip
            )
        )
    blocks.append(context_block(f"Open one with `{command} episode &lt;id or words&gt;`."))
    blocks.append(actions_block(button("Dismiss", DISMISS)))
    plain = ["Newest episodes:"] + [
        escape(f"{e.date or ''} {clip(e.title, 150)}").strip() for e in list(episodes)[:10]
    ]
    return Message(_fallback(*plain), tuple(blocks))


# -- help and problems ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HelpLine:
    usage: str  # "latest", "episode <id or words>"
    help: str
    examples: tuple[str, ...] = ()


def render_help(
    command: str,
    lines: Iterable[HelpLine],
    *,
    syntax: Sequence[tuple[str, str]] = (),
) -> Message:
    """Usage and examples, from the table of subcommands (handlers/commands.py).

    ``syntax``: the search query language as (example, meaning) rows, shown after the usage.
    """
    lines = list(lines)
    usage = [f"`{command} {escape(line.usage)}`  {escape(line.help)}".replace("  ", " — ", 1)
             for line in lines]  # fmt: skip
    examples = [f"`{command} {escape(ex)}`" for line in lines for ex in line.examples]
    head = "Search every episode for the moment someone said it."
    blocks: list[dict[str, Any]] = [section(f"*{escape(head)}*")]
    chunk = ""
    for line in usage:
        if len(chunk) + len(line) + 1 > MAX_SECTION_TEXT and len(blocks) < MAX_BLOCKS - 4:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(section(chunk))
    if syntax:
        parts = [f"`{escape(example)}` {escape(meaning)}" for example, meaning in syntax]
        blocks.append(section(cut("*In a search:* " + " · ".join(parts), MAX_SECTION_TEXT)))
    if examples:
        blocks.append(context_block(clip("Try: " + " · ".join(examples[:12]), MAX_SECTION_TEXT)))
    blocks.append(
        context_block(
            "Results are private until you press *Share*. Mention me with a question in a "
            "channel and I answer in its thread, for everyone there; a direct message to me is "
            "answered in the DM, for you alone. On any message, the ⋮ menu's *Find episodes "
            "about this* shows you, privately, quotes about it. No syntax needed: the *Search "
            "episodes* shortcut and my *Home* tab have a form."
        )
    )
    blocks.append(actions_block(button("Dismiss", DISMISS)))
    plain = [head] + [f"{command} {line.usage} — {line.help}" for line in lines]
    if syntax:
        plain.append("In a search: " + " · ".join(f"{ex} {meaning}" for ex, meaning in syntax))
    return Message(_fallback(*(escape(p) for p in plain)), tuple(blocks))


def render_notice(text: str) -> Message:
    """A short private note (an error, a refusal); ``text`` is our own mrkdwn, already safe."""
    return Message(_fallback(text), (section(cut(text, MAX_SECTION_TEXT)),))
