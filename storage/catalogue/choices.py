"""Short lists to pick from: guests and episodes matching what someone has typed so far."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Store
from storage.text import word_tokens as folded_words

MAX_CHOICES = 100


@dataclass(frozen=True)
class EpisodeChoice:
    """An episode as a list shows it: enough to recognise it, not its chapters."""

    id: str
    title: str
    date: str | None
    guests: tuple[str, ...]


def _matches(typed: list[str], words: list[str]) -> bool:
    """Every typed word starts some word of the name or title ("hu bow" ~ Hugo Bowne)."""
    return all(any(w.startswith(t) for w in words) for t in typed)


async def list_guests(store: Store, prefix: str = "", limit: int = MAX_CHOICES) -> list[str]:
    """Stored guests' names whose words start with the words of ``prefix``, A to Z.

    Names that begin with what was typed come first ("an" lists Ana Lima before Joanna Andrews).

    Example:
        >>> await list_guests(store, "hugo")  # doctest: +SKIP
        ['Hugo Bowne-Anderson']
    """
    rows = await store.fetchall(
        "SELECT DISTINCT j.value FROM episodes e, json_each(e.guests) j"
        " WHERE j.type = 'text' AND trim(j.value) != ''"
    )
    typed = folded_words(prefix)
    found = [name for (name,) in rows if _matches(typed, folded_words(name))]
    first = typed[0] if typed else ""
    found.sort(key=lambda n: (not folded_words(n)[:1] or not folded_words(n)[0].startswith(first),
                              n.casefold()))  # fmt: skip
    return found[: max(0, limit)]


async def list_episode_choices(
    store: Store, words: str = "", limit: int = MAX_CHOICES
) -> list[EpisodeChoice]:
    """Episodes whose id, title or guests have words starting with ``words``, newest first."""
    typed = folded_words(words)
    out: list[EpisodeChoice] = []
    async with store.reading() as conn:
        async with conn.execute(
            "SELECT id, title, date, guests FROM episodes"
            " ORDER BY date IS NULL, date DESC, ingested_at DESC, id"
        ) as cur:
            while len(out) < limit and (rows := await cur.fetchmany(500)):
                for row in rows:
                    guests = tuple(g for g in json.loads(row["guests"]) if isinstance(g, str))
                    haystack = folded_words(" ".join((row["id"], row["title"], *guests)))
                    if _matches(typed, haystack):
                        out.append(EpisodeChoice(row["id"], row["title"], row["date"], guests))
                        if len(out) >= limit:
                            break
    return out
