"""The transcript store: a library over one SQLite file. No Slack here."""

from storage.db import Store, StoreError
from storage.episodes import find_episode, get_episode, list_episodes
from storage.ingest import FileOutcome, IngestReport, ingest_file, ingest_paths
from storage.models import Chapter, Episode, EpisodeMeta, Hit, Passage, SearchResult, Segment
from storage.search import search

__all__ = [
    "Chapter", "Episode", "EpisodeMeta", "FileOutcome", "Hit", "IngestReport", "Passage",
    "SearchResult", "Segment", "Store", "StoreError", "find_episode", "get_episode",
    "ingest_file", "ingest_paths", "list_episodes", "search",
]  # fmt: skip
