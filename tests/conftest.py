"""Shared fixtures: the real corpus beside the checkout, fresh database files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.db import Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
PODCAST = CORPUS / "raw" / "_podcast"
FORMATS = CORPUS / "formats"
SEED = CORPUS / "seed" / "000_65fe3dfcb0de18ef.txt"
PEOPLE = CORPUS / "raw" / "_people"
CHAPTER_LISTS = CORPUS / "raw" / "podcast-timestamps"
DEVREL = PODCAST / "devrel-open-source-machine-learning.md"


def corpus_files(folder: Path) -> list[Path]:
    """The files of a corpus folder: counts a test expects derive from these, not a number."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def need_corpus() -> None:
    if not PODCAST.is_dir():
        message = f"the corpus is not at {CORPUS} (set CORPUS_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has ../shared beside the checkout: never skip silently there
        pytest.skip(message)


@pytest.fixture
def corpus() -> Path:
    need_corpus()
    return CORPUS


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "episodes.db"


@pytest.fixture
async def store(db_path: Path):
    s = await Store.open(db_path)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def slack_api():
    """A local stand-in for Slack's Web API and response URLs (see tests/slack_api.py)."""
    from tests.slack_api import SlackApi

    async with SlackApi() as api:
        yield api


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 200 real episodes (with guest names) ingested once per test session.

    Tests must treat it as read-only; copy it (``shutil.copy``) to change it.
    """
    import asyncio

    from storage.ingest import ingest_paths
    from storage.search import refresh_search_cache

    need_corpus()
    path = tmp_path_factory.mktemp("corpus") / "corpus.db"

    async def build() -> None:
        async with await Store.open(path) as store:
            report = await ingest_paths(store, [CORPUS / "raw" / "_people", PODCAST])
            assert not report.failed, [o.describe() for o in report.failed]
            await refresh_search_cache(store)  # as `python -m bot ingest` leaves it

    asyncio.run(build())
    return path


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """Tests that run the CLI in-process configure logging (to a captured stream that is closed
    after them); put the root logger back so later tests' libraries don't write there."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


# Property-based tests (hypothesis): a fixed, bounded profile so `make test` stays quick and
# every run tries the same examples (a failure found once is found again). Each test asks for
# ``examples(n)``; HYPOTHESIS_SCALE=50 runs fifty times as many, by hand, with fresh ones.
from hypothesis import HealthCheck, settings  # noqa: E402

HYPOTHESIS_SCALE = int(os.environ.get("HYPOTHESIS_SCALE", "1"))
settings.register_profile(
    "episode-bot", max_examples=100, deadline=None, derandomize=HYPOTHESIS_SCALE == 1,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
settings.load_profile("episode-bot")


def examples(n: int) -> int:
    """How many examples a property test tries: ``n`` in the suite, more by hand."""
    return n * HYPOTHESIS_SCALE
