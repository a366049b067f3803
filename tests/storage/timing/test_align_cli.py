"""The command line around caption alignment: flags link captions, `episodes --json` says which
timing each episode uses, a wrong link is a clear failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import DEVREL, FORMATS, PODCAST, SEED

URL = "https://www.youtube.com/watch?v=z7BvslwVRbQ"


def episodes_json(db: Path, capsys: pytest.CaptureFixture) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["episodes", "--json", "--db", str(db)]) == 0
    return {e["id"]: e for e in json.loads(capsys.readouterr().out)}


def test_episodes_json_reports_the_timing_source(
    corpus: Path, db_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = str(db_path)
    talk_python = FORMATS / "timestamped-txt" / "000_tptm_introducing_the_show.txt"
    other = PODCAST / "ab-testing-and-product-experimentation.md"
    for path in (DEVREL, other, talk_python):
        assert main(["ingest", str(path), "--db", db]) == 0
    before = episodes_json(db_path, capsys)
    assert before["devrel-open-source-machine-learning"]["timing"] == "interpolated"

    assert main(["ingest", str(SEED), "--url", URL, "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "1 caption files aligned to episodes" in out
    assert "captions of devrel-open-source-machine-learning" in err and "re-timed" in err

    after = episodes_json(db_path, capsys)
    assert {i: e["timing"] for i, e in after.items()} == {
        "devrel-open-source-machine-learning": "captions-aligned",
        "ab-testing-and-product-experimentation": "interpolated",
        "000-tptm-introducing-the-show": "as-given",
    }
    assert (
        after["devrel-open-source-machine-learning"]["passages"]
        == (before["devrel-open-source-machine-learning"]["passages"])
    )


def test_captions_given_the_wrong_episode_id_fail_clearly(
    corpus: Path, db_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = str(db_path)
    other = PODCAST / "ab-testing-and-product-experimentation.md"
    assert main(["ingest", str(other), "--db", db, "-q"]) == 0
    capsys.readouterr()
    code = main(
        ["ingest", str(SEED), "--episode-id", "ab-testing-and-product-experimentation", "--db", db]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"{SEED}: these captions do not match episode ab-testing")
    assert "Traceback" not in err and "1 files failed" in out
    episodes = episodes_json(db_path, capsys)
    assert {i: e["timing"] for i, e in episodes.items()} == {
        "ab-testing-and-product-experimentation": "interpolated"
    }
