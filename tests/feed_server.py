"""A podcast host on 127.0.0.1 for tests: a Podcasting 2.0 RSS feed built from the corpus
samples, the transcripts and JSON chapters it links, ETag/Last-Modified answered with 304, a
count of every request, and the ways real hosts fail (404, slow, huge, wrong type, loops).

Usage::

    async with FeedServer() as host:
        host.add_item(guid="ep-1", title="...", transcript=("vtt", FORMATS / "vtt" / "x.vtt"))
        report = await ingest_feed(store, host.feed_url, fetch)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

MIME = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
    "txt": "text/plain",
    "html": "text/html",
}


@dataclass
class Item:
    guid: str
    title: str
    date: str = "Tue, 02 May 2023 10:00:00 GMT"
    link: str | None = None
    enclosure: str | None = None
    transcripts: list[tuple[str, str]] = field(default_factory=list)  # (path on server, mime)
    guests: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    chapters: str | None = None  # path on server
    season: int | None = None
    episode: int | None = None

    def xml(self, base: str) -> str:
        out = [f"<item><title>{escape(self.title)}</title>",
               f'<guid isPermaLink="false">{escape(self.guid)}</guid>',
               f"<pubDate>{self.date}</pubDate>"]  # fmt: skip
        if self.link:
            out.append(f"<link>{escape(self.link)}</link>")
        if self.enclosure:
            out.append(f'<enclosure url={quoteattr(self.enclosure)} length="1" type="audio/mpeg"/>')
        for path, mime in self.transcripts:
            url = path if "://" in path else base + path
            out.append(f"<podcast:transcript url={quoteattr(url)} type={quoteattr(mime)}/>")
        for name in self.guests:
            out.append(f'<podcast:person role="guest">{escape(name)}</podcast:person>')
        for name in self.hosts:
            out.append(f"<podcast:person>{escape(name)}</podcast:person>")
        if self.chapters:
            out.append(
                f'<podcast:chapters url="{base}{self.chapters}" type="application/json+chapters"/>'
            )
        if self.season is not None:
            out.append(f"<podcast:season>{self.season}</podcast:season>")
        if self.episode is not None:
            out.append(f"<podcast:episode>{self.episode}</podcast:episode>")
        return "".join(out) + "</item>"


class FeedServer:
    """The host. ``files`` maps a path to (bytes, content type); ``requests`` counts GETs."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()  # GETs that carried validators
        self.slow_seconds = 1.5
        self.build = 0  # touch(): the feed changes (its lastBuildDate), as hosts do on any edit
        self._runner: web.AppRunner | None = None
        self.base = ""

    @property
    def feed_url(self) -> str:
        return self.base + "/feed.xml"

    def put(self, path: str, body: bytes, mime: str) -> str:
        self.files[path] = (body, mime)
        return path

    def add_item(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def touch(self) -> None:
        self.build += 60

    def rss(self) -> bytes:
        items = "".join(i.xml(self.base) for i in self.items)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
            f"<title>Test show</title><link>{self.base}/</link>"
            f"<lastBuildDate>{formatdate(1_700_000_000 + self.build, usegmt=True)}</lastBuildDate>"
            f"{items}</channel></rss>"
        ).encode()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] += 1
        if path == "/feed.xml":
            body, mime = self.rss(), "application/rss+xml"
        elif path == "/slow.vtt":
            await asyncio.sleep(self.slow_seconds)
            body, mime = b"WEBVTT\n", "text/vtt"
        elif path == "/loop.vtt":
            raise web.HTTPFound("/loop.vtt")
        elif path == "/moved.vtt":
            raise web.HTTPMovedPermanently("/moved-here.vtt")
        elif path == "/error.xml":
            raise web.HTTPInternalServerError()
        elif path in self.files:
            body, mime = self.files[path]
        else:
            raise web.HTTPNotFound()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        last_modified = formatdate(1_700_000_000 + len(body), usegmt=True)
        if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            self.conditional[path] += 1
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"Content-Type": mime, "ETag": etag, "Last-Modified": last_modified}
        )

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def chapters_json(*chapters: tuple[float, str], silent: tuple[float, str] | None = None) -> bytes:
    """Podcasting 2.0 JSON chapters; ``silent`` is a ``"toc": false`` marker."""
    items = [{"startTime": start, "title": title} for start, title in chapters]
    if silent:
        items.append({"startTime": silent[0], "title": silent[1], "toc": False})
    return json.dumps({"version": "1.2.0", "chapters": items}).encode()
