"""Podcast feeds: a Podcasting 2.0 RSS feed served from 127.0.0.1, built from the corpus samples
(VTT, SRT, Whisper and YouTube JSON transcripts, persons, JSON chapters), read by ingest_feed
through the production fetcher (bot/fetch.py)."""

from __future__ import annotations

import json

import pytest

from bot.fetch import HttpFetcher
from storage.catalogue import deep_link, get_episode, list_episodes
from storage.ingest import Outcome, ingest_feed, ingest_paths, parse_feed
from storage.search import search
from tests.conftest import DEVREL, FORMATS, SEED, need_corpus
from tests.feed_server import MIME, FeedServer, Item, chapters_json

VTT = FORMATS / "vtt" / "000_tptm_introducing_the_show.vtt"
TXT = FORMATS / "timestamped-txt" / "000_tptm_introducing_the_show.txt"
SRT = FORMATS / "srt" / "8_3.srt"
WHISPER = FORMATS / "whisper-json" / "9-Alignment-w-Benjamin-Bratton_.json"
YOUTUBE_JSON = FORMATS / "youtube-json" / "youtube_transcript.json"


def show(host: FeedServer) -> None:
    """Four episodes, one transcript format each, and an item with no transcript."""
    need_corpus()
    host.put("/ep1.txt", TXT.read_bytes(), MIME["txt"])
    host.put("/ep1.vtt", VTT.read_bytes(), MIME["vtt"])
    host.put("/ep1-chapters.json", chapters_json(
        (0, "Introduction"), (36.5, "The show's topics"), silent=(20, "sponsor marker")
    ), "application/json+chapters")  # fmt: skip
    host.put("/ep2.srt", SRT.read_bytes(), MIME["srt"])
    host.put("/ep3.json", WHISPER.read_bytes(), MIME["json"])
    host.put("/ep4.json", YOUTUBE_JSON.read_bytes(), MIME["json"])
    host.add_item(Item(
        "tptm-0", "Introducing the show", date="Sat, 21 Mar 2015 10:00:00 GMT",
        enclosure="https://cdn.example.org/ep0.mp3",
        transcripts=[("/ep1.txt", MIME["txt"]), ("/ep1.vtt", MIME["vtt"])],
        guests=["Ana Lima", "Bo Chen"], hosts=["Michael Kennedy"], chapters="/ep1-chapters.json",
        season=1, episode=0,
    ))  # fmt: skip
    host.add_item(Item(
        "https://example.org/?p=83", "Season eight, episode three",
        link="https://www.youtube.com/watch?v=z7BvslwVRbQ",
        enclosure="https://cdn.example.org/ep83.mp3", transcripts=[("/ep2.srt", MIME["srt"])],
    ))  # fmt: skip
    host.add_item(Item("bratton", "Alignment", transcripts=[("/ep3.json", MIME["json"])],
                       enclosure="https://cdn.example.org/ep3.mp3"))  # fmt: skip
    host.add_item(Item("shop", "Dave's garage", transcripts=[("/ep4.json", MIME["json"])],
                       link="https://youtu.be/AbCdEfGhIjK"))  # fmt: skip
    host.add_item(Item("trailer", "Trailer", enclosure="https://cdn.example.org/trailer.mp3"))


@pytest.fixture
async def host():
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def fetch():
    async with HttpFetcher(timeout=0.4) as fetcher:
        yield fetcher


async def test_feed_items_become_episodes(store, host, fetch) -> None:
    show(host)
    report = await ingest_feed(store, host.feed_url, fetch)
    assert not report.failed, [o.describe() for o in report.failed]
    added = {o.episode_id: o for o in report.of(Outcome.ADDED)}
    assert len(added) == 4
    assert report.first_poll

    first = await get_episode(store, "tptm-0")
    assert first is not None and first.title == "Introducing the show"
    assert first.guests == ("Ana Lima", "Bo Chen")  # the host person is not a guest
    assert first.date == "2015-03-21" and (first.season, first.number) == (1, 0)
    assert first.source_format == "vtt"  # the timed format, over the plain text listed first
    assert host.requests["/ep1.txt"] == 0
    assert [(c.title, c.start) for c in first.chapters] == [
        ("Introduction", 0.0), ("The show's topics", 36.5),
    ]  # the toc:false marker is left out  # fmt: skip
    assert first.source_path == host.base + "/ep1.vtt"
    assert deep_link(first.url, 95) == "https://cdn.example.org/ep0.mp3#t=95"

    # A URL guid makes an id from the title and a hash of the guid; the YouTube link wins.
    [srt_id] = [i for i in added if i.startswith("season-eight-episode-three-")]
    srt = await get_episode(store, srt_id)
    assert srt.source_format == "srt" and deep_link(srt.url, 60).endswith("z7BvslwVRbQ&t=60s")
    assert (await get_episode(store, "bratton")).source_format == "whisper-json"
    assert (await get_episode(store, "shop")).source_format == "youtube-json"

    result = await search(store, "Talk Python To Me episode number zero")
    assert result.hits and result.hits[0].episode_id == "tptm-0"
    assert result.hits[0].url.startswith("https://cdn.example.org/ep0.mp3#t=")

    [none] = [o for o in report.of(Outcome.SKIPPED)]
    assert '"Trailer"' in none.path and "no <podcast:transcript>" in none.describe()
    assert any('"Trailer"' in line for line in report.lines(verbose=True))
    assert "1 skipped" in report.summary() and "0 items failed" in report.summary()


async def test_unchanged_feed_fetches_no_transcript(store, host, fetch) -> None:
    show(host)
    await ingest_feed(store, host.feed_url, fetch)
    before = sum(n for path, n in host.requests.items() if path != "/feed.xml")
    again = await ingest_feed(store, host.feed_url, fetch)
    assert again.not_modified and not again.outcomes
    assert host.conditional["/feed.xml"] == 1  # If-None-Match sent, 304 answered
    assert sum(n for path, n in host.requests.items() if path != "/feed.xml") == before


async def test_changed_transcript_is_ingested_again(store, host, fetch) -> None:
    show(host)
    await ingest_feed(store, host.feed_url, fetch)
    fetched = dict(host.requests)
    changed = VTT.read_bytes().replace(b"recorded Saturday", b"recorded Zanzibarday")
    host.put("/ep1.vtt", changed, MIME["vtt"])
    host.touch()
    report = await ingest_feed(store, host.feed_url, fetch)
    assert not report.not_modified and not report.failed
    statuses = {o.episode_id: o.status for o in report.outcomes if o.episode_id}
    assert statuses.pop("tptm-0") == Outcome.REPLACED
    assert set(statuses.values()) == {Outcome.UNCHANGED}  # the others: 304 on their transcript
    assert report.transcripts_fetched == 1
    assert host.conditional["/ep2.srt"] == 1 and host.requests["/ep2.srt"] == 2
    assert host.requests["/ep1-chapters.json"] == fetched["/ep1-chapters.json"] + 1
    hits = (await search(store, "zanzibarday")).hits
    assert hits and hits[0].episode_id == "tptm-0"
    assert len(await list_episodes(store)) == 4


async def test_each_bad_item_fails_alone(store, host, fetch, monkeypatch) -> None:
    import storage.ingest.feeds as feeds

    need_corpus()
    monkeypatch.setattr(feeds, "MAX_FILE_BYTES", 64 * 1024)  # the limit, made small to test
    host.put("/good.vtt", VTT.read_bytes(), MIME["vtt"])
    host.put("/moved-here.vtt", VTT.read_bytes().replace(b"zero", b"nil"), MIME["vtt"])
    host.put("/huge.json", WHISPER.read_bytes(), MIME["json"])
    host.put("/page.vtt", b"<!doctype html><html><body>Sign in</body></html>", "text/html")
    host.put("/audio.vtt", b"ID3\x03\x00" + bytes(500), "audio/mpeg")
    bad = {
        "missing": ("/missing.vtt", "HTTP 404 Not Found"),
        "slow": ("/slow.vtt", "no complete answer within 0 s"),
        "huge": ("/huge.json", "too large"),
        "page": ("/page.vtt", "served as text/html, not a transcript (text/vtt)"),
        "audio": ("/audio.vtt", "served as audio/mpeg"),
        "loop": ("/loop.vtt", "more than 5 redirects"),
        "ftp": ("ftp://example.org/ep.vtt", "only http(s) URLs are fetched, not ftp"),
    }
    for guid, (path, _) in bad.items():
        host.add_item(Item(guid, f"Bad {guid}", transcripts=[(path, MIME["vtt"])]))
    host.add_item(Item("good", "Good one", transcripts=[("/good.vtt", MIME["vtt"])]))
    host.add_item(Item("moved", "Moved one", transcripts=[("/moved.vtt", MIME["vtt"])]))
    report = await ingest_feed(store, host.feed_url, fetch)
    failed = {o.path: o.describe() for o in report.failed}
    assert len(failed) == len(bad)
    for guid, (path, why) in bad.items():
        line = failed[f'{host.feed_url} › "Bad {guid}"']
        assert path.rsplit("/", 1)[-1] in line and why in line, line
    assert {o.episode_id for o in report.of(Outcome.ADDED)} == {"good", "moved"}
    assert (await get_episode(store, "moved")).source_path == host.base + "/moved.vtt"
    assert await get_episode(store, "missing") is None
    # A feed with failures keeps no validators: the next poll reads it and retries them.
    await ingest_feed(store, host.feed_url, fetch)
    assert host.conditional["/feed.xml"] == 0


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/error.xml", "HTTP 500 Internal Server Error"),
        ("/hello.txt", "not an RSS or Atom feed: it is not XML at all"),
        ("/index.html", "not an RSS or Atom feed: it is an HTML page"),
        ("closed", "cannot connect to 127.0.0.1"),
        ("file:///etc/passwd", "only http(s) URLs are fetched, not file"),
    ],
)
async def test_a_bad_feed_is_one_clear_line(store, host, fetch, path, why) -> None:
    host.put("/hello.txt", b"hello, this is not a feed", "text/plain")
    host.put("/index.html", b"<!DOCTYPE html><html><body>Our podcast</body></html>", "text/html")
    if path == "closed":
        from tests.bot.test_serve import free_port

        url = f"http://127.0.0.1:{free_port()}/feed.xml"
    else:
        url = path if "://" in path else host.base + path
    report = await ingest_feed(store, url, fetch)
    [failure] = report.failed
    assert failure.path == url
    assert why in failure.describe()


async def test_captions_in_a_feed_time_the_edited_episode(store, host, fetch) -> None:
    need_corpus()
    await ingest_paths(store, [DEVREL])
    host.put("/devrel-captions.txt", SEED.read_bytes(), MIME["txt"])
    host.add_item(Item(
        "devrel", "DevRel for ML", link="https://www.youtube.com/watch?v=z7BvslwVRbQ",
        transcripts=[("/devrel-captions.txt", MIME["txt"])],
    ))  # fmt: skip
    report = await ingest_feed(store, host.feed_url, fetch)
    [aligned] = report.of(Outcome.ALIGNED)
    assert aligned.episode_id == "devrel-open-source-machine-learning"
    [episode] = await list_episodes(store)
    assert episode.timing == "captions-aligned"


def test_podcasting_json_transcript_and_lenient_feeds() -> None:
    from storage.ingest import parse_file

    need_corpus()
    # The Podcasting 2.0 JSON transcript, made from the corpus VTT's cues.
    cues = [c for c in VTT.read_text().split("\n\n")[1:] if "-->" in c]
    segments = []
    for cue in cues:
        times, *text = cue.strip().splitlines()
        start, end = (sum(float(x) * 60**i for i, x in enumerate(reversed(t.split(":"))))
                      for t in times.split(" --> "))  # fmt: skip
        segments.append({"speaker": "Michael", "startTime": start, "endTime": end,
                         "body": " ".join(text)})  # fmt: skip
    from pathlib import Path

    doc = json.dumps({"version": "1.0.0", "segments": segments})
    transcript = parse_file(Path("ep.json"), doc, None)
    assert len(transcript.segments) == len(segments)
    assert transcript.segments[0].speaker == "Michael"

    # Not well-formed XML (a bare &): feedparser reads it leniently and says so.
    feed = parse_feed(
        b'<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        b"<title>A & B</title><item><title>One</title><guid>1</guid>"
        b'<podcast:transcript url="https://x.org/1.vtt" type="text/vtt"/></item></channel></rss>'
    )
    [item] = feed.items
    assert [t.url for t in item.transcripts] == ["https://x.org/1.vtt"]
    assert feed.notes and "not well-formed" in feed.notes[0]
