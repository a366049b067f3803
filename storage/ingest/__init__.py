"""Ingest: transcript files (and their sidecars, and a site folder's profiles and chapter lists)
and podcast feeds, parsed by format and stored, one file or feed item one transaction, with a
report of what each did."""

from storage.ingest.feeds import (
    Feed,
    FeedItem,
    FeedReport,
    Fetch,
    Fetched,
    FetchError,
    ingest_feed,
    parse_feed,
)
from storage.ingest.formats import FORMATS, ParseError
from storage.ingest.pipeline import IngestError, IngestReport, ingest_file, ingest_paths, parse_file
from storage.ingest.removal import episodes_from, remove_episodes
from storage.ingest.sources import meta_from_flags
from storage.models import FileOutcome, Outcome

__all__ = [
    "FORMATS",
    "Feed",
    "FeedItem",
    "FeedReport",
    "Fetch",
    "FetchError",
    "Fetched",
    "FileOutcome",
    "IngestError",
    "IngestReport",
    "Outcome",
    "episodes_from",
    "ParseError",
    "ingest_feed",
    "ingest_file",
    "ingest_paths",
    "meta_from_flags",
    "parse_feed",
    "parse_file",
    "remove_episodes",
]
