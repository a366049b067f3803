"""Issue #10's smaller cases of "one bad file fails alone": a full disk, workers of a killed
ingest, file names with control characters, pipes and broken links inside a folder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Store
from tests.conftest import PODCAST, ROOT, corpus_files, need_corpus
from tests.storage.ingest.poison import GOOD_VTT
from tests.storage.ingest.processes import alive, children
from tests.storage.ingest.test_ingest_cli import bot

DISK_FULL = "the disk is full: {} files were stored, the rest were not; free space and run again"


def test_a_full_disk_stops_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """SQLite itself answers SQLITE_FULL ("database or disk is full") once the file reaches
    ``max_page_count``: the same error a full disk gives, without needing one."""
    need_corpus()
    files = corpus_files(PODCAST)[:12]
    show = tmp_path / "show"
    show.mkdir()
    for f in files:
        (show / f.name).write_bytes(f.read_bytes())
    real_open = Store.open.__func__

    async def tight_open(cls, path, **kwargs):  # noqa: ANN001, ANN202
        store = await real_open(cls, path, **kwargs)
        pages = (await store.fetchone("PRAGMA page_count"))[0]
        await store.conn.execute(f"PRAGMA max_page_count = {pages + 150}")
        return store

    monkeypatch.setattr(Store, "open", classmethod(tight_open))
    db = tmp_path / "e.db"
    code = main(["ingest", "--db", str(db), str(show)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        stored = [r[0] for r in conn.execute("SELECT id FROM episodes")]
        whole = conn.execute(
            "SELECT count(*) FROM episodes e WHERE EXISTS (SELECT 1 FROM passages p WHERE "
            "p.episode_id = e.id) AND EXISTS (SELECT 1 FROM episode_segments s WHERE "
            "s.episode_id = e.id)"
        ).fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert 0 < len(stored) < len(files)
    assert whole == len(stored)  # no half-written episode
    assert err.splitlines() == [DISK_FULL.format(len(stored))]
    summary = out.strip().splitlines()[-1]
    assert summary.startswith(f"{len(stored)} episodes ingested, ")
    assert summary.endswith("0 files failed, stopped early (the disk is full)")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_workers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    need_corpus()
    script = (
        "import asyncio, sys\nfrom pathlib import Path\nfrom storage.db import Store\n"
        "from storage.ingest import ingest_paths\n"
        "async def run():\n"
        "    async with await Store.open(sys.argv[1]) as store:\n"
        "        await ingest_paths(store, [Path(sys.argv[2])], workers=2)\n"
        "asyncio.run(run())\n"
    )
    ingest = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "e.db"), str(PODCAST)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and ingest.poll() is None:
            workers = children(ingest.pid)
            time.sleep(0.02)
        assert len(workers) == 2, "the ingest never started its two workers"
        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if alive(w)], "workers outlived their killed ingest"
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(10)
        for w in workers:  # left by a failure above: never leave them running
            if alive(w):
                os.kill(w, signal.SIGKILL)


def test_control_characters_in_file_names_never_reach_the_terminal(tmp_path: Path) -> None:
    show = tmp_path / "show"
    show.mkdir()
    (show / "ep\n1\x1b[2J.vtt").write_text(GOOD_VTT)
    (show / "bad\x1b]0;owned\x07.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n")
    db = tmp_path / "e.db"
    run = bot("ingest", "--db", str(db), str(show), cwd=tmp_path)
    assert run.returncode == 1
    shown = run.stdout + run.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert f"{show}/bad\\x1b]0;owned\\x07.srt:" in run.stderr
    listing = bot("episodes", "--db", str(db), "--json", cwd=tmp_path)
    [episode] = json.loads(listing.stdout)
    assert episode["title"] == "ep 1[2J"
    assert "\x1b" not in bot("episodes", "--db", str(db), cwd=tmp_path).stdout


def test_pipes_and_broken_links_in_a_folder_are_reported_as_skipped(tmp_path: Path) -> None:
    show = tmp_path / "show"
    show.mkdir()
    (show / "good.vtt").write_text(GOOD_VTT)
    os.mkfifo(show / "live.vtt")
    (show / "gone.srt").symlink_to(tmp_path / "nowhere.srt")
    db = tmp_path / "e.db"
    run = bot("ingest", "--verbose", "--db", str(db), str(show), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert f"{show / 'live.vtt'}: a pipe (FIFO), not a file" in lines
    assert (
        f"{show / 'gone.srt'}: a broken symbolic link (to {tmp_path / 'nowhere.srt'}, which "
        "cannot be opened)" in lines
    )
    assert run.stdout.strip().startswith("1 episodes ingested, ")
    assert run.stdout.strip().endswith("2 skipped, 0 files failed")
