"""YAML metadata (front matter, sidecars): loading it so every mistake names its line, and
the episode id rule it shares with ``--episode-id``.

PyYAML reports bad syntax as ``yaml.YAMLError`` but an impossible value it converts itself
(``date: 2024-02-30``) as a bare ``ValueError`` with no line; both become a :class:`ParseError`
here, so one bad file is one ``FILE:LINE: what is wrong`` and the other files still go in.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from storage.ingest.formats.base import NestingError, ParseError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values an alias (``*name``) may repeat in one document, in all. Anchors and aliases are fine
# for sharing a list or two; a "billion laughs" file nests aliases of aliases so that a few
# hundred bytes stand for billions of values, which any use of the value (``str(title)``) would
# expand into gigabytes. Counting stops at this bound, so the check costs little either way.
MAX_ALIAS_EXPANSION = 10_000
# Ids travel in Slack button values (at most 2,000 characters) and in links: short and plain.
_EPISODE_ID = re.compile(r"[\w][\w.-]{0,199}")


def check_episode_id(value: Any, label: str, line: int | None = None) -> str:
    """An episode id of letters, digits, '-', '_' and '.' (at most 200), or a ParseError.

    Example:
        >>> check_episode_id(" ep-42 ", "--episode-id")
        'ep-42'
    """
    text = str(value).strip()
    if not _EPISODE_ID.fullmatch(text):
        shown = repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text)} characters)"
        raise ParseError(
            f"{label} {shown}: use letters, digits, '-', '_' or '.', at most 200 characters "
            "(like 'ep-42-feature-stores')",
            line,
        )
    return text


class _ValueProblem(ConstructorError):
    """Valid syntax, impossible value (a date that does not exist): no syntax hint applies."""


class _AliasBomb(_ValueProblem):
    """Aliases that repeat more values than any metadata needs."""


class YamlLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader, with impossible dates raised as YAML errors at their line, and
    documents whose aliases repeat more than :data:`MAX_ALIAS_EXPANSION` values refused before
    anything is built from them."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        return self.construct_document(node)


def _check_aliases(root: yaml.Node) -> None:
    """Walk the node graph as a reader of the data would, without building it: every node
    reached again through an alias counts; past the bound (or around a cycle) it is refused."""
    seen: set[int] = set()
    repeats = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            repeats += 1
            if repeats > MAX_ALIAS_EXPANSION:
                raise _AliasBomb(
                    None,
                    None,
                    f"YAML aliases (*name) here repeat more than {MAX_ALIAS_EXPANSION:,} "
                    "values (a 'billion laughs' file?); write the values out instead",
                    node.start_mark,
                )
        else:
            seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)


def _timestamp(loader: SafeConstructor, node: yaml.Node) -> Any:
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise _ValueProblem(
            None,
            None,
            f"{node.value!r} is not a real date ({exc}); write it as YYYY-MM-DD",
            node.start_mark,
        ) from None


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_yaml(
    text: str,
    *,
    loader: type = YamlLoader,
    first_line: int = 1,
    what: str = "YAML",
    hint: str = "fix the YAML syntax",
) -> Any:
    """Parse ``text`` with a safe ``loader`` (a :class:`YamlLoader` subclass); ParseError if bad.

    ``first_line`` is the file line ``text`` starts on (front matter starts below ``---``).

    Example:
        >>> load_yaml("date: 2024-02-30\\n")
        Traceback (most recent call last):
        storage.ingest.formats.ParseError: '2024-02-30' is not a real date (day is out of range for month); write it as YYYY-MM-DD
    """  # noqa: E501
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if isinstance(exc, _AliasBomb):
            raise NestingError(problem, line) from None
        if "nesting depth" in problem:  # libyaml's own bound (1,000 levels)
            raise NestingError(f"invalid {what}: nested too deeply to be metadata", line) from None
        if isinstance(exc, _ValueProblem):
            raise ParseError(problem, line) from None
        raise ParseError(f"invalid {what}: {problem}; {hint}", line) from None
    except ValueError as exc:  # another value PyYAML could not convert; it gives no line
        raise ParseError(f"invalid {what}: {exc}", None) from None
    except RecursionError:
        raise NestingError(f"invalid {what}: nested too deeply to be metadata", None) from None
