"""Small talk and the host's own questions: findable, but below answers for a topic query.

A vague question ("how do I get a job in data?") matches the host asking it as well as the
guest answering it, and "thank you so much for having me" matches any query naming the guest.
:func:`smalltalk_weight` is the factor the scorer multiplies a passage's score by: 1.0 for an
answer, less for a greeting, a thank-you, a sign-off or a question the host asks. A query with
a quoted phrase is taken to quote the passage itself, so nothing is demoted then.
"""

from __future__ import annotations

import re

from storage.search.index import SearchCache
from storage.search.plan import Plan, Role

# A passage that is mostly one of these, said in its first few words, is small talk.
PLEASANTRY = re.compile(
    r"^\W*(?:(?:well|yeah|yes|okay|ok|so|and|oh|great|cool|sure)[\s,.!]+)*"
    r"(?:thanks?(?:\s+you)?\b|thank\s+you|welcome\b|hi\b|hello\b|hey\b|good\s+(?:morning|"
    r"afternoon|evening)|nice\s+to\s+(?:meet|see|have)|(?:it'?s|it\s+was|it\s+is)\s+(?:a|my)"
    r"\s+(?:pleasure|great|honou?r)|(?:my|the)\s+pleasure|glad\s+to\s+be|happy\s+to\s+be|"
    r"great\s+to\s+(?:be|have)|see\s+you|bye\b|goodbye|take\s+care|have\s+a\s+(?:good|great|"
    r"nice)|you'?re\s+welcome|cheers\b|where\s+can\s+people\s+find\s+you|"
    r"this\s+week,?\s+we(?:'ll|\s+will)\s+talk|"
    r"(?:this|today)\s+(?:is|we)\b.{0,40}\b(?:podcast|session|episode|guest))",
    re.IGNORECASE,
)
# Longer than this, a passage that opens politely goes on to say something.
PLEASANTRY_WORDS = 45
PLEASANTRY_WEIGHT = 0.35
HOST_QUESTION_WEIGHT = 0.55
# A speaker heard in at least this share of the episodes (and at least HOST_MIN_EPISODES),
# who is not the episode's guest, is taken to be the host.
HOST_SHARE = 0.1
HOST_MIN_EPISODES = 3


def is_pleasantry(text: str) -> bool:
    """A greeting, a thank-you, a sign-off: short, and at least half its sentences are such
    ("Okay, thanks. Would you recommend a portfolio?" is a question, not small talk)."""
    if len(text.split()) > PLEASANTRY_WORDS:
        return False
    said = [s for s in re.split(r"(?<=[.!?…])\s+", text.strip()) if s.strip()]
    polite = sum(1 for s in said if PLEASANTRY.match(s))
    return polite > 0 and polite * 2 >= len(said)


def is_question(text: str) -> bool:
    """The passage ends in a question and asks more than once, or mostly asks (a remark
    ending "…, right?" is not asking; the host thinking aloud between questions is)."""
    stripped = text.strip().rstrip("…”\"'’) ")
    if not stripped.endswith("?"):
        return False
    marks = re.findall(r"[.!?]+", stripped)
    asked = sum(1 for m in marks if "?" in m)
    return asked >= 2 or asked * 2 > len(marks)


class Hosts:
    """Who hosts: speakers heard across many episodes, except where they are the guest."""

    def __init__(self, cache: SearchCache):
        episodes = max(len(cache.episodes), 1)
        need = max(HOST_MIN_EPISODES, HOST_SHARE * episodes)
        self.cache = cache
        self.frequent = {s for s, eps in cache.speaker_episodes.items() if len(eps) >= need}

    def is_host(self, episode_id: str, speaker: str | None) -> bool:
        if not speaker or speaker not in self.frequent:
            return False
        info = self.cache.episodes.get(episode_id)
        guest_tokens = info.guest_tokens if info else frozenset()
        return not any(tok in guest_tokens for tok in speaker.lower().split())


_hosts_memo: list[tuple[SearchCache, Hosts]] = []


def hosts_of(cache: SearchCache) -> Hosts:
    """The hosts of this cache's episodes, worked out once per cache (a new cache, a new show)."""
    if _hosts_memo and _hosts_memo[0][0] is cache:
        return _hosts_memo[0][1]
    hosts = Hosts(cache)
    _hosts_memo[:] = [(cache, hosts)]
    return hosts


def smalltalk_weight(
    plan: Plan, cache: SearchCache, text: str, episode_id: str, speaker: str | None
) -> float:
    """The factor a passage's score is multiplied by: 1.0 for an answer, less for small talk.

    Only topic queries demote (a query of names alone asks for that person, pleasantries
    included), and a query with a "quoted phrase" is taken to quote the passage itself.

    Example:
        >>> smalltalk_weight(plan, cache, "Thanks for having me!", "e", "Hugo")  # doctest: +SKIP
        0.35
    """
    if not plan.required or any(t.kind == "phrase" for t in plan.parsed.terms):
        return 1.0
    if speaker and any(speaker in g.speakers for g in plan.groups if g.role == Role.NAME):
        return 1.0  # "what does Alexey recommend…?": the person asked about, as they said it
    if is_pleasantry(text):
        return PLEASANTRY_WEIGHT
    if is_question(text) and hosts_of(cache).is_host(episode_id, speaker):
        return HOST_QUESTION_WEIGHT
    return 1.0
