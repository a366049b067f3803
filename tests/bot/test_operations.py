"""Running it for real: removing episodes, backups while serving, health in Socket Mode, JSON
logs, and `make run` leaving a real show's database alone."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot.cli import EXAMPLES, main, seed_demo
from bot.logs import JsonFormatter, setup_logging
from storage.activity import record_share
from storage.catalogue import list_episodes
from storage.db import Store
from storage.ingest import ingest_paths, meta_from_flags, remove_episodes
from storage.search import search
from tests.bot.harness import test_settings
from tests.bot.test_serve import free_port, start
from tests.conftest import DEVREL, PODCAST, SEED, corpus_files, need_corpus

# Every table that holds rows of one episode, and the column naming it.
EPISODE_ROWS = {
    "episodes": "id", "chapters": "episode_id", "episode_segments": "episode_id",
    "passages": "episode_id", "episode_word_times": "episode_id", "caption_tracks": "episode_id",
    "digest_arrivals": "episode_id", "shares": "episode_id", "search_speakers": "episode_id",
}  # fmt: skip


async def _count(store: Store, table: str, column: str, episode_id: str) -> int:
    row = await store.fetchone(
        f"SELECT count(*) FROM {table} WHERE {column} = ?",  # noqa: S608 - fixed names
        (episode_id,),
    )
    return row[0]


async def test_remove_takes_every_row_and_search_notices(store) -> None:
    need_corpus()
    other = PODCAST / "ab-testing-and-product-experimentation.md"
    await ingest_paths(store, [DEVREL, other])
    devrel = "devrel-open-source-machine-learning"
    # Its captions: a caption track that times it (episode_word_times).
    await ingest_paths(store, [SEED], overrides=meta_from_flags(episode_id=devrel))
    await record_share(store, devrel, 855.0, user_id="U1", channel_id="C1")
    before = (await search(store, "argo scheduler")).hits  # fills search's caches
    assert before and before[0].episode_id == devrel
    for table, column in EPISODE_ROWS.items():
        assert await _count(store, table, column, devrel) > 0, table
    fts_before = (await store.fetchone("SELECT count(*) FROM passages_fts"))[0]

    assert await remove_episodes(store, [devrel, "no-such-episode"]) == [devrel]

    for table, column in EPISODE_ROWS.items():
        assert await _count(store, table, column, devrel) == 0, table
    passages_left = (await store.fetchone("SELECT count(*) FROM passages"))[0]
    fts_rows = await store.fetchone(
        "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'argo'"
    )
    assert passages_left > 0 and fts_rows[0] == 0
    assert (await store.fetchone("SELECT count(*) FROM passages_fts"))[0] < fts_before
    after = await search(store, "argo scheduler")
    assert all(h.episode_id != devrel for h in after.hits)
    assert [e.id for e in await list_episodes(store)] == ["ab-testing-and-product-experimentation"]


def test_remove_cli_asks_and_removes_the_demo(tmp_path: Path, capsys, monkeypatch) -> None:
    db = tmp_path / "demo.db"

    async def seed() -> None:
        async with await Store.open(db) as store:
            await ingest_paths(store, [EXAMPLES])

    asyncio.run(seed())
    demo = sorted(e.name for e in EXAMPLES.iterdir())
    assert demo  # the examples folder ships with the code
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # not a terminal: --yes is needed
    assert main(["episodes", "remove", "--demo", "--db", str(db)]) == 1
    assert "confirm with --yes" in capsys.readouterr().err
    assert main(["episodes", "remove", "nope", "--yes", "--db", str(db)]) == 1
    assert "no episode nope" in capsys.readouterr().err
    assert main(["episodes", "remove", "--demo", "--yes", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "removed" in out
    assert main(["episodes", "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out) == []


async def test_make_run_never_seeds_a_real_show(tmp_path: Path, slack_api) -> None:
    need_corpus()
    db = tmp_path / "real.db"
    async with await Store.open(db) as store:
        with_slack = test_settings(db, slack_api)
        said = await seed_demo(store, with_slack)
        assert await list_episodes(store) == [] and "0 episodes" in said  # tokens: no demo
        no_slack = replace(with_slack, slack_bot_token=None)
        said = await seed_demo(store, no_slack)
        assert str(EXAMPLES) in said and "episodes remove --demo" in said
        demo = len(await list_episodes(store))
        assert demo > 0
        said = await seed_demo(store, with_slack)  # tokens set later: the demo is pointed out
        assert "demo show" in said and "episodes remove --demo" in said
        await ingest_paths(store, [DEVREL])
        await remove_episodes(store, [e.id for e in await list_episodes(store) if e.id != (
            "devrel-open-source-machine-learning")])  # fmt: skip
        said = await seed_demo(store, no_slack)  # a real show, no tokens: still no demo
        assert [e.id for e in await list_episodes(store)] == ["devrel-open-source-machine-learning"]


async def test_backup_while_a_writer_is_busy(tmp_path: Path) -> None:
    need_corpus()
    db, copy = tmp_path / "live.db", tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    files = corpus_files(PODCAST)[:24]
    async with await Store.open(db) as serving:
        await ingest_paths(serving, files[:4], workers=0)
        writer = asyncio.create_task(ingest_paths(serving, files[4:], workers=0))
        # The command line's connection, as `python -m bot backup` opens it.
        async with await Store.open(db, create=False, migrate=False) as other:
            sizes = []
            while not writer.done() and len(sizes) < 20:
                sizes.append(await other.backup(copy))
                await asyncio.sleep(0.05)
        await writer
        assert len(sizes) >= 1
    check = sqlite3.connect(copy)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        episodes = check.execute("SELECT count(*) FROM episodes").fetchone()[0]
        with_passages = check.execute("SELECT count(DISTINCT episode_id) FROM passages").fetchone()
        assert 4 <= episodes <= len(files) and with_passages[0] == episodes  # whole episodes only
        fts = check.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'data'")
        assert fts.fetchone()[0] > 0
    finally:
        check.close()
    assert not list(copy.parent.glob(".*partial*"))


def test_backup_cli_refuses_the_database_itself(tmp_path: Path, capsys) -> None:
    db = tmp_path / "e.db"
    asyncio.run(Store.open(db)).conn  # noqa: B018 - create it
    assert main(["backup", str(db), "--db", str(db)]) == 2
    assert "is the database itself" in capsys.readouterr().err


async def test_socket_mode_health_port(bot_db, slack_api) -> None:
    port = free_port()
    settings = test_settings(
        bot_db, slack_api, slack_app_token="xapp-1-test", slack_signing_secret=None,
        health_port=port,
    )  # fmt: skip
    task, stop, _ = await start(settings)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the socket connects just after "ready"
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    status, body = resp.status, await resp.json()
                if status == 200:
                    break
                await asyncio.sleep(0.1)
        assert status == 200, body
        assert body["database"] == "ok" and body["episodes"] > 0
        assert body["slack"] == {"mode": "socket", "ok": True, "connected": True}
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_health_says_503_without_the_socket(store) -> None:
    from bot.health import SlackLink, health_report

    class Closed:
        async def is_connected(self) -> bool:
            return False

    status, body = await health_report(store, SlackLink("socket", Closed()))
    assert status == 503 and body["slack"]["connected"] is False and body["database"] == "ok"


def test_json_logs_one_object_per_line() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    try:
        log = logging.getLogger("episode_bot.feeds")
        log.info("%s: %d episodes", "https://x.org/feed.xml", 3, extra={"source": "feed"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("polling failed")
        logging.getLogger("episode_bot").debug("not shown at INFO")
    finally:
        setup_logging("WARNING", "text")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "https://x.org/feed.xml: 3 episodes"
    assert (first["level"], first["logger"], first["source"]) == (
        "INFO",
        "episode_bot.feeds",
        "feed",
    )
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    assert "args" not in first and "msg" not in first
    assert isinstance(JsonFormatter(), logging.Formatter)


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ConfigError, load_settings

    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert load_settings(None).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json"):
        load_settings(None)
