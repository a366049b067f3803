"""Podcast feeds in: each RSS/Atom item with a ``<podcast:transcript>`` becomes an episode.

feedparser reads the feed (RSS or Atom, any encoding, dates in any of the forms feeds use).
It keeps only the last of several same-named namespaced elements and drops the text of
``<podcast:person>``, so the Podcasting 2.0 elements (transcript, person, chapters, season,
episode) are read by a second, safe pass over the same bytes (defusedxml: no entities, no
external references). The HTTP requests are the caller's (a :class:`Fetch`; ``bot/fetch.py``
makes them with aiohttp), so storage stays free of the network.

A poll stores the feed's ETag/Last-Modified (``feed_state``) and each item's transcript
validators (``feed_items``): the next poll is a conditional GET, and an unchanged transcript is
neither downloaded nor stored again.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from storage.catalogue import youtube_id
from storage.db import Store
from storage.ingest.pipeline import (
    INGEST_VERSION,
    IngestReport,
    Job,
    Prepared,
    _prepare_safely,
    file_hash,
    slug,
    store_prepared,
)
from storage.ingest.sources import MAX_FILE_BYTES, decode
from storage.models import Chapter, EpisodeMeta, FileOutcome, Outcome

MAX_FEED_BYTES = 20 * 1024 * 1024  # a feed of a thousand episodes with show notes is ~5 MB
MAX_CHAPTERS_BYTES = 1024 * 1024
PODCAST_NAMESPACES = {
    "https://podcastindex.org/namespace/1.0",
    # The URI feeds used before the namespace had a home; still seen in the wild.
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
}
ATOM = "{http://www.w3.org/2005/Atom}"
NO_TRANSCRIPT = "items without a <podcast:transcript> (nothing to search)"

# Transcript types, best first: timed formats over plain text (Podcasting 2.0 "transcript").
# (MIME type, format name or None to detect from the content, file extension for detection)
_TYPES: list[tuple[tuple[str, ...], str | None, str]] = [
    (("text/vtt",), "vtt", ".vtt"),
    (("application/x-subrip", "application/srt", "text/srt", "text/x-srt"), "srt", ".srt"),
    (("application/json",), None, ".json"),
    (("text/plain",), None, ".txt"),
    (("text/html",), None, ".html"),
]
# Served as one of these, it is not a transcript whatever the feed says.
_NOT_TEXT = ("audio/", "video/", "image/", "font/", "application/pdf", "application/zip")


# --- fetching (the caller's) ----------------------------------------------------------------------


class FetchError(Exception):
    """Why a URL could not be fetched, in a few words ("HTTP 404 Not Found", "timed out")."""


@dataclass(frozen=True)
class Fetched:
    """A response: ``status`` 200 with the body, or 304 (not modified since the validators)."""

    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


class Fetch(Protocol):
    """GET ``url`` (http or https only), at most ``max_bytes``, with a time limit and a bounded
    number of redirects; a conditional GET when ``etag``/``last_modified`` are given. Raises
    :class:`FetchError` for anything but a 200 or a 304."""

    def __call__(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Awaitable[Fetched]: ...


# --- reading a feed -------------------------------------------------------------------------------


class FeedError(Exception):
    """The feed's bytes are not a feed (not XML, not RSS or Atom)."""


@dataclass(frozen=True)
class TranscriptLink:
    url: str
    type: str
    format: str | None  # a format name, or None: detect from the content
    extension: str
    rank: int  # 0 is best


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed, as far as ingest needs it."""

    guid: str
    title: str
    date: str | None = None
    url: str | None = None  # YouTube if the item links there, else the enclosure (#t= links)
    page: str | None = None  # the item's web page, when it is neither
    transcripts: tuple[TranscriptLink, ...] = ()  # best first
    guests: tuple[str, ...] = ()
    chapters_url: str | None = None
    season: int | None = None
    number: int | None = None

    @property
    def label(self) -> str:
        return f'"{self.title}"' if self.title else f"item {self.guid}"

    def fields_hash(self) -> str:
        """Changes when anything but the transcript's bytes would store differently."""
        parts = (self.title, self.date, self.url, self.page, self.guests, self.chapters_url,
                 self.season, self.number)  # fmt: skip
        return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[FeedItem, ...]
    notes: tuple[str, ...] = ()


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _is_http(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).netloc)


def transcript_link(url: str, mime: str) -> TranscriptLink | None:
    """A transcript element's URL and type, ranked; None without a URL. (Fetching refuses a
    URL that is not http(s), so an ``ftp:`` link is reported rather than silently dropped.)"""
    if not url:
        return None
    mime = (mime or "").split(";")[0].strip().lower()
    ext = Path(urlsplit(url).path).suffix.lower()
    for rank, (types, fmt, extension) in enumerate(_TYPES):
        if mime in types or (not mime and ext == extension):
            return TranscriptLink(url, mime, fmt, extension, rank)
    return TranscriptLink(url, mime, None, ext or ".txt", len(_TYPES))  # unknown: tried last


def _whole(text: str | None) -> int | None:
    try:
        return int(float((text or "").strip()))
    except ValueError:
        return None


@dataclass
class _Extras:
    """What the namespace pass finds in one item."""

    transcripts: list[TranscriptLink] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)
    chapters_url: str | None = None
    season: int | None = None
    number: int | None = None


def _namespace_pass(raw: bytes) -> list[tuple[str | None, _Extras]] | None:
    """Each item's (guid, Podcasting 2.0 elements), in document order; None if not XML."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(raw)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return None
    found = []
    for element in root.iter():
        if element.tag not in ("item", f"{ATOM}entry"):
            continue
        extras = _Extras()
        guid = None
        for child in element:
            ns, name = _local(child.tag)
            if name in ("guid", "id") and ns in ("", ATOM[1:-1]):
                guid = (child.text or "").strip() or None
            if ns not in PODCAST_NAMESPACES:
                continue
            if name == "transcript":
                link = transcript_link((child.get("url") or "").strip(), child.get("type") or "")
                if link is not None:
                    extras.transcripts.append(link)
            elif name == "person":
                # role is case-insensitive and defaults to "host" (the namespace's person tag)
                person = " ".join((child.text or "").split())
                if person and (child.get("role") or "host").strip().lower() == "guest":
                    extras.guests.append(person)
            elif name == "chapters" and _is_http((child.get("url") or "").strip()):
                extras.chapters_url = child.get("url").strip()
            elif name == "season":
                extras.season = _whole(child.text)
            elif name == "episode":
                extras.number = _whole(child.text)
        found.append((guid, extras))
    return found


def _lenient_extras(entry) -> _Extras:  # noqa: ANN001 - a feedparser entry
    """What feedparser alone keeps of the namespace (one transcript, no person names)."""
    extras = _Extras()
    t = entry.get("podcast_transcript") or {}
    link = transcript_link(t.get("url") or "", t.get("type") or "") if t else None
    if link is not None:
        extras.transcripts.append(link)
    chapters = entry.get("podcast_chapters") or {}
    if _is_http(chapters.get("url")):
        extras.chapters_url = chapters["url"]
    extras.season = _whole(entry.get("podcast_season") or entry.get("itunes_season"))
    extras.number = _whole(entry.get("podcast_episode") or entry.get("itunes_episode"))
    return extras


def parse_feed(raw: bytes) -> Feed:
    """The items of an RSS or Atom document. Raises FeedError when it is neither.

    Example:
        >>> feed = parse_feed(Path("feed.xml").read_bytes())  # doctest: +SKIP
        >>> [item.title for item in feed.items if item.transcripts]  # doctest: +SKIP
    """
    import feedparser

    parsed = feedparser.parse(raw)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        exc = parsed.get("bozo_exception")
        where = f" (line {exc.getLineNumber()})" if hasattr(exc, "getLineNumber") else ""
        head = raw[:200].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html")):
            why = ": it is an HTML page (a web site's address, not its feed's?)"
        elif not head.startswith(b"<"):
            why = ": it is not XML at all"
        else:
            why = f"{where}"
        raise FeedError(f"not an RSS or Atom feed{why}")
    notes: list[str] = []
    strict = _namespace_pass(raw)
    if strict is not None and len(strict) != len(parsed.entries):
        strict = None
    if strict is None:
        notes.append(
            "the feed is not well-formed XML; read leniently: one transcript per item, "
            "no <podcast:person> guests"
        )
    items = []
    for k, entry in enumerate(parsed.entries):
        extras = strict[k][1] if strict is not None else _lenient_extras(entry)
        items.append(_item(entry, extras, k))
    return Feed((parsed.feed.get("title") or "").strip(), tuple(items), tuple(notes))


def _item(entry, extras: _Extras, k: int) -> FeedItem:  # noqa: ANN001
    links = [entry.get("link") or ""] + [lk.get("href") or "" for lk in entry.get("links", [])]
    video = next((u for u in links if youtube_id(u)), None)
    enclosure = next(
        (lk.get("href") for lk in entry.get("links", [])
         if lk.get("rel") == "enclosure" and _is_http(lk.get("href"))),
        None,
    )  # fmt: skip
    page = entry.get("link") if _is_http(entry.get("link")) else None
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    date = time.strftime("%Y-%m-%d", stamp) if stamp else None
    if extras.season is None:
        extras.season = _whole(entry.get("itunes_season"))
    if extras.number is None:
        extras.number = _whole(entry.get("itunes_episode"))
    title = " ".join((entry.get("title") or "").split())
    guid = (entry.get("id") or "").strip() or enclosure or page or f"{title}#{k}"
    return FeedItem(
        guid=guid, title=title, date=date, url=video or enclosure,
        page=page if page not in (video, enclosure) else None,
        transcripts=tuple(sorted(extras.transcripts, key=lambda t: t.rank)),
        guests=tuple(dict.fromkeys(extras.guests)), chapters_url=extras.chapters_url,
        season=extras.season, number=extras.number,
    )  # fmt: skip


def parse_chapters(raw: bytes) -> tuple[Chapter, ...]:
    """Podcasting 2.0 JSON chapters: ``{"chapters": [{"startTime", "title", "toc"?}]}``.

    Chapters marked ``"toc": false`` are silent markers, not shown: left out.
    Raises ValueError saying what is wrong.
    """
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValueError('expected JSON chapters: {"chapters": [{"startTime", "title"}]}')
    out = []
    for c in data["chapters"]:
        if not isinstance(c, dict) or c.get("toc") is False:
            continue
        start, title = c.get("startTime"), " ".join(str(c.get("title") or "").split())
        if isinstance(start, int | float) and start >= 0 and title:
            out.append(Chapter(title, float(start)))
    return tuple(sorted(out, key=lambda c: c.start))


def html_to_text(text: str) -> str:
    """An HTML transcript's text, a line per paragraph or line break (times stay in the text)."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h\d)>", "\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


# --- ingesting a feed -----------------------------------------------------------------------------


@dataclass
class FeedReport(IngestReport):
    """What one poll of one feed did: an outcome per item (or one for the whole feed)."""

    feed_url: str = ""
    not_modified: bool = False  # the feed answered 304: nothing was fetched
    first_poll: bool = False  # the feed was never polled before: a catalogue import
    unit: str = "items"
    transcripts_fetched: int = 0


def episode_id_for(item: FeedItem) -> str:
    """A stable id from the item's guid: the guid itself when it reads as one (``ep-42``), else
    the title's words and a short hash of the guid (URLs and UUIDs make poor ids)."""
    readable = slug(item.guid)
    if (
        not _is_http(item.guid)
        and len(readable) <= 48
        and not re.fullmatch(r"[0-9a-f-]{32,}", readable)
    ):
        return readable
    return (
        f"{slug(item.title)[:48].strip('-')}-{hashlib.sha256(item.guid.encode()).hexdigest()[:8]}"
    )


async def ingest_feed(
    store: Store,
    feed_url: str,
    fetch: Fetch,
    *,
    on_first_poll_added: Callable[[str], Awaitable[None]] | None = None,
) -> FeedReport:
    """Poll one feed: fetch it (conditionally), ingest every item with a transcript that is new
    or changed. Never raises for a bad feed or item: each failure is one outcome, and the other
    items still go in.

    ``on_first_poll_added`` is called with each episode a feed's first poll adds, as soon as it
    is stored: the serving bot records it as the back catalogue before anything can announce it.

    Example:
        >>> report = await ingest_feed(store, "https://x.org/feed.xml", fetch)  # doctest: +SKIP
        >>> print(report.summary())                                          # doctest: +SKIP
    """
    started = time.perf_counter()
    report = FeedReport(feed_url=feed_url)
    state = await store.fetchone(
        "SELECT etag, last_modified FROM feed_state WHERE url = ? AND kind = 'feed'", (feed_url,)
    )
    report.first_poll = state is None
    try:
        fetched = await fetch(
            feed_url, max_bytes=MAX_FEED_BYTES,
            etag=state["etag"] if state else None,
            last_modified=state["last_modified"] if state else None,
        )  # fmt: skip
        feed = None if fetched.status == 304 else parse_feed(fetched.body)
    except (FetchError, FeedError) as exc:
        report.outcomes.append(FileOutcome(feed_url, Outcome.FAILED, message=str(exc)))
        report.elapsed = time.perf_counter() - started
        return report
    if feed is None:
        report.not_modified = True
        await _save_feed_state(store, feed_url, state["etag"], state["last_modified"], None)
        report.elapsed = time.perf_counter() - started
        return report
    for note in feed.notes:
        report.outcomes.append(FileOutcome(feed_url, Outcome.SKIPPED, message=note, reason=note))
    known = {
        r["guid"]: r
        for r in await store.fetchall("SELECT * FROM feed_items WHERE feed_url = ?", (feed_url,))
    }
    taken = {r["episode_id"] for r in known.values()}
    for item in feed.items:
        where = f"{feed_url} › {item.label}"
        if not item.transcripts:
            report.outcomes.append(
                FileOutcome(where, Outcome.SKIPPED, message="no <podcast:transcript>",
                            reason=NO_TRANSCRIPT)
            )  # fmt: skip
            continue
        row = known.get(item.guid)
        if row is not None and row["removed_at"]:
            report.outcomes.append(
                FileOutcome(where, Outcome.SKIPPED, row["episode_id"], item.title,
                            message="removed with `episodes remove`; not ingested again",
                            reason="items removed with `episodes remove`")
            )  # fmt: skip
            continue
        if row is not None:
            episode_id = row["episode_id"]
        else:
            episode_id = base = episode_id_for(item)
            n = 2
            while episode_id in taken:
                episode_id, n = f"{base}-{n}", n + 1
            taken.add(episode_id)
        report.outcomes.append(
            await _ingest_item(store, feed_url, item, episode_id, row, fetch, report)
        )
        done = report.outcomes[-1]
        if report.first_poll and on_first_poll_added and done.status == Outcome.ADDED:
            await on_first_poll_added(done.episode_id or episode_id)
    failed = bool(report.failed)
    # A feed with a failed item keeps no validators: the next poll reads it again and retries.
    await _save_feed_state(
        store, feed_url, None if failed else fetched.etag,
        None if failed else fetched.last_modified, len(feed.items),
    )  # fmt: skip
    report.elapsed = time.perf_counter() - started
    return report


async def _save_feed_state(
    store: Store, url: str, etag: str | None, last_modified: str | None, items: int | None
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "INSERT INTO feed_state(url, kind, etag, last_modified, polled_at, items)"
            " VALUES (?, 'feed', ?, ?, ?, coalesce(?, 0)) ON CONFLICT(url) DO UPDATE SET"
            " etag = excluded.etag, last_modified = excluded.last_modified,"
            " polled_at = excluded.polled_at, items = coalesce(?, items)",
            (url, etag, last_modified, store.stamp(), items, items),
        )


async def _ingest_item(
    store: Store,
    feed_url: str,
    item: FeedItem,
    episode_id: str,
    row,
    fetch: Fetch,  # noqa: ANN001
    report: FeedReport,
) -> FileOutcome:
    where = f"{feed_url} › {item.label}"
    item_hash = item.fields_hash()
    stored = row is not None and await store.fetchone(
        "SELECT 1 FROM episodes WHERE id = ? UNION ALL SELECT 1 FROM caption_tracks"
        " WHERE episode_id = ?", (row["episode_id"], row["episode_id"]),
    )  # fmt: skip
    errors = []
    for link in item.transcripts:
        same = bool(stored) and row["transcript_url"] == link.url and row["item_hash"] == item_hash
        try:
            got = await fetch(
                link.url, max_bytes=MAX_FILE_BYTES,
                etag=row["etag"] if same else None,
                last_modified=row["last_modified"] if same else None,
            )  # fmt: skip
        except FetchError as exc:
            errors.append(f"transcript {link.url}: {exc}")
            continue
        if got.status == 304:
            return FileOutcome(
                where, Outcome.UNCHANGED, episode_id, item.title,
                message="transcript not modified (conditional GET)",
                reason="unchanged since they were last ingested (nothing to do)",
            )  # fmt: skip
        report.transcripts_fetched += 1
        served = got.content_type.split(";")[0].strip().lower()
        if served.startswith(_NOT_TEXT) or (served == "text/html" and link.type != "text/html"):
            errors.append(
                f"transcript {link.url}: served as {served}, not a transcript"
                + (f" ({link.type})" if link.type else "")
            )
            continue
        outcome = await _store_item(store, feed_url, item, episode_id, link, got, fetch, where)
        if outcome.status == Outcome.FAILED:
            errors.append(f"transcript {link.url}: {outcome.message}")
            continue
        async with store.transaction() as conn:
            await conn.execute(
                "INSERT INTO feed_items(feed_url, guid, episode_id, transcript_url, etag,"
                " last_modified, item_hash, removed_at) VALUES (?,?,?,?,?,?,?,NULL)"
                " ON CONFLICT(feed_url, guid) DO UPDATE SET episode_id = excluded.episode_id,"
                " transcript_url = excluded.transcript_url, etag = excluded.etag,"
                " last_modified = excluded.last_modified, item_hash = excluded.item_hash",
                (feed_url, item.guid, outcome.episode_id or episode_id, link.url, got.etag,
                 got.last_modified, item_hash),
            )  # fmt: skip
        if errors:  # a better transcript failed; this one went in
            note = "; ".join([*errors, *(m for m in [outcome.message] if m)])
            return FileOutcome(
                outcome.path, outcome.status, outcome.episode_id, outcome.title,
                outcome.passages, outcome.seconds, message=note,
            )  # fmt: skip
        return outcome
    return FileOutcome(where, Outcome.FAILED, episode_id, item.title, message="; ".join(errors))


async def _store_item(
    store: Store, feed_url: str, item: FeedItem, episode_id: str, link: TranscriptLink,
    got: Fetched, fetch: Fetch, where: str,
) -> FileOutcome:  # fmt: skip
    chapters: tuple[Chapter, ...] = ()
    notes = []
    if item.chapters_url:
        try:
            answer = await fetch(item.chapters_url, max_bytes=MAX_CHAPTERS_BYTES)
            chapters = parse_chapters(answer.body)
        except (FetchError, ValueError) as exc:
            notes.append(f"chapters {item.chapters_url} left out: {exc}")
    meta = EpisodeMeta(
        id=episode_id, title=item.title or None, guests=item.guests, date=item.date,
        url=item.url, youtube_id=youtube_id(item.url),
        links={"page": item.page} if item.page else {}, season=item.season,
        number=item.number, chapters=chapters,
    )  # fmt: skip
    raw = got.body
    if link.type == "text/html" or link.extension == ".html":
        try:
            raw = html_to_text(decode(raw)[0]).encode()
        except Exception as exc:  # noqa: BLE001 - the decoder's ParseError, reported as such
            return FileOutcome(where, Outcome.FAILED, message=str(exc))
    digest = file_hash(raw, INGEST_VERSION, link.url, repr(meta))
    same = await store.fetchone("SELECT title FROM episodes WHERE source_hash = ?", (digest,))
    if same is not None:
        return FileOutcome(
            where, Outcome.UNCHANGED, episode_id, item.title, message="unchanged, skipped",
            reason="unchanged since they were last ingested (nothing to do)",
        )  # fmt: skip
    job = Job(
        Path(f"{episode_id}{link.extension if link.extension != '.html' else '.txt'}"), raw,
        digest, link.format, meta, True, source=link.url,
    )  # fmt: skip
    prepared = await asyncio.to_thread(_prepare_safely, job)  # searches go on meanwhile
    if isinstance(prepared, Prepared):
        outcome = await store_prepared(store, prepared)
    else:
        outcome = prepared
    message = "; ".join(m for m in (outcome.message, *notes) if m) or None
    return FileOutcome(
        where, outcome.status, outcome.episode_id, outcome.title, outcome.passages,
        outcome.seconds, message=message, line=outcome.line, reason=outcome.reason,
    )  # fmt: skip
