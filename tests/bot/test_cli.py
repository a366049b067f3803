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
