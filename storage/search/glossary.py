"""The glossary: canonical terms, what else they are called, and how captions mis-hear them.

Search uses it in both directions: a query for ``scikit-learn`` also finds captions that say
"psychic learn", and a query for "psychic learn" finds passages that say scikit-learn. The
built-in entries (``storage/glossary.yaml``) cover common data and ML tools; a community file
(``GLOSSARY_PATH``) in the same format adds entries or extends built-in ones, no code needed::

    - term: Metaflow                 # the canonical spelling (required)
      heard_as: [meta flow, metaphor]   # what speech recognition writes instead
      also: [outerbounds metaflow]      # other names or spellings that mean the same
      context: [netflix, outerbounds]   # words that show a one-word mis-hearing means the term

A one-word mis-hearing that is also an everyday word ("metaphor", "carrot", "task") counts
only in a passage that also has a ``context`` word, so a common word cannot flood the
results for a rare term.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from storage.search.query import tokens

log = logging.getLogger(__name__)

BUILTIN_PATH = Path(__file__).with_name("glossary.yaml")
_KEYS = ("term", "heard_as", "also", "context")
# libyaml's parser when PyYAML has it: the built-in glossary parses in a few milliseconds
# instead of ~30, which a one-off `python -m bot search` pays on every run.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class GlossaryError(Exception):
    """A glossary file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    heard_as: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    context: tuple[str, ...] = ()

    def forms(self) -> list[tuple[str, str]]:
        """Every way of writing the term as (kind, text): kind is term, also or heard."""
        out = [("term", self.term)]
        out += [("also", a) for a in self.also]
        out += [("heard", h) for h in self.heard_as]
        return out


@dataclass(frozen=True)
class Glossary:
    entries: tuple[GlossaryEntry, ...] = ()
    # Token sequence of every form -> the entries that have it; built once.
    index: dict[tuple[str, ...], list[GlossaryEntry]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", _index(self.entries))

    def merged(self, other: Glossary) -> Glossary:
        """This glossary extended by ``other``: same terms are united, new terms appended."""
        by_key: dict[tuple[str, ...], GlossaryEntry] = {}
        order: list[tuple[str, ...]] = []
        for entry in (*self.entries, *other.entries):
            key = tuple(tokens(entry.term))
            old = by_key.get(key)
            if old is None:
                by_key[key] = entry
                order.append(key)
            else:
                by_key[key] = GlossaryEntry(
                    old.term,
                    _union(old.heard_as, entry.heard_as),
                    _union(old.also, entry.also),
                    _union(old.context, entry.context),
                )
        return Glossary(tuple(by_key[k] for k in order))

    def __len__(self) -> int:
        return len(self.entries)


def _index(entries: tuple[GlossaryEntry, ...]) -> dict[tuple[str, ...], list[GlossaryEntry]]:
    out: dict[tuple[str, ...], list[GlossaryEntry]] = {}
    for entry in entries:
        for _, form in entry.forms():
            key = tuple(tokens(form))
            if key and entry not in out.setdefault(key, []):
                out[key].append(entry)
    return out


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    seen = {tuple(tokens(x)) for x in a}
    return a + tuple(x for x in b if tuple(tokens(x)) not in seen)


def _strings(node: yaml.Node, where: str, key: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        items = [node]
    elif isinstance(node, yaml.SequenceNode):
        items = node.value
    else:
        raise GlossaryError(f"{where}:{node.start_mark.line + 1}: '{key}' must be a list of words")
    out = []
    for item in items:
        if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
            raise GlossaryError(
                f"{where}:{item.start_mark.line + 1}: '{key}' must be a list of words"
            )
        if not tokens(str(item.value)):
            raise GlossaryError(
                f"{where}:{item.start_mark.line + 1}: '{item.value}' in '{key}' has no "
                "letters or digits to match"
            )
        out.append(str(item.value).strip())
    return tuple(out)


def parse_glossary(text: str, where: str = "glossary") -> Glossary:
    """A glossary from YAML text; raises :class:`GlossaryError` naming the line at fault.

    >>> g = parse_glossary("- term: Jupyter\\n  heard_as: [jupiter notebook]\\n")
    >>> g.entries[0].heard_as
    ('jupiter notebook',)
    """
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GlossaryError(f"{where}{line}: not valid YAML ({problem})") from None
    if root is None:
        return Glossary()
    if not isinstance(root, yaml.SequenceNode):
        raise GlossaryError(
            f"{where}:{root.start_mark.line + 1}: expected a list of entries, each starting "
            "with '- term: ...'"
        )
    entries = []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise GlossaryError(f"{where}:{line}: each entry must look like '- term: Metaflow'")
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in item.value:
            key = str(key_node.value)
            if key not in _KEYS:
                raise GlossaryError(
                    f"{where}:{key_node.start_mark.line + 1}: unknown key '{key}' "
                    f"(an entry has {', '.join(_KEYS)})"
                )
            fields[key] = value_node
        term_node = fields.get("term")
        if not isinstance(term_node, yaml.ScalarNode) or not str(term_node.value).strip():
            raise GlossaryError(f"{where}:{line}: entry has no 'term' (the canonical spelling)")
        term = str(term_node.value).strip()
        if not tokens(term):
            raise GlossaryError(f"{where}:{line}: term '{term}' has no letters or digits")
        entries.append(
            GlossaryEntry(
                term,
                *(_strings(fields[k], where, k) if k in fields else () for k in _KEYS[1:]),
            )
        )
    return Glossary(tuple(entries))


def load_glossary(path: str | Path) -> Glossary:
    """Read a glossary file; raises :class:`GlossaryError` (file, line, what to fix)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GlossaryError(f"{path}: cannot read the glossary ({exc.strerror or exc})") from None
    return parse_glossary(text, str(path))


@cache
def builtin_glossary() -> Glossary:
    return load_glossary(BUILTIN_PATH)


_community: dict[tuple[str, float], Glossary] = {}
_warned: set[tuple[str, float]] = set()


def active_glossary(path: str | Path | None = None) -> Glossary:
    """Built-in entries plus the community file (``path``, default ``GLOSSARY_PATH``).

    The file is re-read when it changes, so admins can edit it while the bot runs. A broken
    file is logged once and left out (search keeps working with the built-in entries); run
    ``python -m bot glossary`` to see what is wrong with it.
    """
    path = path if path is not None else os.environ.get("GLOSSARY_PATH", "").strip()
    if not path:
        return builtin_glossary()
    try:
        key = (str(path), os.stat(path).st_mtime)
    except OSError:
        key = (str(path), -1.0)
    if key in _community:
        return _community[key]
    try:
        merged = builtin_glossary().merged(load_glossary(path))
    except GlossaryError as exc:
        if key not in _warned:
            _warned.add(key)
            log.warning("glossary left out: %s", exc)
        return builtin_glossary()
    _community.clear()
    _community[key] = merged
    return merged
