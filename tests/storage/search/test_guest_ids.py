"""Guests known only by their site id (an episode folder ingested without ``_people/``)."""

from __future__ import annotations

import pytest

from storage.db import Store
from storage.ingest import ingest_paths
from storage.search import search
from tests.conftest import PODCAST, need_corpus

DATAOPS = "dataops-principles-and-scalable-data-platforms"
DEVREL = "devrel-open-source-machine-learning"
OTHERS = (
    DEVREL,
    "data-mesh-architecture-decentralized-data-products",
    "technical-writing-for-data-scientists",  # Alexey and Eugene talk about writing throughout
)


@pytest.fixture
async def no_profiles(store: Store) -> Store:
    need_corpus()
    report = await ingest_paths(store, [PODCAST / f"{e}.md" for e in (DATAOPS, *OTHERS)])
    assert not report.failed
    guests = (await store.fetchone("SELECT guests FROM episodes WHERE id = ?", (DATAOPS,)))[0]
    assert "larsalbertsson" in guests  # the id, as the folder gives it: no profile to name it
    return store


@pytest.mark.parametrize(
    "query",
    [
        "What did Lars Albertsson say about Airflow?",
        "lars albertsson airflow",
        'guest:"Lars Albertsson" airflow',
    ],
)
async def test_a_guests_name_finds_the_guest_stored_as_an_id(no_profiles: Store, query: str):
    result = await search(no_profiles, query)
    assert result.hits, query
    assert result.hits[0].episode_id == DATAOPS
    assert "airflow" in result.hits[0].quote.lower()


async def test_the_name_alone_lists_the_guests_own_words(no_profiles: Store) -> None:
    result = await search(no_profiles, "Lars Albertsson", limit=3)
    assert result.hits and {h.episode_id for h in result.hits} == {DATAOPS}
    assert result.hits[0].speaker == "Lars"


async def test_a_first_name_finds_the_guest_whose_id_it_starts(no_profiles: Store) -> None:
    # "hugobowneanderson" is Hugo's id; the transcript's speaker "Hugo" ties the two together,
    # so his episode is searched as the named guest's, ahead of a whole episode about writing.
    result = await search(no_profiles, "What did Hugo say about writing?", limit=3)
    assert (result.hits[0].episode_id, result.hits[0].speaker) == (DEVREL, "Hugo")
    assert "writ" in result.hits[0].quote.lower()
