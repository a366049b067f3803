"""The console: the Slack handlers on the local database, driven through a pipe."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.console import Style, mrkdwn_to_terminal, run_console
from storage.db import Store
from tests.conftest import ROOT


async def console(db: Path, lines: list[str]) -> str:
    out = io.StringIO()
    status = await run_console(
        Settings(database_path=str(db)), stdin=io.StringIO("\n".join(lines) + "\n"), out=out
    )
    assert status == 0
    return out.getvalue()


async def test_search_share_page_and_questions(bot_db: Path) -> None:
    shown = await console(bot_db, [
        "/episodes kubernetes", "4",  # More ▶ (after three Share buttons)
        "4",  # ◀ Previous (then Next ▶, Dismiss)
        "1",  # Share the first quote
        "/episodes episode devrel metaflow",
        "@bot what is devrel?", "feature store",
        "/episodes", "/other thing", "9", "quit", "/episodes never reached",
    ])  # fmt: skip
    assert "Quotes 1–3 for kubernetes" in shown and "Quotes 4–6 for kubernetes" in shown
    assert "[1] Share" in shown and "[4] More ▶" in shown and "[4] ◀ Previous" in shown
    assert "only you can see this, replacing the preview" in shown
    assert "shared by you" in shown and "visible to everyone" in shown
    assert "(https://www.youtube.com/watch?v=" in shown and "&t=" in shown  # links readable
    assert "Chapters" in shown
    assert "in the thread" in shown  # @bot question
    assert "/episodes latest — the newest episodes" in shown  # help
    assert "Unknown command /other" in shown and "No button 9" in shown
    assert "never reached" not in shown.split("you> quit")[-1]
    assert "&amp;" not in shown and "&lt;" not in shown and "\033[" not in shown
    async with await Store.open(bot_db) as store:
        shares = await store.fetchall("SELECT user_id, query FROM shares")
        searches = await store.fetchall("SELECT query, source FROM search_log ORDER BY id")
    assert [(r["user_id"], r["query"]) for r in shares] == [("U0YOU", "kubernetes")]
    assert [r["query"] for r in searches] == ["kubernetes", "what is devrel?", "feature store"]
    assert {r["source"] for r in searches} == {"console"}


async def test_dismiss_forgets_the_buttons(bot_db: Path) -> None:
    shown = await console(bot_db, ["/episodes latest", "6", "1"])
    assert "(preview dismissed)" in shown
    assert "No button 1 (buttons: none right now)" in shown


async def test_odd_digits_are_not_a_crash(bot_db: Path) -> None:
    shown = await console(bot_db, ["/episodes latest", "²", "２", "9" * 5000, "quit"])
    assert "Traceback" not in shown and "went wrong" not in shown
    # "²" is a question (its answer has 👍/👎 buttons); fullwidth 2 presses the second: 👎
    assert "answer missed :-1:" in shown.split("you> ２")[1]
    assert "No button 0 (buttons: 1–" in shown


def test_mrkdwn_for_the_terminal() -> None:
    plain = Style(False)
    text = "*Title* &amp; _chapter_\n> “quote &lt;x&gt;”\n<https://a.example/?t=1|▶ 0:01> <@U0YOU>"
    assert mrkdwn_to_terminal(text, plain) == (
        "Title & chapter\n  │ “quote <x>”\n▶ 0:01 (https://a.example/?t=1) @you"
    )
    assert "\033[1mTitle\033[0m" in mrkdwn_to_terminal(text, Style(True))


def test_console_command_reads_a_pipe(bot_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "piped.db"
    shutil.copy(bot_db, db)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--db", str(db)],
        input="/episodes kubernetes\n2\n", capture_output=True, text=True, timeout=60,
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Quotes 1–3 for kubernetes" in done.stdout
    assert "shared by you" in done.stdout


async def test_shortcut_votes_and_a_bare_mention(bot_db: Path, tmp_path: Path) -> None:
    """The message shortcut on a typed message, Share into its thread, a vote on the shared
    quote (twice: counted once), a bare @bot answering the message above; then the export."""
    shown = await console(bot_db, [
        "shortcut how do I get a job in data?", "1",  # Share the first quote
        "1", "1",  # 👍 on the shared quote, twice
        "feature store", "@bot",  # a message, then a bare mention in its thread
        "quit",
    ])  # fmt: skip
    assert "(⋮ → Find episodes about this, on that message)" in shown
    assert "in the thread, visible to everyone" in shown and "shared by you" in shown
    assert "Noted that this answer was useful" in shown and "already voted" in shown
    async with await Store.open(bot_db) as store:
        votes = await store.fetchall("SELECT user_id, vote, query FROM feedback_votes")
        searches = await store.fetchall("SELECT query, source FROM search_log ORDER BY id")
    assert [(r["user_id"], r["vote"], r["query"]) for r in votes] == [
        ("U0YOU", 1, "how do I get a job in data?")
    ]
    assert [(r["query"], r["source"]) for r in searches] == [
        ("how do I get a job in data?", "shortcut"), ("feature store", "console"),
        ("feature store", "console"),
    ]  # fmt: skip
    out = tmp_path / "votes.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "feedback", "--export", "--output", str(out),
         "--db", str(bot_db)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = out.read_text().splitlines()
    row = json.loads(line)
    assert row["query"] == "how do I get a job in data?" and row["votes"] == {"up": 1, "down": 0}
    assert row["passage"] and row["episode"] and row["second"] >= 0
