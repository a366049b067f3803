"""Transcript text: removing noise, splitting sentences and words."""

from __future__ import annotations

import re
import unicodedata

# [chuckles], [cross-talk], [Alexey agrees], (laughs), ♪ music ♪ ...
_ANNOTATION = re.compile(
    r"\[[^\[\]]{0,60}\]|\((?:laughs?|laughter|chuckles?|inaudible|crosstalk|cross-talk|music|applause)\)|♪[^♪]{0,60}♪",
    re.I,
)
_FILLER_RUN = re.compile(r"\b(um+|uh+|hmm+|er+|ah+)(?:[\s,.]+\1\b)+", re.I)
_LONE_FILLER = re.compile(r"(?:(?<=^)|(?<=[\s,]))(?:um+|uh+)[,.]?(?=\s|$)", re.I)
_WORD_REPEAT = re.compile(r"\b(\w+)(?:\s+\1\b){2,}", re.I)
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]*[A-Z0-9])")
_WORD = re.compile(r"[\w][\w'’.+#-]*", re.UNICODE)


def clean(text: str) -> str:
    """Text fit to quote: annotations and stuttered fillers removed, whitespace folded.

    >>> clean("So [chuckles] um um I think   Argo [cross-talk] works.")
    'So I think Argo works.'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if "[" in text or "(" in text or "♪" in text:
        text = _ANNOTATION.sub(" ", text)
    lowered = text.lower()
    if "um" in lowered or "uh" in lowered or "hm" in lowered or "er" in lowered or "ah" in lowered:
        text = _FILLER_RUN.sub(" ", text)
        text = _LONE_FILLER.sub(" ", text)
    text = _WORD_REPEAT.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text


def sentences(text: str) -> list[str]:
    """Split edited text into sentences (captions without punctuation come back whole)."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


def words(text: str) -> list[str]:
    """The words of ``text`` as the alignment and timing code counts them."""
    return text.split()


def normalise_word(word: str) -> str:
    """Lower case, accents and punctuation stripped: the form words are compared in."""
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if ch.isalnum())


def fold(text: str) -> str:
    """Single-line, single-spaced text."""
    return _SPACES.sub(" ", text).strip()
