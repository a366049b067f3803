"""👍/👎 on answers: one vote per person per answer, what the digest says people found useful,
and the votes as rows for the relevance set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.catalogue import deep_link
from storage.clock import iso
from storage.db import Store


class VoteOutcome(StrEnum):
    """What recording one click did."""

    NEW = "new"  # the person's first vote on this answer
    CHANGED = "changed"  # they had voted the other way: replaced
    SAME = "same"  # the same vote again: nothing counted twice


@dataclass(frozen=True)
class VotedPassage:
    """One (query, passage) pair with its votes, as ``feedback --export`` writes it."""

    query: str | None
    passage: str
    episode_id: str
    second: float
    up: int
    down: int


@dataclass(frozen=True)
class UsefulAnswer:
    """A quote people voted useful this week (never who voted)."""

    episode_id: str
    episode_title: str
    start: float
    speaker: str | None
    quote: str
    url: str | None
    votes: int


async def record_vote(
    store: Store,
    answer_key: str,
    user_id: str,
    vote: int,
    *,
    episode_id: str,
    start: float,
    query: str | None = None,
    passage_id: int | None = None,
    channel_id: str | None = None,
    at: str | None = None,
) -> VoteOutcome:
    """Record ``user_id``'s vote (+1 or -1) on one answer; one row per person per answer.

    The passage's text is copied in (when ``passage_id`` is still that episode's), so the
    vote keeps its meaning after a re-ingest renumbers passages.
    """
    if vote not in (-1, 1):
        raise ValueError(f"a vote is +1 or -1, not {vote!r}")
    async with store.transaction() as conn:
        cur = await conn.execute(
            "SELECT vote FROM feedback_votes WHERE answer_key = ? AND user_id = ?",
            (answer_key, user_id),
        )
        before = await cur.fetchone()
        if before is not None and before[0] == vote:
            return VoteOutcome.SAME
        text = ""
        if passage_id is not None:
            cur = await conn.execute(
                "SELECT text FROM passages WHERE id = ? AND episode_id = ?",
                (passage_id, episode_id),
            )
            row = await cur.fetchone()
            text = row[0] if row else ""
        await conn.execute(
            "INSERT OR REPLACE INTO feedback_votes(answer_key, user_id, vote, query, episode_id,"
            " start, passage, channel_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (answer_key, user_id, vote, query, episode_id, start, text, channel_id,
             at or store.stamp()),
        )  # fmt: skip
    return VoteOutcome.NEW if before is None else VoteOutcome.CHANGED


async def voted_passages(store: Store) -> list[VotedPassage]:
    """Every (query, passage) voted on, with its 👍 and 👎 counts; most voted first."""
    rows = await store.fetchall(
        "SELECT query, episode_id, round(start, 1) AS second, max(passage) AS passage,"
        " sum(vote > 0) AS up, sum(vote < 0) AS down FROM feedback_votes"
        " GROUP BY query, episode_id, round(start, 1)"
        " ORDER BY up + down DESC, episode_id, second"
    )
    return [
        VotedPassage(r["query"], r["passage"], r["episode_id"], r["second"], r["up"], r["down"])
        for r in rows
    ]


async def useful_answers(
    store: Store, *, since: datetime, until: datetime, limit: int = 3
) -> tuple[UsefulAnswer, ...]:
    """Quotes with more 👍 than 👎 in the window, most liked first (voters are not read)."""
    rows = await store.fetchall(
        "SELECT f.episode_id, e.title, e.url, round(f.start, 1) AS start,"
        " max(f.passage) AS passage, sum(f.vote) AS net, max(f.at) AS last"
        " FROM feedback_votes f JOIN episodes e ON e.id = f.episode_id"
        " WHERE f.at >= ? AND f.at < ?"
        " GROUP BY f.episode_id, round(f.start, 1) HAVING net > 0"
        " ORDER BY net DESC, last DESC LIMIT ?",
        (iso(since), iso(until), limit),
    )
    found = []
    for r in rows:
        speaker = await store.fetchone(
            "SELECT speaker FROM passages WHERE episode_id = ? AND start <= ?"
            " ORDER BY start DESC LIMIT 1",
            (r["episode_id"], r["start"] + 0.5),
        )
        found.append(
            UsefulAnswer(
                episode_id=r["episode_id"],
                episode_title=r["title"],
                start=r["start"],
                speaker=speaker["speaker"] if speaker else None,
                quote=r["passage"],
                url=deep_link(r["url"], r["start"]),
                votes=r["net"],
            )  # fmt: skip
        )
    return tuple(found)
