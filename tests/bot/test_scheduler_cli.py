"""``python -m bot digest`` and ``ingest --announce``: the real command line, the Slack stand-in."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from storage.activity.log import record_search
from storage.clock import iso
from storage.db import Store
from tests.clock import Clock
from tests.conftest import PODCAST
from tests.slack_api import BOT_TOKEN, SlackApi, block_kit_problems

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
# Three short real episodes, for commands that ingest anew.
SMALL_EPISODES = ("s22e07-reinventing-career-in-tech", "dataops-for-data-engineering",
                  "trends-in-modern-data-engineering")  # fmt: skip
AT_NOW = Clock(NOW)  # the commands run at NOW: main() opens its store with this clock
NEW = "devrel-open-source-machine-learning"
LATER = "lean-mlops-for-startups"
SETTINGS = ("DIGEST_CHANNEL", "ANNOUNCE_CHANNEL", "SLACK_BOT_TOKEN", "SLACK_API_URL",
            "DIGEST_SCHEDULE", "DIGEST_TIMEZONE", "DIGEST_SKIP_EMPTY", "ADMIN_USER_IDS",
            "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_PATH")  # fmt: skip


@pytest.fixture
def db(corpus_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A corpus copy (NEW arrived this week, LATER not yet ingested), a clean environment and
    working directory (no stray .env)."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cli.db"
    shutil.copy(corpus_db, path)

    async def prepare() -> None:
        async with await Store.open(path) as store:
            async with store.transaction() as conn:
                await conn.execute(
                    "UPDATE digest_arrivals SET arrived_at = ?",
                    (iso(datetime(2026, 1, 5, 10, tzinfo=UTC)),),
                )
                await conn.execute(
                    "UPDATE digest_arrivals SET arrived_at = ? WHERE episode_id = ?",
                    (iso(NOW - timedelta(days=2)), NEW),
                )
                await conn.execute("DELETE FROM episodes WHERE id = ?", (LATER,))
                await conn.execute("DELETE FROM digest_arrivals WHERE episode_id = ?", (LATER,))
            for user in ("U1", "U2"):  # topics are named once two people searched them
                await record_search(
                    store, "metaflow", 5, user_id=user, at=iso(NOW - timedelta(days=1))
                )

    asyncio.run(prepare())
    return path


def slack_env(monkeypatch: pytest.MonkeyPatch, slack_api: SlackApi, **channels: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack_api.api_url)
    for name, value in channels.items():
        monkeypatch.setenv(name, value)


def test_preview_prints_the_digest(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(clock=AT_NOW, argv=["digest", "--preview", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Weekly digest · Mon 30 Nov 2026")
    assert "NEW THIS WEEK" in out and "DevRel Role for Machine Learning" in out
    assert "FROM THE ARCHIVE" in out and "WHAT PEOPLE SEARCHED" in out and "metaflow" in out
    assert "https://www.youtube.com/watch?v=z7BvslwVRbQ&t=0s" in out
    assert "DIGEST_CHANNEL is not set" in err
    monkeypatch.setenv("DIGEST_CHANNEL", "C0DIGEST")
    monkeypatch.setenv("DIGEST_TIMEZONE", "Europe/Berlin")
    assert main(clock=AT_NOW, argv=["digest", "--db", str(db)]) == 0  # --preview is the default
    out, err = capsys.readouterr()
    assert "posted to C0DIGEST Mondays at 09:00 (Europe/Berlin)" in err
    assert "NEW THIS WEEK" in out
    assert posts_for_week(db) == 0  # a preview records nothing


def posts_for_week(db: Path) -> int:
    async def count() -> int:
        async with await Store.open(db) as store:
            row = await store.fetchone("SELECT count(*) FROM posts WHERE key = '2026-W49'")
            return row[0]

    return asyncio.run(count())


def test_blocks_are_valid_block_kit(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(clock=AT_NOW, argv=["digest", "--blocks", "--db", str(db)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert block_kit_problems(payload) == []
    assert payload["unfurl_links"] is False


def test_posting_needs_a_channel_and_says_so(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(clock=AT_NOW, argv=["digest", "--now", "--db", str(db)]) == 2
    assert "DIGEST_CHANNEL is not set" in capsys.readouterr().err


async def test_now_posts_once(
    db: Path, slack_api: SlackApi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    slack_env(monkeypatch, slack_api, DIGEST_CHANNEL="C0DIGEST")
    assert await asyncio.to_thread(main, ["digest", "--now", "--db", str(db)]) == 0
    assert "posted the digest for 2026-W49 to C0DIGEST" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["digest", "--now", "--db", str(db)]) == 0
    assert "already posted" in capsys.readouterr().out
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["channel"] == "C0DIGEST" and call.answer["ok"]


async def test_ingest_announce_posts_new_episodes_once(
    db: Path,
    slack_api: SlackApi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    tmp_path: Path,
) -> None:
    slack_env(monkeypatch, slack_api, ANNOUNCE_CHANNEL="C0NEWS")
    episode = tmp_path / f"{LATER}.md"
    shutil.copy(PODCAST / episode.name, episode)
    argv = ["ingest", "--announce", "-q", "--db", str(db), str(episode)]
    assert await asyncio.to_thread(main, argv) == 0
    assert f"announced {LATER} in C0NEWS" in capsys.readouterr().err
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.args["channel"] == "C0NEWS" and "Lean MLOps" in call.args["text"]
    # The file is updated and ingested again: replaced, not announced again.
    episode.write_text(episode.read_text().replace("MLOps", "MLOps (updated)", 1))
    assert await asyncio.to_thread(main, argv) == 0
    assert "nothing new to announce" in capsys.readouterr().err
    assert len(slack_api.calls_to("chat.postMessage")) == 1


def test_announce_without_a_channel_ingests_nothing(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    episode = PODCAST / f"{LATER}.md"
    assert main(clock=AT_NOW, argv=["ingest", "--announce", "--db", str(db), str(episode)]) == 2
    assert "ANNOUNCE_CHANNEL is not set" in capsys.readouterr().err

    async def count() -> int:
        async with await Store.open(db) as store:
            row = await store.fetchone("SELECT count(*) FROM episodes WHERE id = ?", (LATER,))
            return row[0]

    assert asyncio.run(count()) == 0


def test_ingest_then_preview_at_once_shows_the_new_episodes_every_time(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15's loop, in-process: ingest three episodes and at once preview the digest, in the
    same second (it said "Nothing new" in about half of the runs). Each run lands at another
    point of the second, down to the next microsecond."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_CHANNEL", "C1")
    files = [str(PODCAST / f"{e}.md") for e in SMALL_EPISODES]
    second = datetime(2026, 12, 1, 6, 25, 45, tzinfo=UTC)
    counts = []
    for run, (ingested, previewed) in enumerate(
        [(0, 1), (120_000, 480_000), (500_000, 500_001), (999_998, 999_999)]
    ):
        db = str(tmp_path / f"run{run}.db")
        clock = Clock(second + timedelta(microseconds=ingested))
        assert main(clock=clock, argv=["ingest", "-q", *files, "--db", db]) == 0
        clock.now = second + timedelta(microseconds=previewed)
        capsys.readouterr()
        assert main(clock=clock, argv=["digest", "--preview", "--db", db]) == 0
        out = capsys.readouterr().out
        counts.append(out.count("NEW THIS WEEK"))
        assert out.count("\n* ") == len(files), out  # each of the three, once
    assert counts == [1, 1, 1, 1]
