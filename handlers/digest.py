"""The weekly digest and new-episode announcements in Slack: rendering and ``/episodes digest``.

:func:`render_digest` turns a :class:`storage.activity.Digest` into one Block Kit message (within
Slack's limits, links not unfurled, a plain-text fallback); :func:`digest_text` is the same in
plain text for the terminal. :func:`render_announcement` is the "new episode" post.
:func:`digest_command` (the ``digest`` row of the subcommand table in handlers/commands.py) gives
everyone a private preview and lets the admins in ADMIN_USER_IDS post it now (the posting itself,
once only, is bot/scheduler.py's; the poster comes in through ``Deps.digest_poster``, as
handlers never import bot).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from handlers.context import Ask, Deps
from handlers.posting import DigestPostResult, DigestSchedule, PostStatus
from handlers.render import (
    DISMISS,
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    Message,
    actions_block,
    button,
    clip,
    clock,
    context_block,
    cut,
    divider,
    escape,
    header,
    link,
    render_episode,
    render_notice,
    safe,
    section,
)
from handlers.slack_ids import is_channel_id
from storage.activity import Digest, NewEpisode, SharedQuote, UsefulAnswer
from storage.catalogue import deep_link
from storage.models import Episode


def channel_ref(channel: str | None) -> str:
    """``<#C123>`` for a channel id (Slack shows its name), ``#name`` otherwise."""
    if not channel:
        return "the digest channel"
    if is_channel_id(channel):
        return f"<#{channel}>"
    return "#" + escape(channel.lstrip("#"))


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def _week_title(digest: Digest, schedule: DigestSchedule | None) -> str:
    until = digest.until.astimezone(schedule.timezone) if schedule else digest.until
    return f"Weekly digest · {_day(until)}"


def _guests_and_date(guests: tuple[str, ...], date: str | None) -> str:
    facts = []
    if guests:
        facts.append("with " + safe(", ".join(guests), 300))
    if date:
        facts.append(safe(date, 20))
    return " · ".join(facts)


def _new_episode(episode: NewEpisode) -> str:
    title = link(episode.url, safe(episode.title, 300))
    lines = [f"*{title}*"]
    facts = _guests_and_date(episode.guests, episode.date)
    if facts:
        lines.append(facts)
    for h in episode.highlights:
        stamp = link(h.url, f"▶ {clock(h.start)}")
        if h.is_quote:
            who = f" — {safe(h.speaker, 80)}" if h.speaker else ""
            lines.append(f"{stamp}  “{safe(h.title, 400)}”{who}")
        else:
            lines.append(f"{stamp}  {safe(h.title, 200)}")
    return "\n".join(lines)


def render_digest(
    digest: Digest,
    *,
    schedule: DigestSchedule | None = None,
    command: str = "/episodes",
    preview_note: str | None = None,
) -> Message:
    """The weekly digest as one message; each section is left out when it has nothing.

    Example:
        >>> message = render_digest(await build_digest(store, now=now))  # doctest: +SKIP
        >>> await client.chat_postMessage(channel="C1", **message.payload())  # doctest: +SKIP
    """
    blocks: list[dict[str, Any]] = []
    if preview_note:
        blocks.append(context_block(preview_note))
    blocks.append(header(_week_title(digest, schedule)))
    if digest.new_episodes:
        count = len(digest.new_episodes) + digest.more_new
        label = "New this week" if count == 1 else f"New this week: {count} episodes"
        blocks.append(section(f":new: *{label}*"))
        for episode in digest.new_episodes:
            blocks.append(section(clip_mrkdwn(_new_episode(episode))))
        if digest.more_new:
            blocks.append(context_block(f"…and {digest.more_new} more: `{command} latest`"))
    if digest.shared:
        lines = [":speech_balloon: *Most shared*"]
        for quote in digest.shared:
            times = "once" if quote.count == 1 else f"{quote.count} times"
            lines.append(_quote_lines(quote, f"shared {times}"))
        _add_section(blocks, lines)
    if digest.useful:
        lines = [":+1: *Answers people found useful*"]
        for answer in digest.useful:
            lines.append(
                _quote_lines(answer, "1 vote" if answer.votes == 1 else f"{answer.votes} votes")
            )
        _add_section(blocks, lines)
    if digest.archive:
        a = digest.archive
        who = f"{safe(a.speaker, 80)}, " if a.speaker else ""
        when = f" ({safe(a.episode_date[:4], 4)})" if a.episode_date else ""
        _add_section(
            blocks,
            [
                ":books: *From the archive*",
                f"> “{safe(a.quote, 600)}”\n{who}_{safe(a.episode_title, 200)}_{when} · "
                f"{link(a.url, f'▶ {clock(a.start)}')}",
            ],
        )
    if digest.topics or digest.unanswered:
        lines = [":mag: *What people searched*"]
        if digest.topics:
            lines.append("Most searched: " + _topics(digest.topics))
        if digest.unanswered:
            lines.append(
                "Found nothing: " + _topics(digest.unanswered) + "  _(ideas for future guests?)_"
            )
        _add_section(blocks, lines)
    if len(blocks) == (2 if preview_note else 1):
        blocks.append(section("Nothing new, shared or searched this week."))
    blocks.append(
        context_block(
            f"Search every episode: `{command} &lt;words&gt;` · `{command} latest` for the newest"
        )
    )
    # cut, not clip: the fallback keeps its line breaks and is never cut inside an entity.
    return Message(cut(digest_text(digest, schedule=schedule, safe_text=True),
                       MAX_FALLBACK_TEXT), tuple(blocks[:MAX_BLOCKS]))  # fmt: skip


def _quote_lines(quote: SharedQuote | UsefulAnswer, tail: str) -> str:
    """A quote of the digest as mrkdwn: the words, who and where, its link, and ``tail``."""
    who = f"{safe(quote.speaker, 80)}, " if quote.speaker else ""
    return (
        f"> “{safe(quote.quote, 400)}”\n{who}_{safe(quote.episode_title, 200)}_ · "
        f"{link(quote.url, f'▶ {clock(quote.start)}')} · {tail}"
    )


def clip_mrkdwn(text: str) -> str:
    """A section's mrkdwn within Slack's limit, cut at a line (never inside a link)."""
    if len(text) <= MAX_SECTION_TEXT:
        return text
    out = ""
    for line in text.split("\n"):
        if len(out) + len(line) + 2 > MAX_SECTION_TEXT:
            return out + "\n…"
        out = f"{out}\n{line}" if out else line
    return out


def _add_section(blocks: list[dict[str, Any]], lines: list[str]) -> None:
    blocks.append(divider())
    blocks.append(section(clip_mrkdwn("\n".join(lines))))


def _topics(topics: tuple) -> str:
    return " · ".join(
        f"*{safe(t.query, 80)}*" + (f" ({t.count})" if t.count > 1 else "") for t in topics
    )


def digest_text(
    digest: Digest, *, schedule: DigestSchedule | None = None, safe_text: bool = False
) -> str:
    """The digest in plain text: the message's fallback (``safe_text``: escaped for Slack), and
    what ``python -m bot digest --preview`` prints."""
    esc = escape if safe_text else (lambda s: s)
    out = [_week_title(digest, schedule)]
    if digest.new_episodes:
        out.append("")
        out.append("NEW THIS WEEK")
        for e in digest.new_episodes:
            facts = []
            if e.guests:
                facts.append("with " + ", ".join(e.guests))
            if e.date:
                facts.append(e.date)
            out.append(f"* {esc(e.title)}" + (f" ({esc(' · '.join(facts))})" if facts else ""))
            if e.url:
                out.append(f"  {esc(e.url)}")
            for h in e.highlights:
                text = f"“{clip(h.title, 280)}”" if h.is_quote else h.title
                who = f" — {h.speaker}" if h.is_quote and h.speaker else ""
                out.append(f"  {clock(h.start):>7}  {esc(text + who)}")
        if digest.more_new:
            out.append(f"  …and {digest.more_new} more")
    if digest.shared:
        out += ["", "MOST SHARED"]
        for q in digest.shared:
            times = "once" if q.count == 1 else f"{q.count} times"
            out += _plain_quote(q, f"shared {times}", esc)
    if digest.useful:
        out += ["", "ANSWERS PEOPLE FOUND USEFUL"]
        for u in digest.useful:
            out += _plain_quote(u, "1 vote" if u.votes == 1 else f"{u.votes} votes", esc)
    if digest.archive:
        a = digest.archive
        who = f"{a.speaker}, " if a.speaker else ""
        when = f" ({a.episode_date[:4]})" if a.episode_date else ""
        out += ["", "FROM THE ARCHIVE", f"“{esc(a.quote)}”"]
        out.append(f"  {esc(who + a.episode_title + when)}, {clock(a.start)}")
        if a.url:
            out.append(f"  {esc(a.url)}")
    if digest.topics or digest.unanswered:
        out += ["", "WHAT PEOPLE SEARCHED"]
        plain = lambda ts: ", ".join(t.query + (f" ({t.count})" if t.count > 1 else "") for t in ts)  # noqa: E731
        if digest.topics:
            out.append("Most searched: " + esc(plain(digest.topics)))
        if digest.unanswered:
            out.append("Found nothing: " + esc(plain(digest.unanswered)))
    if len(out) == 1:
        out.append("Nothing new, shared or searched this week.")
    return "\n".join(out)


def render_announcement(episode: Episode) -> Message:
    """The "new episode" post: title, guests, date, link and the chapters with timestamps."""
    card = render_episode(episode, shareable=False)
    blocks = (context_block(":new: *New episode*"), *card.blocks)
    watch = deep_link(episode.url, 0)
    plain = f"New episode: {escape(clip(episode.title, 200))}" + (
        f" {escape(watch)}" if watch else ""
    )
    return Message(cut(plain + "\n" + card.text, MAX_FALLBACK_TEXT), blocks[:MAX_BLOCKS])


def describe_result(result: DigestPostResult) -> str:
    """A private, human sentence about what ``digest now`` did (mrkdwn, safe)."""
    where = channel_ref(result.channel)
    if result.status in (PostStatus.POSTED, PostStatus.RECOVERED):
        return f":white_check_mark: Posted this week's digest ({result.key}) to {where}."
    if result.status == PostStatus.ALREADY:
        return (
            f"This week's digest ({result.key}) is already in {where}; it goes out once a week. "
            "Next week's will pick up from there."
        )
    if result.status == PostStatus.BUSY:
        return "The digest is being posted right now; it will be in the channel in a moment."
    if result.status == PostStatus.SKIPPED:
        return "Nothing new and nothing searched this week, so there is no digest to post."
    detail = escape(result.detail or "unknown error")
    hint = ""
    if "not_in_channel" in detail or "channel_not_found" in detail:
        hint = f" Invite me to {where} first (`/invite @episode-bot`)."
    return f":warning: I couldn't post the digest: {detail}.{hint}"


# -- /episodes digest ---------------------------------------------------------------------------
async def digest_command(ask: Ask, words: str) -> None:
    settings = ask.deps.settings
    word = words.strip().lower()
    if word not in ("", "now", "preview"):
        await ask.outbox.private(
            render_notice(
                f"`{ask.command} digest` shows a private preview of the weekly digest; "
                f"admins can post it with `{ask.command} digest now`."
            )
        )
        return
    client = getattr(ask.outbox, "client", None)
    if ask.deps.digest_poster is None:
        await ask.outbox.private(render_notice("The digest is not available here."))
        return
    poster = ask.deps.digest_poster(ask.store, client)
    if word == "now":
        if ask.user_id not in settings.admin_user_ids:
            await ask.outbox.private(
                render_notice(
                    "Sorry, only the digest's admins can post it early. It goes out "
                    f"{poster.schedule.describe()}; `{ask.command} digest` shows you what it "
                    "will say."
                )
            )
            return
        if not settings.digest_channel:
            await ask.outbox.private(
                render_notice("There is no digest channel yet: set DIGEST_CHANNEL and restart.")
            )
            return
        if client is None:
            await ask.outbox.private(
                render_notice("Posting needs Slack: run `python -m bot digest --now` instead.")
            )
            return
        result = await poster.post_digest(force=True)
        await ask.outbox.private(render_notice(describe_result(result)))
        return
    digest = await poster.preview()
    if settings.digest_channel:
        note = (
            f"Preview, only for you: the digest goes to {channel_ref(settings.digest_channel)} "
            f"{poster.schedule.describe()}."
        )
    else:
        note = "Preview, only for you. (No DIGEST_CHANNEL is set, so no digest is posted.)"
    if digest.is_empty and settings.digest_skip_empty:
        note += " As things stand this week would be skipped: nothing new, nothing searched."
    message = render_digest(digest, schedule=poster.schedule, command=ask.command,
                            preview_note=note)  # fmt: skip
    blocks = message.blocks[: MAX_BLOCKS - 1] + (actions_block(button("Dismiss", DISMISS)),)
    await ask.outbox.private(Message(message.text, blocks))


def register(app, deps: Deps) -> None:  # noqa: ANN001 - slack_bolt.async_app.AsyncApp
    """Nothing to listen for: ``digest`` is a row of the slash command's table
    (handlers/commands.py), and the scheduled posts run in bot/scheduler.py."""
    del app, deps


def _plain_quote(
    quote: SharedQuote | UsefulAnswer, count: str, esc: Callable[[str], str]
) -> list[str]:
    """A shared or useful quote as the plain-text digest lists it: the words, then who, where,
    when and how often (``count``), then the link."""
    who = f"{quote.speaker}, " if quote.speaker else ""
    lines = [
        f"* “{esc(quote.quote)}”",
        f"  {esc(who + quote.episode_title)}, {clock(quote.start)} ({count})",
    ]
    if quote.url:
        lines.append(f"  {esc(quote.url)}")
    return lines
