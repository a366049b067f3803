"""Issue #10: every bad file fails alone. A folder of poisoned files beside good ones, ingested
as an operator would (``python -m bot ingest``): the good ones are stored, each bad one is named
with its reason, the run ends with its summary and exits 1, no traceback."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.storage.ingest.poison import build
from tests.storage.ingest.test_ingest_cli import bot


def test_poisoned_folder_fails_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    expected = build(folder)
    db = tmp_path / "e.db"
    run = bot("ingest", "--db", str(db), str(folder), cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 1, run.stderr
    lines = run.stderr.splitlines()
    for name, reason in expected["bad"].items():
        path = str(folder / name)
        [line] = [ln for ln in lines if ln.startswith(f"{path}:")]
        assert reason in line, line
    assert re.fullmatch(
        rf"{len(expected['good'])} episodes ingested, .* {len(expected['bad'])} files failed",
        run.stdout.strip().splitlines()[-1],
    ), run.stdout
    listing = bot("episodes", "--db", str(db), "--json", cwd=tmp_path)
    stored = {e["id"] for e in json.loads(listing.stdout)}
    assert stored == set(expected["good"].values())
    with sqlite3.connect(db) as conn:  # nothing of a failed file was written
        owners = {r[0] for r in conn.execute("SELECT DISTINCT episode_id FROM passages")}
        owners |= {r[0] for r in conn.execute("SELECT DISTINCT episode_id FROM chapters")}
    assert owners <= stored
