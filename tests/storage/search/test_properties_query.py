"""Property-based tests (hypothesis) of the query language: whatever a member types,
``parse_query`` never raises and ``search`` on a small real database answers without an
exception and without an FTS5 syntax error (which the engine would only log)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.db import Store
from storage.ingest import ingest_paths
from storage.search import MAX_LIMIT, search
from storage.search.query import MAX_TERMS, parse_query
from tests.conftest import DEVREL, PODCAST, corpus_files, examples, need_corpus

# What people type, and what FTS5 would read as syntax if it ever reached MATCH unquoted.
PIECES = st.sampled_from([
    "argo", "scheduler", "devrel", "kubernets", "scikit-learn", "A/B", "psychic learn",
    "guest:", "guest:hugo", "speaker:", "who:alexey", "episode:", "ep:", "title:", "after:",
    "before:2024-06", "since:2023", "until:99999-99", "after:2023-02-30", '"', '"wisdom layer"',
    "-", "-dask", "--", "NEAR(", "NEAR/3", ")", "(", "AND", "OR", "NOT", "*", "^", ":", "+",
    "{col}", "''", "\\", "\x00", "\u202e", "ß", "İ", "🙂", "ＡＲＧＯ", "?", "the", "what is",
])  # fmt: skip
QUERIES = st.one_of(
    st.lists(PIECES, max_size=12).map(" ".join),
    st.lists(PIECES, max_size=12).map("".join),
    st.text(max_size=200),
    st.text(alphabet='"-:()*^ ab', max_size=60),
)


@settings(max_examples=examples(500))
@given(QUERIES)
def test_parse_query_never_raises(text: str) -> None:
    parsed = parse_query(text)
    assert len(parsed.terms) <= MAX_TERMS
    for term in parsed.terms:
        assert term.words and all(term.words)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three real episodes: enough vocabulary for typos, names and phrases to mean something."""
    need_corpus()
    path = tmp_path_factory.mktemp("small") / "small.db"
    files = [DEVREL, *[f for f in corpus_files(PODCAST) if f != DEVREL][:2]]

    async def build() -> None:
        async with await Store.open(path) as store:
            report = await ingest_paths(store, files)
            assert len(report.of("added")) == len(files), report.lines()

    asyncio.run(build())
    return path


def test_search_answers_any_query_without_an_fts5_error(
    small_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(Store.open(small_db, create=False))
    caplog.set_level(logging.WARNING, logger="storage.search")

    @settings(max_examples=examples(60))
    @given(QUERIES, st.integers(min_value=1, max_value=MAX_LIMIT))
    def check(query: str, limit: int) -> None:
        caplog.clear()
        result = loop.run_until_complete(search(store, query, limit=limit))
        assert len(result.hits) <= limit
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert not failures, failures

    try:
        check()
        found = loop.run_until_complete(search(store, "argo scheduler", limit=3))
        assert found.hits  # the database answers real queries: the property is not vacuous
    finally:
        loop.run_until_complete(store.close())
        loop.close()
