"""The README keeps up with the code: every command, option, setting and search filter is in it.

Each list is read from the code (the argparse parser, ``bot/config.py``, ``QUERY_SYNTAX``), so a
new option, setting or filter fails here, by name, until it is documented. The way
datasette's tests/test_docs.py and sqlite-utils' help tests keep their docs honest.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from bot.cli import build_parser
from storage.search import QUERY_SYNTAX

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"
CONFIG = ROOT / "bot" / "config.py"

README_TEXT = README.read_text(encoding="utf-8")
ENV_EXAMPLE_TEXT = ENV_EXAMPLE.read_text(encoding="utf-8")


# --- The command line -----------------------------------------------------------------------


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _command_helps() -> dict[str, str | None]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action.help for action in sub._choices_actions}


def _option_names(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    """Each option by the name to look for: its long form if it has one (``-q`` is ``--quiet``)."""
    names = []
    for action in parser._actions:
        strings = [s for s in action.option_strings if s not in ("-h", "--help")]
        if strings:
            longs = [s for s in strings if s.startswith("--")]
            names.append(longs[0] if longs else strings[0])
    return tuple(names)


COMMANDS = _subcommands()
_OPTIONS = {name: _option_names(p) for name, p in COMMANDS.items()}
# An option every command takes (``--db``) may be documented once, for all of them.
SHARED_OPTIONS = set.intersection(*(set(o) for o in _OPTIONS.values())) if _OPTIONS else set()
COMMAND_OPTIONS = [
    (command, option)
    for command, options in _OPTIONS.items()
    for option in options
    if option not in SHARED_OPTIONS
]


def _paragraphs(text: str) -> list[str]:
    """README blocks separated by blank lines: a paragraph, a list item, a table, a code block."""
    return [block for block in re.split(r"\n\s*\n", text) if block.strip()]


def _mentions_command(block: str, command: str) -> bool:
    return re.search(rf"\bbot {re.escape(command)}\b", block) is not None


def _mentions_option(block: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", block) is not None


def test_cli_discovery_found_commands_and_options() -> None:
    assert COMMANDS, "build_parser() has no subcommands: did the CLI stop using add_subparsers?"
    assert COMMAND_OPTIONS, "no subcommand has an option: is _option_names() still reading them?"


def test_every_command_has_help_text() -> None:
    helps = _command_helps()
    assert set(helps) == set(COMMANDS), "a subcommand was added without help= in build_parser()"
    missing = sorted(name for name, text in helps.items() if not (text or "").strip())
    assert not missing, f"give these commands a help= text in bot/cli.py build_parser(): {missing}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_is_documented(command: str) -> None:
    assert _mentions_command(README_TEXT, command), (
        f"`python -m bot {command}` is not in README.md: add it to the 'Command reference' table "
        "(and where it belongs in the text)"
    )


@pytest.mark.parametrize(
    ("command", "option"), COMMAND_OPTIONS, ids=[" ".join(c) for c in COMMAND_OPTIONS]
)
def test_command_option_is_documented(command: str, option: str) -> None:
    # The option must sit in a paragraph (or table row, or code block) that names its command,
    # so `--json` documented for `search` does not count for `episodes`.
    documented = any(
        _mentions_command(block, command) and _mentions_option(block, option)
        for block in _paragraphs(README_TEXT)
    )
    assert documented, (
        f"`python -m bot {command} {option}` is not documented: README.md has no paragraph or "
        f"table row naming both `bot {command}` and `{option}`; add {option} to the "
        f"`python -m bot {command}` row of the 'Command reference' table"
    )


@pytest.mark.parametrize("option", sorted(SHARED_OPTIONS))
def test_shared_option_is_documented(option: str) -> None:
    assert _mentions_option(README_TEXT, option), (
        f"{option}, which every `python -m bot` command takes, is not in README.md: say what it "
        "does above the 'Command reference' table"
    )


# --- Settings ---------------------------------------------------------------------------------


def _settings_read_in(source: str) -> list[str]:
    """The environment variables a module (``bot/config.py``) reads, found in its source.

    A reader is ``os.environ.get``/``os.getenv``/``os.environ[...]``, or any function defined in
    the module that touches ``os.environ`` (``get``, ``_int``, ``_bool``, ``_channel``...), so a
    new helper is picked up too. A setting is a string literal (UPPER_CASE) passed to a reader.
    """
    tree = ast.parse(source)

    def touches_environ(node: ast.AST) -> bool:
        return any(
            isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv") for n in ast.walk(node)
        )

    readers = {"get", "getenv"} | {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and touches_environ(node)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        arg: ast.AST | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if callee in readers:
                arg = node.args[0]
        elif isinstance(node, ast.Subscript) and touches_environ(node.value):
            arg = node.slice
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if re.fullmatch(r"[A-Z][A-Z0-9_]*", arg.value):
                names.add(arg.value)
    return sorted(names)


SETTINGS = _settings_read_in(CONFIG.read_text(encoding="utf-8"))


def test_settings_discovery_found_settings() -> None:
    assert SETTINGS, f"found no environment variable read in {CONFIG.relative_to(ROOT)}"


def test_settings_discovery_catches_new_readers() -> None:
    # A setting read through a helper nobody has written yet is still found; other strings not.
    source = """
import os
def _float(name, default):
    return float(os.environ.get(name) or default)
def load():
    return _float("NEW_RATE", 1.0), os.getenv("RAW"), os.environ["ITEM"], print("NOT_ONE")
"""
    assert _settings_read_in(source) == ["ITEM", "NEW_RATE", "RAW"]


@pytest.mark.parametrize("name", SETTINGS)
def test_setting_is_in_readme(name: str) -> None:
    assert re.search(rf"(?<![\w]){name}(?![\w])", README_TEXT), (
        f"setting {name} (read in bot/config.py) is not in README.md: add it to the 'Settings' "
        "table with its default and what it does"
    )


@pytest.mark.parametrize("name", SETTINGS)
def test_setting_is_in_env_example(name: str) -> None:
    assert re.search(rf"(?m)^#?\s*{name}=", ENV_EXAMPLE_TEXT), (
        f"setting {name} (read in bot/config.py) is not in .env.example: add a commented "
        f"'# {name}=<default>' line, with a comment saying what it does, in its section"
    )


# --- The query language --------------------------------------------------------------------


FILTER_NAMES = [
    (row.filter, name) for row in QUERY_SYNTAX if row.filter for name in (row.filter, *row.aliases)
]


def test_query_discovery_found_filters() -> None:
    assert FILTER_NAMES, "storage.search.QUERY_SYNTAX has no filters"


@pytest.mark.parametrize(("filter", "name"), FILTER_NAMES)
def test_query_filter_is_documented(filter: str, name: str) -> None:
    # In inline code, as typed: `guest:hugo`. (A bare "title:" in a YAML example does not count.)
    assert re.search(rf"`{re.escape(name)}:", README_TEXT), (
        f"search filter {name}: is not in README.md: add `{name}:…` to the query table in "
        f"'Search'" + (f" (it is another name for {filter}:)" if name != filter else "")
    )
