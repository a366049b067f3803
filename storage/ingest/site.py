"""A site folder's extras beside its episodes: guest profiles (``_people/<id>.md``) that give
guests their names, and chapter lists (``podcast-timestamps/sXXeYY-*.txt``) that give episodes
their chapters."""

from __future__ import annotations

import json
import re
from pathlib import Path

from storage.db import Store
from storage.ingest.formats import ParseError
from storage.ingest.formats.captions import chapters_from_lines, timed_lines
from storage.ingest.formats.markdown import load_front_matter
from storage.ingest.sources import decode, read_limited
from storage.models import Chapter, EpisodeMeta, FileOutcome, Outcome

_SEASON_EPISODE = re.compile(r"s(\d{1,3})e(\d{1,3})", re.I)


def _profile(text: str, path: Path) -> tuple[str, str] | None:
    """A guest profile (``_people/<id>.md``): (id, full name), or None."""
    try:
        loaded = load_front_matter(text, path)
    except ParseError:
        return None
    if loaded is None:
        return None
    data, _ = loaded
    name = data.get("title")
    if not isinstance(name, str) or "transcript" in data:
        return None
    person_id = data.get("short") if isinstance(data.get("short"), str) else path.stem
    return person_id, name.strip()


def find_profiles(files: list[Path]) -> dict[Path, tuple[str, str]]:
    """Guest profiles (``_people/<id>.md``) among ``files``: {path: (id, full name)}."""
    profiles: dict[Path, tuple[str, str]] = {}
    for path in files:
        if path.parent.name != "_people" or path.suffix.lower() not in (".md", ".markdown"):
            continue
        try:
            found = _profile(decode(read_limited(path))[0], path)
        except (OSError, ParseError):
            continue
        if found:
            profiles[path] = found
    return profiles


async def learn_people(
    store: Store, files: list[Path], profiles: dict[Path, tuple[str, str]] | None = None
) -> set[Path]:
    """Store guest names from every ``_people`` profile among ``files``; return those files.

    Episodes stored before their guests' profiles show the guest's id; they get the name now.
    """
    if profiles is None:
        profiles = find_profiles(files)
    if profiles:
        async with store.transaction() as conn:
            await conn.executemany(
                "INSERT INTO people(id, name) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                list(profiles.values()),
            )
            for person_id, name in profiles.values():
                old, new = json.dumps(person_id), json.dumps(name, ensure_ascii=False)
                await conn.execute(
                    "UPDATE episodes SET guests = replace(guests, ?, ?) WHERE instr(guests, ?)",
                    (old, new, old),
                )
    return set(profiles)


async def guest_names(store: Store, meta: EpisodeMeta) -> tuple[str, ...]:
    if meta.guests:
        return meta.guests
    names = []
    for gid in meta.guest_ids:
        row = await store.fetchone("SELECT name FROM people WHERE id = ?", (gid,))
        names.append(row["name"] if row else gid)
    return tuple(names)


async def attach_chapter_list(store: Store, path: Path) -> FileOutcome:
    """``sXXeYY-*.txt`` chapter lists give chapters to that episode when it has none."""
    name = str(path)
    m = _SEASON_EPISODE.search(path.name)
    if not m:
        return FileOutcome(
            name, Outcome.SKIPPED,
            message="chapter list with no sXXeYY in its name to match an episode",
            reason="chapter lists that name no season and episode",
        )  # fmt: skip
    season, number = int(m[1]), int(m[2])
    tag = f"s{season:02d}e{number:02d}"
    try:
        chapters = chapters_from_lines(timed_lines(decode(read_limited(path))[0]))
    except (OSError, ParseError) as exc:  # changed since it was read a moment ago
        return FileOutcome(
            name, Outcome.FAILED, message=f"cannot read the chapter list again: {exc}"
        )
    rows = await store.fetchall(
        "SELECT id, title FROM episodes WHERE season = ? AND number = ?", (season, number)
    )
    if not rows:
        return FileOutcome(
            name, Outcome.SKIPPED, message=f"chapter list for {tag}, which is not stored",
            reason="chapter lists of episodes that are not stored",
        )  # fmt: skip
    episode_id = await _best_match(store, rows, chapters, path)
    if episode_id is None:
        return FileOutcome(
            name, Outcome.SKIPPED,
            message=f"chapter list for {tag}, which {len(rows)} stored episodes share; "
            "cannot tell which it belongs to",
            reason="chapter lists whose season and episode number is ambiguous",
        )  # fmt: skip
    have = await store.fetchone("SELECT 1 FROM chapters WHERE episode_id = ?", (episode_id,))
    if have:
        return FileOutcome(
            name, Outcome.SKIPPED, episode_id,
            message=f"chapter list for {tag} ({episode_id}), which has its chapters already",
            reason="chapter lists of episodes that have their chapters already",
        )  # fmt: skip
    async with store.transaction() as conn:
        await conn.executemany(
            "INSERT INTO chapters(episode_id, idx, title, start) VALUES (?,?,?,?)",
            [(episode_id, i, c.title, c.start) for i, c in enumerate(chapters)],
        )
        # Passages without a chapter take the one they start in.
        await conn.execute(
            "UPDATE passages SET chapter = (SELECT c.title FROM chapters c WHERE c.episode_id ="
            " passages.episode_id AND c.start <= passages.start + 0.5 ORDER BY c.start DESC"
            " LIMIT 1) WHERE episode_id = ? AND chapter IS NULL",
            (episode_id,),
        )
    return FileOutcome(
        name, Outcome.SKIPPED, episode_id,
        message=f"chapter list: {len(chapters)} chapters added to {episode_id}",
        reason="chapter lists that gave episodes their chapters",
    )  # fmt: skip


async def _best_match(
    store: Store, rows: list, chapters: tuple[Chapter, ...], path: Path
) -> str | None:
    """The episode a chapter list belongs to when several share its season and number: the one
    whose chapter titles (or title words) it shares most."""
    if len(rows) == 1:
        return rows[0]["id"]
    titles = {c.title.lower() for c in chapters}
    words = set(re.findall(r"[a-z]{4,}", path.stem.lower()))
    scores = []
    for row in rows:
        stored = await store.fetchall(
            "SELECT title FROM chapters WHERE episode_id = ?", (row["id"],)
        )
        shared = len(titles & {r["title"].lower() for r in stored})
        named = len(words & set(re.findall(r"[a-z]{4,}", f"{row['id']} {row['title']}".lower())))
        scores.append((shared, named, row["id"]))
    scores.sort(reverse=True)
    best, second = scores[0], scores[1]
    return best[2] if best[:2] > second[:2] and (best[0] or best[1]) else None
