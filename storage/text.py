"""Transcript text: removing noise, splitting sentences and words.

``clean`` runs on every segment of every episode at ingest, so it is written to be cheap on the
common case (edited text with nothing to remove): each rewrite runs only when a plain substring
or word check says it could apply.
"""

from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from itertools import islice

# [chuckles], [cross-talk], [Alexey agrees], (laughs), ♪ music ♪ ...
_ANNOTATION = re.compile(
    r"\[[^\[\]]{0,60}\]|\((?:laughs?|laughter|chuckles?|inaudible|crosstalk|cross-talk|music|applause)\)|♪[^♪]{0,60}♪",
    re.I,
)
_FILLER_RUN = re.compile(r"\b(um+|uh+|hmm+|er+|ah+)(?:[\s,.]+\1\b)+", re.I)
_LONE_FILLER = re.compile(r"(?:(?<=^)|(?<=[\s,]))(?:um+|uh+)(?:[,.]|\.\.\.|…)?(?=\s|$)", re.I)
_WORD_REPEAT = re.compile(r"\b(\w+)(?:\s+\1\b){2,}", re.I)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
# "- " (or an en or em dash) or ">>": captions' mark for a change of speaker.
TURN_MARK = r"(?:[-–—]\s+|>>\s*)"
# A leading turn mark (kept in segments, not in quotes).
_TURN = re.compile(rf"^\s*{TURN_MARK}")
# A sentence ends at . ! ? … (maybe closed by quotes or brackets) before a capital or a digit.
_SENTENCE_END = re.compile(r"[.!?…](?P<closers>[\"'”’)]*)\s+(?=[\"'“‘(]*[A-Z0-9])")
# Runs of letters and digits (str.isalnum: "_" is not one).
_ALNUM = re.compile(r"[^\W_]+")
# Cheap checks (on lower-cased text) that say when the rewrites above could apply.
_ANY_FILLER = re.compile(r"(?<![a-z])(?:um+|uh+|hmm+|er+|ah+)(?![a-z])")
_ANY_SPACE_BEFORE_PUNCT = re.compile(r"\s[,.;:!?]")


def _has_repeat(words: list[str]) -> bool:
    return any(map(operator.eq, words, islice(words, 1, None)))


def clean(text: str) -> str:
    """Text fit to quote: annotations, stuttered fillers and speaker-change marks removed,
    whitespace folded.

    >>> clean("So [chuckles] um um I think   Argo [cross-talk] works.")
    'So I think Argo works.'
    >>> clean("- Bye, everyone.")
    'Bye, everyone.'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "[" in text or "(" in text or "♪" in text:
        text = _ANNOTATION.sub(" ", text)
    if text[:1] in " -–—>":
        text = _TURN.sub("", text)
    lowered = text.lower()
    if _ANY_FILLER.search(lowered):
        text = _FILLER_RUN.sub(" ", text)
        text = _LONE_FILLER.sub(" ", text)
        lowered = text.lower()
    if _has_repeat(lowered.split()):
        text = _WORD_REPEAT.sub(r"\1", text)
    text = " ".join(text.split())
    if _ANY_SPACE_BEFORE_PUNCT.search(text):
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text


def starts_turn(text: str) -> bool:
    """Does this caption start with a change of speaker (``- text`` or ``>> text``)?"""
    return bool(text) and text[:1] in " -–—>" and _TURN.match(text) is not None


def sentences(text: str) -> list[str]:
    """Split edited text into sentences (captions without punctuation come back whole).

    Only the spaces between sentences are dropped, so ``" ".join(sentences(t))`` is ``t`` for
    single-spaced text.

    >>> sentences('He said "yes." Then he left. 2 days later.')
    ['He said "yes."', 'Then he left.', '2 days later.']
    """
    parts = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if len(m["closers"]) > 2:
            continue  # as it always has, three closing marks or more end no sentence here
        parts.append(text[pos : m.end("closers")].strip())
        pos = m.end()
    parts.append(text[pos:].strip())
    return [p for p in parts if p]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, for cutting quotes.

    A span ends at the sentence's stop: closing quotes or brackets after it fall between spans.

    >>> sentence_spans('Yes. "We ship." Then')
    [(0, 4), (5, 14), (16, 20)]
    """
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((pos, m.start("closers")))
        pos = m.end()
    spans.append((pos, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _plain_pieces(cased: str) -> list[str]:
    """The runs of letters and digits of ``cased`` with accents taken off."""
    return _ALNUM.findall(unicodedata.normalize("NFKD", cased))


def word_tokens(word: str) -> list[str]:
    """The comparable pieces of a word: case, accents and punctuation gone, split at hyphens.

    Splitting lets "open-source" meet the captions' "open source" and "A/B" meet "a b".

    >>> word_tokens("Open-Source,")
    ['open', 'source']
    """
    return _plain_pieces(word.casefold())


def normalise_word(word: str) -> str:
    """One word as one piece, case, accents and punctuation stripped: ``Open-Source,`` is
    ``opensource``. The alignment yardstick compares whole words in this form."""
    # lower(), not casefold() as word_tokens: they differ on ß and ς, and this stays as it was.
    return "".join(_plain_pieces(word.lower()))


# Its own word pattern, not word_tokens: the key is stored (archive_quotes.text_key).
def passage_key(text: str) -> str:
    """A short key of a passage's words (case, punctuation and spacing aside).

    >>> passage_key("Ship early.") == passage_key("ship  EARLY")
    True
    """
    words = " ".join(re.findall(r"\w+", text.lower()))
    return hashlib.blake2b(words.encode(), digest_size=8).hexdigest()


# C0 and C1 control characters (newline, tab and the escape that starts a terminal sequence
# among them), and the bidirectional overrides that make text display out of order.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control characters gone (whitespace ones become a space): for a title made
    from a file name, which a terminal or Slack must show as the words it is.

    Example:
        >>> printable("ep\\n1\\x1b[31m red")
        'ep 1[31m red'
    """
    spaced = re.sub(r"[\t\n\r\x0b\x0c]+", " ", text)
    return " ".join(_CONTROLS.sub("", spaced).split())


def visible(text: str) -> str:
    """``text`` with each control character shown as its escape (``\\n``, ``\\x1b``), so a
    path printed to a terminal cannot break the line or send it a command.

    Example:
        >>> print(visible("a\\nb\\x1b[2J.vtt"))
        a\\nb\\x1b[2J.vtt
    """
    return _CONTROLS.sub(lambda m: repr(m[0])[1:-1], text)
