"""The ``python -m bot`` command line: a thin layer over ``storage`` and the Slack app."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from storage import Store, StoreError, ingest_paths, list_episodes, search
from storage.formats import FORMATS
from storage.links import deep_link
from storage.models import EpisodeMeta

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def clock(seconds: float) -> str:
    """``862`` -> ``14:22``; ``3723`` -> ``1:02:03``."""
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _progress(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return lambda items: tqdm(items, unit="file", desc="ingesting", leave=False)


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    overrides = EpisodeMeta(
        id=args.episode_id,
        title=args.title,
        url=args.url,
        guests=tuple(args.guest or ()),
        date=args.date,
    )
    async with await Store.open(args.db or settings.database_path) as store:
        report = await ingest_paths(
            store, [Path(p) for p in args.paths], fmt=args.format, overrides=overrides,
            progress=_progress(not args.quiet),
        )  # fmt: skip
    for outcome in report.outcomes:
        if outcome.status == "failed":
            print(outcome.describe(), file=sys.stderr)
        elif not args.quiet and outcome.status in ("unchanged", "skipped"):
            print(f"{outcome.describe()}", file=sys.stderr)
        elif not args.quiet and outcome.message:
            print(f"{outcome.describe()}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


async def cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(args.db or settings.database_path) as store:
        episodes = await list_episodes(store)
    if args.json:
        print(json.dumps([
            {
                "id": e.id, "title": e.title, "guests": list(e.guests), "date": e.date,
                "link": deep_link(e.url, 0) if e.url else None, "duration": e.duration,
                "passages": e.passage_count, "timing": e.timing,
            }
            for e in episodes
        ], ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    if not episodes:
        print("No episodes yet. Add some with: python -m bot ingest PATH")
    for e in episodes:
        guests = ", ".join(e.guests)
        print(f"{e.date or '----------'}  {e.id}  {e.title}" + (f"  ({guests})" if guests else ""))
    return 0


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    async with await Store.open(args.db or settings.database_path) as store:
        result = await search(store, query, limit=args.limit, offset=args.offset)
    if args.json:
        print(json.dumps([
            {
                "episode_id": h.episode_id, "episode_title": h.episode_title, "start": h.start,
                "end": h.end, "speaker": h.speaker, "quote": h.quote, "url": h.url,
                "score": round(h.score, 4),
            }
            for h in result.hits
        ], ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    if not result.hits:
        print(f"Nothing found for {query!r}.")
        if result.suggestion:
            print(f"Did you mean: {result.suggestion}?")
        return 0
    for hit in result.hits:
        who = f"{hit.speaker}, " if hit.speaker else ""
        print(f"{hit.episode_title}\n  {who}{clock(hit.start)}  “{hit.quote}”")
        if hit.url:
            print(f"  {hit.url}")
        print()
    return 0


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``make run``: the demo episodes into the default database, then a search."""
    db = args.db or settings.database_path
    async with await Store.open(db) as store:
        report = await ingest_paths(store, [EXAMPLES])
        print(f"Demo data in {db}: {report.summary()}")
        result = await search(store, "feature store", limit=3)
    for hit in result.hits:
        print(f"\n{hit.episode_title}\n  {hit.speaker or ''} {clock(hit.start)}  “{hit.quote}”")
        if hit.url:
            print(f"  {hit.url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="episode-bot: search a show's transcripts from Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:  # noqa: ANN001
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--db", metavar="FILE", help="database file (default: DATABASE_PATH)")
        p.set_defaults(func=func)
        return p

    p = add("ingest", cmd_ingest, "ingest transcript files or folders (recursively)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=sorted(FORMATS), help="skip detection, use this format")
    p.add_argument("--title", help="episode title (for bare transcripts)")
    p.add_argument("--url", help="episode URL: YouTube, or an audio/video file")
    p.add_argument("--guest", action="append", help="guest full name (repeatable)")
    p.add_argument("--date", help="publication date, YYYY-MM-DD")
    p.add_argument("--episode-id", help="stable episode id (default: from the file name)")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary and failures")

    p = add("episodes", cmd_episodes, "list stored episodes")
    p.add_argument("--json", action="store_true", help="one JSON array")

    p = add("search", cmd_search, "search the transcripts")
    p.add_argument("query", nargs="+", metavar="QUERY")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="one JSON array of hits")

    add("run", cmd_run, "what `make run` does: demo data, then a search")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return asyncio.run(args.func(args, settings))
    except (ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
