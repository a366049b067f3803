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
    text: str, action_id: str, value: dict[str, Any] | None = None, *, style: str | None = None
) -> dict[str, Any]:
    """A button whose ``value`` carries what its action needs (see :func:`encode_value`)."""
    el: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
    }
    if value is not None:
        el["value"] = encode_value(value)
    if style:
        el["style"] = style
    return el


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


def render_results(
    result: SearchResult,
    *,
    page: int,
    per_page: int,
    command: str,
) -> Message:
    """The private preview of one page of hits, with Share, paging and Dismiss buttons."""
    query = result.query
    if not result.hits:
        return render_nothing_found(result, command=command, page=page)
    first = page * per_page + 1
    last = first + len(result.hits) - 1
    q = safe(query, 500)
    blocks: list[dict[str, Any]] = [
        context_block(
            f"Quotes {first}–{last} for *{q}*" + (" · more below" if result.has_more else "")
        ),
        *_notices(result),
    ]
    room = (MAX_BLOCKS - 5) // 3  # header, notices, suggestion, actions; three blocks per hit
    for i, hit in enumerate(result.hits[:room]):
        text, meta = _hit_lines(hit)
        share = button(
            "Share",
            f"{SHARE_HIT}_{i}",
            {"e": hit.episode_id, "s": round(hit.start, 2), "q": query, "p": page, "i": i},
        )
        blocks += [section(text, share), context_block(meta), divider()]
    if result.suggestion:
        # With hits, search already read the query with these words (a typo corrected).
        blocks.append(context_block(f"Showing results for *{safe(result.suggestion, 200)}*"))
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
        f"Quotes {first}–{last} for “{escape(clip(query, 200))}”:",
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


def render_answer(result: SearchResult, *, command: str) -> Message:
    """A public answer to a mention or DM: the best quotes with links, no buttons."""
    q = safe(result.query, 500)
    if not result.hits:
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
    blocks: list[dict[str, Any]] = [
        context_block(f"From the episodes, for “{q}”:"),
        *_notices(result),
    ]
    room = (MAX_BLOCKS - 4) // 2
    for hit in result.hits[:room]:
        text, meta = _hit_lines(hit)
        blocks += [section(text), context_block(meta)]
    more = f"More, privately: `{command} {safe(result.query, 200)}`"
    if result.suggestion:
        more = f"Showing results for *{safe(result.suggestion, 200)}* · " + more
    blocks.append(context_block(more))
    text = _fallback(
        f"From the episodes, for “{escape(clip(result.query, 200))}”:",
        *_notices_plain(result),
        *(_hit_plain(h) for h in result.hits[:room]),
    )
    return Message(text, tuple(blocks))


def render_shared(hit: Hit, *, user_id: str | None) -> Message:
    """The visible message the Share button posts: the quote, its link, and who shared it."""
    text, meta = _hit_lines(hit)
    by = f"shared by {mention(user_id)}"
    blocks = (section(text), context_block(f"{meta} · {by}"))
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
    episode: Episode, *, shareable: bool = True, shared_by: str | None = None
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
    tail = 3 if shareable or shared_by else 2
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
    if shared_by:
        blocks.append(context_block(f"shared by {mention(shared_by)}"))
    elif shareable:
        blocks.append(
            actions_block(
                button("Share", SHARE_EPISODE, {"e": episode.id}, style="primary"),
                button("Dismiss", DISMISS),
            )
        )
    plain = [escape(clip(episode.title, 200)), _episode_facts(episode)]
    if episode.url:
        plain.append(escape(deep_link(episode.url, 0) or ""))
    plain += [escape(f"{clock(c.start)} {clip(c.title, 100)}") for c in episode.chapters[:30]]
    if shared_by:
        plain.append(f"shared by {mention(shared_by)}")
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
                button("Chapters", f"{OPEN_EPISODE}_{i}", {"e": episode.id}),
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
            "Results are private until you press *Share*. Mention me in a channel or DM me a "
            "question to get an answer everyone can see. No syntax needed: the *Search "
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
