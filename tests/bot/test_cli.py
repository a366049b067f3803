"""The command line's own help: every command has one, and a bare call lists them."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import build_parser, main


def test_every_command_has_help_text() -> None:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert set(helps) == set(sub.choices)
    assert all(text and len(text) > 10 for text in helps.values()), helps


def test_bare_call_lists_the_commands(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    for command in ("ingest", "search", "serve", "console", "digest"):
        assert f"    {command} " in err


def test_output_piped_into_head_ends_quietly(corpus_db) -> None:  # noqa: ANN001
    """``python -m bot search ... | head -1``: the reader leaves early; no traceback."""
    import fcntl
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    # A one-page pipe, so the search's output cannot all fit before head is gone.
    fcntl.fcntl(write_end, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    reader = subprocess.Popen(["head", "-c", "10"], stdin=read_end, stdout=subprocess.PIPE)
    os.close(read_end)
    writer = subprocess.run(
        [sys.executable, "-m", "bot", "search", "data", "--limit", "50", "--json",
         "--db", str(corpus_db)],
        stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    os.close(write_end)
    first = reader.stdout.read().decode()
    reader.wait(timeout=10)
    assert first.strip(), "head got nothing: the search printed nothing"
    assert "Traceback" not in writer.stderr and "BrokenPipe" not in writer.stderr, writer.stderr
    assert writer.returncode == 0


def test_words_typed_after_an_option_still_belong_to_the_command(
    corpus_db, tmp_path, capsys: pytest.CaptureFixture
) -> None:  # noqa: ANN001
    import json
    import shutil

    db = tmp_path / "copy.db"
    shutil.copy(corpus_db, db)
    assert main(["search", "--db", str(db), "--json", "--limit", "2", "kubernetes operators"]) == 0
    together = capsys.readouterr().out
    assert (
        main(["search", "--db", str(db), "kubernetes", "--limit", "2", "operators", "--json"]) == 0
    )
    assert capsys.readouterr().out == together and '"episode_id"' in together

    stored = main(["episodes", "--db", str(db), "--json"])
    ids = [e["id"] for e in json.loads(capsys.readouterr().out)]
    assert stored == 0 and len(ids) >= 2
    assert main(["episodes", "remove", "--yes", ids[0], "--db", str(db), ids[1]]) == 0
    assert f"removed 2 episodes from {db}" in capsys.readouterr().out
    # An unknown option is still refused, naming it.
    with pytest.raises(SystemExit) as refused:
        main(["search", "--db", str(db), "kubernetes", "--limt", "2"])
    assert refused.value.code == 2 and "--limt" in capsys.readouterr().err
