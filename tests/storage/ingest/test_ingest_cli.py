"""``python -m bot ingest`` and ``episodes`` as a user runs them: exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:06.000\n<v Ana Lima>Our feature store keeps features fresh."
    "\n\n00:00:06.000 --> 00:00:09.000\n<v Ana Lima>Training and serving read the same values.\n"
)


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_ingest_reports_failures_and_exits_1(tmp_path: Path) -> None:
    show = tmp_path / "show"
    show.mkdir()
    (show / "ep1.vtt").write_text(VTT)
    (show / "ep1.yaml").write_text("title: Feature stores\nurl: https://example.com/ep1.mp3\n")
    (show / "ep2.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000\n")
    (show / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    db = tmp_path / "e.db"
    run = bot("ingest", "--db", str(db), str(show), cwd=tmp_path)
    assert run.returncode == 1
    assert (
        f"{show / 'ep2.srt'}:6: expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm', found '00:00:03,000'"
        in run.stderr.splitlines()
    )
    assert f"{show / 'cover.jpg'}: not a transcript (.jpg)" in run.stderr
    assert "Traceback" not in run.stderr
    summary = run.stdout.strip()
    assert summary.startswith("1 episodes ingested, 1 passages, 0.0 h of audio, ")
    assert summary.endswith("2 skipped, 1 files failed")

    again = bot("ingest", "--db", str(db), str(show / "ep1.vtt"), cwd=tmp_path)
    assert again.returncode == 0
    assert f"{show / 'ep1.vtt'}: unchanged since it was ingested" in again.stderr
    assert "0 episodes ingested" in again.stdout and "1 unchanged, 0 files failed" in again.stdout

    listing = bot("episodes", "--db", str(db), "--json", cwd=tmp_path)
    assert listing.returncode == 0
    [episode] = json.loads(listing.stdout)
    assert {k: episode[k] for k in ("id", "title", "guests", "date", "link", "passages")} == {
        "id": "ep1",
        "title": "Feature stores",
        "guests": [],
        "date": None,
        "link": "https://example.com/ep1.mp3#t=0",
        "passages": 1,
    }
    assert episode["duration"] == 9.0
    text = bot("episodes", "--db", str(db), cwd=tmp_path)
    assert text.stdout.startswith("----------  ep1  Feature stores  [0:09, 1 passages]")


def test_bad_flags_exit_2_before_writing(tmp_path: Path) -> None:
    (tmp_path / "ep.vtt").write_text(VTT)
    db = tmp_path / "e.db"
    run = bot(
        "ingest", "--db", str(db), "--date", "2024-13-01", str(tmp_path / "ep.vtt"), cwd=tmp_path
    )
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "error: --date '2024-13-01' is not a date; write it as YYYY-MM-DD (for example 2024-03-12)"
    )
    assert not db.exists()
    (tmp_path / "ep2.vtt").write_text(VTT)
    many = bot("ingest", "--db", str(db), "--title", "One", str(tmp_path), cwd=tmp_path)
    assert many.returncode == 2 and "describe one episode" in many.stderr


def test_flags_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "ep.vtt").write_text(VTT)
    db = tmp_path / "e.db"
    run = bot(
        "ingest", "--db", str(db), "--title", "Feature stores with Ana",
        "--url", "https://youtu.be/AbCdEfGhIjK", "--guest", "Ana Lima", "--date", "2024-05-02",
        "--episode-id", "fs-ana", str(tmp_path / "ep.vtt"), str(tmp_path / "nope.srt"),
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 1
    assert f"{tmp_path / 'nope.srt'}: no such file or folder" in run.stderr
    listing = json.loads(bot("episodes", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(e["id"], e["title"], e["guests"], e["date"], e["link"]) for e in listing] == [
        (
            "fs-ana",
            "Feature stores with Ana",
            ["Ana Lima"],
            "2024-05-02",
            "https://www.youtube.com/watch?v=AbCdEfGhIjK&t=0s",
        )
    ]


def test_an_impossible_sidecar_date_is_that_files_error(tmp_path: Path) -> None:
    (tmp_path / "a.vtt").write_text(VTT)
    (tmp_path / "a.yaml").write_text("title: A\ndate: 2024-02-30\n")
    (tmp_path / "b.vtt").write_text(VTT)
    db = tmp_path / "e.db"
    run = bot("ingest", "--db", str(db), str(tmp_path), cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{tmp_path / 'a.yaml'}:2: '2024-02-30' is not a real date" in run.stderr
    assert run.stdout.startswith("1 episodes ingested")


def test_a_bad_or_missing_database_is_one_clear_line(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "nested" / "x.db"
    for command in (["search", "argo"], ["episodes"], ["console"], ["digest", "--preview"]):
        run = bot(*command, "--db", str(typo), cwd=tmp_path)
        assert run.returncode == 2, command
        assert run.stderr == (
            f"error: no database at {typo}; ingest episodes first: "
            f"python -m bot ingest PATH --db {typo}\n"
        )
    assert not (tmp_path / "typo").exists()
    (tmp_path / "notes.txt").write_text("a file")
    for db in (tmp_path / "notes.txt" / "x.db", tmp_path):
        run = bot("ingest", "--db", str(db), str(tmp_path), cwd=tmp_path)
        assert run.returncode == 2 and run.stderr.startswith("error: "), run.stderr
        assert len(run.stderr.splitlines()) == 1, run.stderr  # no traceback after it


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "talk.vtt"
    os.mkfifo(fifo)
    (tmp_path / "b.vtt").write_text(VTT)
    run = bot("ingest", "--db", str(tmp_path / "e.db"), str(fifo), str(tmp_path / "b.vtt"),
              cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1
    assert f"{fifo}: this is a pipe (FIFO), not a transcript file" in run.stderr
    assert run.stdout.startswith("1 episodes ingested")
