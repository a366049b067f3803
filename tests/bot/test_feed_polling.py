"""The running bot keeps the catalogue current: `serve` (HTTP mode, Web API stand-in) polls a
Podcasting 2.0 feed on 127.0.0.1 and a watched folder, imports the back catalogue quietly, and
announces an item published while it runs, once."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from storage.catalogue import list_episodes
from storage.db import Store
from tests.bot.harness import test_settings
from tests.bot.test_serve import free_port, start
from tests.conftest import FORMATS, need_corpus
from tests.feed_server import MIME, FeedServer, Item

VTT = FORMATS / "vtt"


async def _until(condition, what: str, timeout: float = 10.0) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_serve_polls_feeds_and_folders_and_announces_once(tmp_path: Path, slack_api) -> None:
    need_corpus()
    db = tmp_path / "live.db"
    await (await Store.open(db)).close()  # serve needs a database; `ingest` would make one
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(VTT / "467-pycon-data-sci-panel.vtt", folder)
    srt = FORMATS / "srt" / "8_3.srt"
    async with FeedServer() as host:
        host.put("/0.vtt", (VTT / "000_tptm_introducing_the_show.vtt").read_bytes(), MIME["vtt"])
        host.add_item(Item("tptm-0", "Introducing the show", transcripts=[("/0.vtt", "text/vtt")]))
        settings = test_settings(
            db, slack_api, port=free_port(), feeds=(host.feed_url,), watch_dirs=(str(folder),),
            feed_poll_minutes=0.3 / 60, announce_channel="C0NEWS",
        )  # fmt: skip
        task, stop, _ = await start(settings)
        try:
            async with await Store.open(db) as reader:

                async def ids() -> set[str]:
                    return {e.id for e in await list_episodes(reader)}

                async def has(*wanted: str) -> bool:
                    return set(wanted) <= await ids()

                await _until(lambda: has("tptm-0", "467-pycon-data-sci-panel"), "the import")
                # The new episode, published while the bot runs: in the feed and in the folder.
                host.put(
                    "/92.vtt", (VTT / "092-006-pythonbytes-crossover.vtt").read_bytes(), "text/vtt"
                )
                host.add_item(Item("crossover", "Python Bytes crossover",
                                   transcripts=[("/92.vtt", "text/vtt")]))  # fmt: skip
                shutil.copy(srt, folder)
                polls = host.requests["/feed.xml"]
                await _until(lambda: has("crossover", "8-3"), "the new item and file")
                assert host.requests["/feed.xml"] <= polls + 1  # within one poll
                posts = await slack_api.wait_for("chat.postMessage", count=2)
                assert {p.args["channel"] for p in posts} == {"C0NEWS"}
                assert any("Python Bytes crossover" in str(p.args) for p in posts)
                seen = host.requests["/feed.xml"]

                async def two_more_polls() -> bool:
                    return host.requests["/feed.xml"] >= seen + 2

                await _until(two_more_polls, "two more polls")
                # Each new episode once; the back catalogue (first poll, first scan) never.
                assert len(slack_api.calls_to("chat.postMessage")) == 2
                # Each transcript downloaded once; later polls asked "modified?" and got a 304.
                for path in ("/0.vtt", "/92.vtt"):
                    assert host.requests[path] - host.conditional[path] == 1
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_ingest_a_feed_from_the_command_line(tmp_path: Path) -> None:
    """`python -m bot ingest URL`: a line per failed item, exit 1; the next run is a 304."""
    import sys

    from tests.conftest import ROOT

    need_corpus()
    db = tmp_path / "cli.db"
    async with FeedServer() as host:
        host.put("/0.vtt", (VTT / "000_tptm_introducing_the_show.vtt").read_bytes(), MIME["vtt"])
        host.add_item(Item("tptm-0", "Introducing the show", transcripts=[("/0.vtt", "text/vtt")]))

        async def cli(*args: str) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "ingest", *args, "--db", str(db), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode, out.decode(), err.decode()

        host.add_item(Item("gone", "Gone", transcripts=[("/gone.vtt", "text/vtt")]))
        code, out, err = await cli(host.feed_url)
        assert code == 1
        assert f'{host.feed_url} › "Gone": transcript {host.base}/gone.vtt: HTTP 404' in err
        assert "1 episodes ingested" in out and "1 items failed" in out
        host.items.pop()  # the host fixes its feed
        host.touch()
        assert (await cli(host.feed_url))[0] == 0
        code, out, _ = await cli(host.feed_url)
        assert code == 0 and "not modified since it was last read" in out
        code, _, err = await cli("")
        assert code == 2 and "an empty PATH" in err
