"""The ``python -m bot`` command line: a thin layer over ``storage`` and the Slack app."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from storage.catalogue import deep_link, list_episodes
from storage.clock import Clock, clock
from storage.db import Store, StoreError
from storage.search import refresh_search_cache, search, syntax_line

# storage.ingest (parsers, feeds, HTTP) is imported by the commands that ingest or remove,
# so a one-off `search` does not pay for it.
if TYPE_CHECKING:
    from storage.ingest import IngestReport

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class _Formats:
    """The ingest formats, for ``--format``'s choices: looked up only when an ingest command
    line is checked or its help shown."""

    def __contains__(self, name: object) -> bool:
        from storage.ingest import FORMATS

        return name in FORMATS

    def __iter__(self):  # noqa: ANN204
        from storage.ingest import FORMATS

        return iter(sorted(FORMATS))


def _progress(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    import shutil

    from tqdm import tqdm

    # A terminal that reports no size (some ptys) would hide the bar; assume 80x24 then.
    size = shutil.get_terminal_size((80, 24))
    return lambda items: tqdm(
        items, unit="file", desc="ingesting", leave=False, ncols=min(size.columns, 120),
        nrows=size.lines,
    )  # fmt: skip


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from storage.ingest import (
        IngestError,
        Outcome,
        ParseError,
        ingest_feed,
        ingest_paths,
        meta_from_flags,
    )

    try:
        overrides = meta_from_flags(
            title=args.title, url=args.url, guests=args.guest or (), date=args.date,
            episode_id=args.episode_id,
        )  # fmt: skip
    except ParseError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.announce:
        _need_slack(settings, "ANNOUNCE_CHANNEL", settings.announce_channel, "--announce")
    if any(not p.strip() for p in args.paths):
        print(
            "error: an empty PATH was given (an unset shell variable?); nothing was ingested",
            file=sys.stderr,
        )
        return 2
    feeds = [p for p in args.paths if re.match(r"^[a-z][a-z0-9+.-]*://", p, re.IGNORECASE)]
    paths = [Path(p) for p in args.paths if p not in feeds]
    if feeds and (args.format or overrides != meta_from_flags()):
        print(
            "error: --format, --title, --url, --guest, --date and --episode-id describe a "
            "transcript file; a feed describes its own items",
            file=sys.stderr,
        )
        return 2
    announce_failed = False
    reports: list[IngestReport] = []
    async with await Store.open(args.db or settings.database_path, clock=args.clock) as store:
        if paths:
            try:
                reports.append(await ingest_paths(
                    store, paths, fmt=args.format, overrides=overrides,
                    progress=_progress(not args.quiet),
                ))  # fmt: skip
            except IngestError as exc:  # not ValueError: a bad file is that file's failure
                print(f"error: {exc}", file=sys.stderr)
                return 2
        if feeds:
            from bot.fetch import HttpFetcher

            async with HttpFetcher() as fetch:
                for url in feeds:
                    reports.append(await ingest_feed(store, url, fetch))
        if args.announce:
            for report in reports:
                if getattr(report, "first_poll", False) and report.of(Outcome.ADDED):
                    print(
                        f"not announced: the first read of {report.feed_url} is its back "
                        "catalogue, not news (the next reads announce what is new)",
                        file=sys.stderr,
                    )
                    continue
                announce_failed |= await _announce_added(store, settings, report) < 0
        # Stored with the data: the next `search` (or a server starting) loads, not builds, it.
        await refresh_search_cache(store)
    for report in reports:
        for line in report.lines(verbose=args.verbose, quiet=args.quiet):
            print(line, file=sys.stderr)
        if getattr(report, "not_modified", False):
            print(f"{report.feed_url}: not modified since it was last read; nothing to do")
        else:
            where = f"{report.feed_url}: " if getattr(report, "feed_url", "") else ""
            print(where + report.summary())
    return 1 if any(r.failed or r.stopped for r in reports) or announce_failed else 0


def _need_slack(settings: Settings, name: str, channel: str | None, what: str) -> None:
    if not channel:
        raise ConfigError(f"{name} is not set: {what} posts there (see .env.example)")
    if not settings.slack_bot_token:
        raise ConfigError(f"SLACK_BOT_TOKEN is not set: {what} posts to Slack with it")


async def _announce_added(store: Store, settings: Settings, report) -> int:  # noqa: ANN001
    """Announce the episodes this ingest added; the number posted, or -1 if a post failed."""
    from bot.app import build_client
    from bot.scheduler import ANNOUNCE_BATCH, Poster, PostStatus
    from storage.ingest import Outcome

    added = [o.episode_id for o in report.of(Outcome.ADDED) if o.episode_id]
    poster = Poster.from_settings(store, build_client(settings), settings)
    results = await poster.announce_added(added)
    if len(added) > ANNOUNCE_BATCH:
        print(
            f"not announced: {len(added)} new episodes at once look like a catalogue import "
            f"(at most {ANNOUNCE_BATCH} are announced at a time)", file=sys.stderr,
        )  # fmt: skip
        return 0
    for r in results:
        if r.status == PostStatus.POSTED:
            print(f"announced {r.key} in {r.channel}", file=sys.stderr)
        elif r.status == PostStatus.ALREADY:
            print(f"{r.key}: announced before, not again", file=sys.stderr)
        elif r.status != PostStatus.SKIPPED:
            print(f"error: announcing {r.key}: {r.status} ({r.detail or ''})", file=sys.stderr)
    if not added:
        print("nothing new to announce (no episode was added)", file=sys.stderr)
    failed = any(
        r.status in (PostStatus.FAILED, PostStatus.UNCERTAIN, PostStatus.BUSY) for r in results
    )
    return -1 if failed else sum(r.status == PostStatus.POSTED for r in results)


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """``digest --preview`` prints this week's digest; ``digest --now`` posts it (once)."""
    from bot.scheduler import Poster, PostStatus
    from handlers.digest import digest_text, render_digest

    if args.now:
        _need_slack(settings, "DIGEST_CHANNEL", settings.digest_channel, "digest --now")
    db = args.db or settings.database_path
    async with await Store.open(
        db, create=bool(args.now), clock=args.clock
    ) as store:  # a preview only reads
        if args.now:
            from bot.app import build_client

            poster = Poster.from_settings(store, build_client(settings), settings)
            result = await poster.post_digest(force=True)
            if result.status in (PostStatus.POSTED, PostStatus.RECOVERED):
                print(f"posted the digest for {result.key} to {result.channel} (ts {result.ts})")
            elif result.status == PostStatus.ALREADY:
                print(
                    f"the digest for {result.key} was already posted to {result.channel} "
                    f"(ts {result.ts}); it goes out once a week"
                )
            elif result.status == PostStatus.BUSY:
                print(f"the digest for {result.key} is being posted by the running bot")
            else:
                print(f"error: the digest was not posted: {result.detail}", file=sys.stderr)
                return 1
            return 0
        poster = Poster.from_settings(store, None, settings)
        digest = await poster.preview()
    if args.blocks:
        print(json.dumps(render_digest(digest, schedule=poster.schedule).payload(),
                         ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    print(digest_text(digest, schedule=poster.schedule))
    if settings.digest_channel:
        note = f"\n(preview of the digest posted to {settings.digest_channel}"
        note += f" {poster.schedule.describe()}"
    else:
        note = "\n(preview; DIGEST_CHANNEL is not set, so no digest is posted"
    if digest.is_empty and settings.digest_skip_empty:
        note += "; as things stand this week is skipped: nothing new, nothing searched"
    print(note + ")", file=sys.stderr)
    return 0


async def cmd_episodes(args: argparse.Namespace, settings: Settings) -> int:
    if args.action or args.demo or args.yes:
        return await cmd_remove(args, settings)
    async with await Store.open(args.db or settings.database_path, create=False) as store:
        episodes = await list_episodes(store)
    if args.json:
        print(json.dumps([
            {
                "id": e.id, "title": e.title, "guests": list(e.guests), "date": e.date,
                "link": deep_link(e.url, 0) if e.url else None, "duration": e.duration,
                "passages": e.passage_count, "timing": e.timing, "chapters": len(e.chapters),
                "source": e.source_path, "format": e.source_format,
            }
            for e in episodes
        ], ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    if not episodes:
        print("No episodes yet. Add some with: python -m bot ingest PATH")
    for e in episodes:
        guests = f"  ({', '.join(e.guests)})" if e.guests else ""
        length = f"{clock(e.duration)}, " if e.duration else ""
        print(
            f"{e.date or '----------'}  {e.id}  {e.title}{guests}  "
            f"[{length}{e.passage_count} passages]"
        )
    if episodes and not args.json:
        print(f"{len(episodes)} episodes", file=sys.stderr)
    return 0


async def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """``episodes remove ID...`` / ``episodes remove --demo``: asks first unless ``--yes``."""
    from storage.ingest import episodes_from, remove_episodes

    action, *ids = args.action or [""]
    if action != "remove":
        print(
            f"error: episodes takes no {action or 'option'} there; to take episodes out: "
            "python -m bot episodes remove ID... (or --demo)", file=sys.stderr,
        )  # fmt: skip
        return 2
    if bool(ids) == bool(args.demo):
        print("error: give episode ids to remove, or --demo (not both)", file=sys.stderr)
        return 2
    db = args.db or settings.database_path
    async with await Store.open(db, create=False) as store:
        if args.demo:
            ids = await episodes_from(store, EXAMPLES)
            if not ids:
                print(f"no demo episodes (from {EXAMPLES}) in {db}; nothing to remove")
                return 0
        stored = {e.id: e for e in await list_episodes(store)}
        missing = [i for i in ids if i not in stored]
        if missing:
            print(
                f"error: no episode {', '.join(missing)} in {db} (`python -m bot episodes` "
                "lists their ids); nothing was removed", file=sys.stderr,
            )  # fmt: skip
            return 1
        for episode_id in ids:
            print(f"  {episode_id}  {stored[episode_id].title}")
        if not args.yes:
            if not sys.stdin.isatty():
                print(
                    "error: not removed: confirm with --yes (no terminal to ask on)",
                    file=sys.stderr,
                )
                return 1
            answer = input(f"Remove these {len(ids)} episodes from {db}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing removed")
                return 1
        removed = await remove_episodes(store, ids)
        await refresh_search_cache(store)
    print(f"removed {len(removed)} episode{'s' if len(removed) != 1 else ''} from {db}")
    return 0


async def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """A consistent copy of the database, safe while the bot serves (SQLite's backup API)."""
    import time

    db = args.db or settings.database_path
    started = time.perf_counter()
    # migrate=False: a backup never changes the file it copies, whatever version made it.
    async with await Store.open(db, create=False, migrate=False) as store:
        size = await store.backup(args.file)
    print(
        f"backed up {db} to {args.file} ({size / 2**20:.1f} MB) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    async with await Store.open(args.db or settings.database_path, create=False) as store:
        result = await search(store, query, limit=args.limit, offset=args.offset)
    if args.json:
        for notice in result.notices:  # stdout stays one JSON array
            print(notice, file=sys.stderr)
        print(json.dumps([
            {
                "episode_id": h.episode_id, "episode_title": h.episode_title, "start": h.start,
                "end": h.end, "speaker": h.speaker, "quote": h.quote, "url": h.url,
                "score": round(h.score, 4),
            }
            for h in result.hits
        ], ensure_ascii=False, indent=1))  # fmt: skip
        return 0
    for notice in result.notices:
        print(notice)
    if not result.hits:
        print(f"Nothing found for {query!r}.")
        if result.suggestion:
            print(f"Did you mean: {result.suggestion}?")
        return 0
    if result.suggestion:
        print(f"Showing results for: {result.suggestion}\n")
    for hit in result.hits:
        who = f"{hit.speaker}, " if hit.speaker else ""
        print(f"{hit.episode_title}\n  {who}{clock(hit.start)}  “{hit.quote}”")
        if hit.matched_via:
            print(f"  (matched {hit.matched_via})")
        if hit.url:
            print(f"  {hit.url}")
        print()
    if result.has_more:
        print(f"More: --offset {args.offset + len(result.hits)}")
    return 0


async def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """👍/👎 votes on answers: a count, or (``--export``) one JSON line per (query, passage)."""
    from storage.activity import voted_passages

    async with await Store.open(args.db or settings.database_path, create=False) as store:
        rows = await voted_passages(store)
    if not args.export:
        up, down = sum(r.up for r in rows), sum(r.down for r in rows)
        print(f"{len(rows)} passages voted on: {up} 👍, {down} 👎 (--export writes them as JSONL)")
        return 0
    lines = [
        json.dumps({
            "query": r.query, "passage": r.passage, "episode": r.episode_id, "second": r.second,
            "votes": {"up": r.up, "down": r.down},
        }, ensure_ascii=False)
        for r in rows
    ]  # fmt: skip
    text = "".join(line + "\n" for line in lines)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        out = Path(args.output)
        tmp = out.with_name(out.name + ".part")
        try:
            tmp.write_text(text, encoding="utf-8")  # whole, then renamed: never half-written
            tmp.replace(out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            print(f"error: {args.output}: cannot write it ({exc.strerror})", file=sys.stderr)
            return 1
        print(f"{len(lines)} lines written to {out}", file=sys.stderr)
    return 0


async def cmd_glossary(args: argparse.Namespace, settings: Settings) -> int:
    """Check the community glossary (GLOSSARY_PATH or --file) and sum up what search knows."""
    from storage.search import GlossaryError, builtin_glossary, load_glossary

    path = args.file or settings.glossary_path
    builtin = builtin_glossary()
    if not path:
        print(f"{len(builtin)} built-in terms; no community glossary (set GLOSSARY_PATH).")
        return 0
    try:
        community = load_glossary(path)
    except GlossaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    merged = builtin.merged(community)
    for entry in community.entries:
        heard = ", ".join(entry.heard_as) or "-"
        print(
            f"{entry.term}: heard as {heard}"
            + (f"; also {', '.join(entry.also)}" if entry.also else "")
        )
    print(f"{path}: {len(community)} terms; {len(merged)} in all with the built-in ones.")
    return 0


def _whole_number_between(lo: int, hi: int):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi}")
        return value

    return parse


def _settings_with_db(args: argparse.Namespace, settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, database_path=args.db) if args.db else settings


def _log_to_stderr(settings: Settings) -> None:
    from bot.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import serve

    settings = _settings_with_db(args, settings)
    settings.check_for_serve()  # before logging starts: one clear line, not a log record
    _log_to_stderr(settings)
    await serve(settings)
    return 0


async def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    settings = _settings_with_db(args, settings)
    return await run_console(settings)  # refuses a database that does not exist, like serve


async def seed_demo(store: Store, settings: Settings) -> str:
    """``make run``'s demo show: into an empty (or demo-only) database, and never once Slack
    tokens are set (a real workspace must not search a made-up show). Returns what to say."""
    from storage.ingest import episodes_from, ingest_paths

    db = settings.database_path
    episodes = await list_episodes(store)
    demo = await episodes_from(store, EXAMPLES)
    remove = f"python -m bot episodes remove --demo --db {db}"
    if settings.has_slack:
        note = f"{len(episodes)} episodes in {db}"
        if demo:
            note += (
                f"\nnote: {len(demo)} of them are the demo show from {EXAMPLES}; take them out "
                f"with: {remove}"
            )
        return note
    if len(demo) != len(episodes):
        return f"{len(episodes)} episodes in {db}"
    report = await ingest_paths(store, [EXAMPLES])
    return (
        f"Demo episodes from {EXAMPLES} (a small made-up show that comes with episode-bot, to "
        f"try it) in {db}: {report.summary()}\nThey are never added once Slack tokens are set "
        f"or your own episodes are in; remove them with: {remove}"
    )


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``make run``: the demo episodes into the database, then Slack if configured, else console."""
    settings = _settings_with_db(args, settings)
    if settings.has_slack:
        settings.check_for_serve()
    async with await Store.open(settings.database_path) as store:
        print(await seed_demo(store, settings), file=sys.stderr)
    if settings.has_slack:
        return await cmd_serve(args, settings)
    from bot.console import run_console

    intro = (
        "No Slack tokens in .env, so here is the local console.\n"
        "To connect a workspace: create the app from manifest.yml, put SLACK_BOT_TOKEN and "
        "SLACK_APP_TOKEN in .env (README, 'Connect to Slack'), then `make run` again.\n"
    )
    return await run_console(settings, intro=intro)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="episode-bot: search a show's transcripts from Slack."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func, help: str) -> argparse.ArgumentParser:  # noqa: ANN001
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--db", metavar="FILE", help="database file (default: DATABASE_PATH)")
        p.set_defaults(func=func)
        return p

    p = add("ingest", cmd_ingest, "ingest transcript files or folders (recursively), or feeds")
    p.add_argument("paths", nargs="+", metavar="PATH|FEED_URL")
    p.add_argument(
        "--format", choices=_Formats(), metavar="FORMAT",
        help="skip detection, use this format: %(choices)s",
    )  # fmt: skip
    p.add_argument("--title", help="episode title (for bare transcripts)")
    p.add_argument("--url", help="episode URL: YouTube, or an audio/video file")
    p.add_argument("--guest", action="append", help="guest full name (repeatable)")
    p.add_argument("--date", help="publication date, YYYY-MM-DD")
    p.add_argument("--episode-id", help="stable episode id (default: from the file name)")
    p.add_argument("-q", "--quiet", action="store_true", help="only the summary and failures")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="list every skipped file, not a summary"
    )
    p.add_argument(
        "--announce", action="store_true",
        help="post each episode added (not updated) to ANNOUNCE_CHANNEL, once",
    )  # fmt: skip

    p = add(
        "episodes", cmd_episodes, "list stored episodes, or remove some (episodes remove ID...)"
    )
    p.add_argument(
        "action", nargs="*", metavar="remove ID", help="remove these episodes and all their rows"
    )
    p.add_argument("--json", action="store_true", help="one JSON array")
    p.add_argument("--demo", action="store_true", help="with remove: the demo show's episodes")
    p.add_argument("--yes", action="store_true", help="with remove: don't ask first")

    p = add("backup", cmd_backup, "copy the database to FILE, consistently, even while serving")
    p.add_argument("file", metavar="FILE")

    p = add("search", cmd_search, "search the transcripts")
    p.epilog = f"Words in any order, and: {syntax_line()}"
    p.add_argument("query", nargs="+", metavar="QUERY")
    p.add_argument(
        "--limit", type=_whole_number_between(1, 50), default=5, help="hits to show (1-50)"
    )
    p.add_argument("--offset", type=_whole_number_between(0, 500), default=0, help="hits to skip")
    p.add_argument("--json", action="store_true", help="one JSON array of hits")

    p = add("glossary", cmd_glossary, "check the community glossary (GLOSSARY_PATH)")
    p.add_argument("--file", help="a glossary file to check instead of GLOSSARY_PATH")

    p = add("digest", cmd_digest, "the weekly digest: print a preview, or post it now")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--preview", action="store_true", help="print it here (the default)")
    how.add_argument("--now", action="store_true", help="post it to DIGEST_CHANNEL (once a week)")
    how.add_argument("--blocks", action="store_true", help="print its Block Kit JSON")

    p = add("feedback", cmd_feedback, "👍/👎 votes on answers: count them, or export them")
    p.add_argument(
        "--export", action="store_true",
        help="one JSON line per voted passage: query, passage, episode, second, votes",
    )  # fmt: skip
    p.add_argument("--output", metavar="FILE", help="write the export to FILE (default: stdout)")

    add("serve", cmd_serve, "run the Slack app (Socket Mode or HTTP, see .env.example)")
    add("console", cmd_console, "try the bot in the terminal: the Slack handlers, without Slack")
    add("run", cmd_run, "what `make run` does: demo data (no Slack yet), then serve or console")
    return parser


# Each command's list of words, for those typed after an option (see main).
_LISTS = {"episodes": "action", "search": "query", "ingest": "paths"}


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; its exit status. ``clock`` sets the time the command's database reads
    (stamps, the digest's window): tests run the real command line at a chosen moment."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse (3.11) leaves words typed after an option unread when a list came first
    # (`episodes remove --yes ID`, `search kubernetes --limit 3 operators`): they belong to
    # that command's list. Anything else unknown is still an error.
    words = _LISTS.get(args.command or "")
    if extra and words and not any(e.startswith("-") for e in extra):
        setattr(args, words, [*(getattr(args, words) or []), *extra])
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.clock = clock
    if args.command is None:
        parser.print_help(sys.stderr)  # a bare `python -m bot`: show every command
        return 2
    try:
        settings = load_settings()
        return asyncio.run(args.func(args, settings))
    except (ConfigError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
