"""Search (issue 3) on the real corpus: query language, safety, filters, tolerance, quotes,
diversity, the glossary, and the command line."""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from bot.cli import main
from storage.catalogue import find_episode
from storage.db import Store, refresh_search_vocabulary
from storage.ingest import ingest_file
from storage.models import EpisodeMeta, Hit, SearchResult
from storage.search import engine, search, search_cache, wait_for_search_cache
from storage.search.glossary import GlossaryError, parse_glossary
from storage.search.query import parse_query
from tests.conftest import SEED
from tests.storage.search.relevance import relevance_db

DEVREL = "devrel-open-source-machine-learning"
HUGO_EPISODES = {DEVREL, "practical-llm-engineering-and-rag"}


@pytest.fixture(scope="session")
def search_db(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus plus the devrel seed captions; read-only (copy it to change it)."""
    target = tmp_path_factory.mktemp("search") / "search.db"
    return asyncio.run(relevance_db(corpus_db, SEED, target))


@pytest.fixture
async def corpus_store(search_db: Path):
    async with await Store.open(search_db) as store:
        yield store


@pytest.fixture(scope="session")
def captions_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the raw seed captions, as an episode of their own (no edited twin)."""
    if not SEED.is_file():
        pytest.skip(f"no seed captions at {SEED}")
    path = tmp_path_factory.mktemp("captions") / "captions.db"

    async def build() -> None:
        async with await Store.open(path) as store:
            outcome = await ingest_file(store, SEED, overrides=EpisodeMeta(id="devrel-captions"))
            assert outcome.status == "added", outcome.describe()

    asyncio.run(build())
    return path


@pytest.fixture
async def captions_store(captions_db: Path):
    async with await Store.open(captions_db) as store:
        yield store


def link_second(hit: Hit) -> int:
    return int(parse_qs(urlsplit(hit.url).query)["t"][0].rstrip("s"))


# ------------------------------------------------------------------------------ the interface


async def test_hits_are_quotes_at_their_second(corpus_store: Store) -> None:
    result = await search(corpus_store, "argo scheduler", limit=3)
    assert isinstance(result, SearchResult) and result.query == "argo scheduler"
    hit = result.hits[0]
    assert hit.episode_id == DEVREL
    assert "Argo scheduler" in hit.quote and len(hit.quote) <= 300
    # Said at 14:22 in a paragraph stamped 13:52: the quote starts at its own sentence.
    assert 14 * 60 + 10 <= hit.start <= 14 * 60 + 22 < hit.end
    assert link_second(hit) == int(hit.start)
    assert hit.chapter and "Argo" in hit.chapter and hit.speaker == "Hugo"
    assert hit.passage_id is not None and hit.score > 0


async def test_paging_is_consistent(corpus_store: Store) -> None:
    first = await search(corpus_store, "kubernetes", limit=3)
    second = await search(corpus_store, "kubernetes", limit=3, offset=3)
    both = await search(corpus_store, "kubernetes", limit=6)
    assert first.has_more and len(first.hits) == len(second.hits) == 3
    assert [h.passage_id for h in first.hits + second.hits] == [h.passage_id for h in both.hits]
    assert (await search(corpus_store, "kubernetes", limit=0)).hits == ()


async def test_paging_stops_at_the_cap(corpus_store: Store) -> None:
    """Offsets end at MAX_OFFSET: the page that reaches it has no "more", past it is empty."""
    from storage.search.engine import MAX_OFFSET

    before = await search(corpus_store, "data", limit=3, offset=MAX_OFFSET - 5)
    last = await search(corpus_store, "data", limit=3, offset=MAX_OFFSET - 2)
    past = await search(corpus_store, "data", limit=3, offset=MAX_OFFSET + 2)
    assert before.has_more and len(last.hits) == 3
    assert not last.has_more
    assert past.hits == () and not past.has_more


def test_cli_offers_no_offset_past_the_cap(search_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "data", "--limit", "3", "--offset", "495", "--db", str(search_db)]) == 0
    assert "More: --offset 498" in capsys.readouterr().out
    assert main(["search", "data", "--limit", "3", "--offset", "498", "--db", str(search_db)]) == 0
    assert "More:" not in capsys.readouterr().out


async def test_find_episode_by_id_or_whole_words_in_one_query(corpus_store: Store) -> None:
    queries: list[str] = []
    fetchone, fetchall = corpus_store.fetchone, corpus_store.fetchall

    async def one(sql: str, params=()):  # noqa: ANN001, ANN202
        queries.append(sql)
        return await fetchone(sql, params)

    async def many(sql: str, params=()):  # noqa: ANN001, ANN202
        queries.append(sql)
        return await fetchall(sql, params)

    corpus_store.fetchone, corpus_store.fetchall = one, many  # type: ignore[method-assign]
    try:
        assert (await find_episode(corpus_store, DEVREL)).id == DEVREL
        queries.clear()
        found = await find_episode(corpus_store, "DevRel hugo")
        assert found is not None and found.id == DEVREL and found.chapters
        # the exact-id try, the match, its chapters: never the whole catalogue
        assert len(queries) == 3 and not any(
            "ORDER BY idx" not in q and "e.guests" not in q and "e.id = ?" not in q for q in queries
        )
        assert (await find_episode(corpus_store, "devre")) is None  # whole words only
        assert (await find_episode(corpus_store, "zzqx")) is None
        for words in ("a", "e", "x"):  # a letter is not "any episode"
            match = await find_episode(corpus_store, words)
            assert match is None or f" {words} " in f" {match.title.lower()} "
        assert (await find_episode(corpus_store, "'; DROP TABLE episodes; --")) is None
        assert (await find_episode(corpus_store, "%")) is None
    finally:
        corpus_store.fetchone, corpus_store.fetchall = fetchone, fetchall  # type: ignore[method-assign]
    assert await corpus_store.fetchone("SELECT count(*) FROM episodes")


@pytest.mark.parametrize(
    "query",
    [
        "scikit-learn", "C++", "who's", '"unclosed', "AND", "NOT x", "title:x", "-x", "*", "😀",
        "a", "x" * 2000, "word " * 400, '"" "" ""', "NEAR(a b)", "col:val", "^start", "a OR",
        "'; DROP TABLE passages; --", "\x00null", "(((", "guest:", "after:", "before:yesterday",
        "episode:\"", "speaker:'", "ñandú Müller Straße", "数据科学", "-", "--", "- -x", "**kw**",
    ],
)  # fmt: skip
async def test_any_input_is_safe(corpus_store: Store, query: str) -> None:
    result = await search(corpus_store, query, limit=5)
    assert isinstance(result, SearchResult)
    assert all(len(h.quote) <= 301 for h in result.hits)


async def test_random_input_never_fails(corpus_store: Store) -> None:
    rng = random.Random(7)
    alphabet = "ab \"'*-:()^+#@!?~.,;/\\{}[]<>|&%$=_0 "
    for _ in range(150):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        assert isinstance(await search(corpus_store, query, limit=2), SearchResult)


# ------------------------------------------------------------------------------ query language


async def test_stop_words_never_block_and_stemming_matches(corpus_store: Store) -> None:
    plain = await search(corpus_store, "argo scheduler", limit=1)
    wordy = await search(corpus_store, "what is the Argo scheduler?", limit=1)
    assert wordy.hits[0].passage_id == plain.hits[0].passage_id
    stemmed = await search(corpus_store, "deploying", limit=10)
    assert stemmed.hits and any(
        re.search(r"\bdeploy(s|ed)?\b", h.quote, re.I) for h in stemmed.hits
    )


async def test_quoted_phrase_is_exact(corpus_store: Store) -> None:
    result = await search(corpus_store, '"the argo scheduler"', limit=10)
    assert result.hits and all("argo scheduler" in h.quote.lower() for h in result.hits)
    assert (await search(corpus_store, '"scheduler argo"', limit=10)).hits == ()


async def test_exclusion_leaves_out_passages(corpus_store: Store) -> None:
    result = await search(corpus_store, "metaflow -dask", limit=10)
    assert result.hits and not any("dask" in h.quote.lower() for h in result.hits)
    only = await search(corpus_store, "-metaflow", limit=3)
    assert only.hits == () and only.notices


def test_parse_query_reads_filters_and_phrases() -> None:
    q = parse_query('guest:"hugo bowne" "argo scheduler" -spark after:2023 before:2024-06 kafka')
    assert [t.words for t in q.positive] == [("argo", "scheduler"), ("kafka",)]
    assert [t.words for t in q.negative] == [("spark",)]
    assert q.filters.guest == ("hugo bowne",)
    assert (q.filters.dates.start, q.filters.dates.end) == ("2023-01-01", "2024-06-30")
    assert parse_query("after:2023-02-30 x").notices  # not a date: said, not ignored silently


# ------------------------------------------------------------------------------------ filters


async def test_guest_speaker_episode_and_date_filters(corpus_store: Store) -> None:
    by_guest = await search(corpus_store, "guest:hugo podcast", limit=10)
    assert by_guest.hits and {h.episode_id for h in by_guest.hits} <= HUGO_EPISODES
    by_speaker = await search(corpus_store, "speaker:alexey kubernetes", limit=10)
    assert by_speaker.hits and {h.speaker for h in by_speaker.hits} <= {"Alexey", "Alexey:"}
    by_episode = await search(corpus_store, f"episode:{DEVREL} documentation", limit=10)
    assert by_episode.hits and {h.episode_id for h in by_episode.hits} == {DEVREL}
    words = await search(corpus_store, "episode:asteroid water", limit=5)
    assert {h.episode_id for h in words.hits} == {
        "machine-learning-for-asteroid-mining-and-water-detection"
    }
    dated = await search(corpus_store, "after:2024-01-01 before:2024-12-31 kubernetes", limit=10)
    rows = await corpus_store.fetchall("SELECT id, date FROM episodes")
    dates = {r["id"]: r["date"] for r in rows}
    assert dated.hits and all(
        "2024-01-01" <= dates[h.episode_id] <= "2024-12-31" for h in dated.hits
    )


async def test_filters_alone_list_passages_by_date(corpus_store: Store) -> None:
    result = await search(corpus_store, "guest:hugo", limit=5)
    assert len(result.hits) == 5 and result.has_more
    # Newest episode first (practical-llm-engineering-and-rag, 2025), its passages in order.
    assert {h.episode_id for h in result.hits} == {"practical-llm-engineering-and-rag"}
    starts = [h.start for h in result.hits]
    assert starts == sorted(starts)
    later = await search(corpus_store, "after:2025-10-01", limit=3)
    rows = await corpus_store.fetchall("SELECT id, date FROM episodes")
    dates = {r["id"]: r["date"] for r in rows}
    assert later.hits and all(dates[h.episode_id] >= "2025-10-01" for h in later.hits)


async def test_filter_that_matches_nothing_says_so(corpus_store: Store) -> None:
    result = await search(corpus_store, "guest:nobodyatall metaflow")
    assert result.hits == () and "guest" in result.notices[0].lower()
    typo = await search(corpus_store, "guest:hugoo metaflow")
    assert typo.hits == () and "guest:hugo" in typo.notices[0]
    bad_date = await search(corpus_store, "argo scheduler after:someday")
    assert bad_date.hits and bad_date.notices


# -------------------------------------------------------------------------------- tolerance


async def test_typos_are_corrected_from_the_vocabulary(corpus_store: Store) -> None:
    result = await search(corpus_store, "tenserflow", limit=3)
    assert result.hits and all("tensorflow" in h.quote.lower() for h in result.hits)
    assert result.suggestion == "tensorflow"
    assert result.hits[0].matched_via == "as “tensorflow”"
    # Two corrections read as one phrase, not "as “tensorflow”; as “keras”".
    both = await search(corpus_store, "tenserflow kerass", limit=3)
    assert both.hits[0].matched_via == "as “tensorflow”, “keras”"


async def test_two_typos_in_a_long_word(corpus_store: Store) -> None:
    """Two edits in a twelve-letter word are corrected; and the passage that says it counts
    though "patient" is said only elsewhere in its (healthcare) episode, ranked below any
    passage saying both."""
    result = await search(corpus_store, "patient questionares", limit=10)
    assert result.suggestion == "patient questionnaires"
    found = [h for h in result.hits if "questionnaires" in h.quote.lower()]
    assert any(h.episode_id == "ai-in-healthcare-and-digital-therapeutics" for h in found)
    says_both = [bool(re.search(r"\bpatient", h.quote, re.I)) for h in result.hits]
    assert says_both == sorted(says_both, reverse=True)
    assert all("questionnaire" in h.quote.lower() for h in result.hits)


async def test_short_words_are_not_rewritten(corpus_store: Store) -> None:
    work = await search(corpus_store, "work", limit=10)
    assert work.hits and work.suggestion is None
    assert all(h.matched_via is None for h in work.hits)
    assert all(re.search(r"\bwork", h.quote, re.I) for h in work.hits)
    york = await search(corpus_store, "york", limit=10)
    assert york.hits and york.suggestion is None
    assert all("york" in h.quote.lower() for h in york.hits)
    # An unknown four-letter word is only suggested...
    argp = await search(corpus_store, "argp")
    assert argp.hits == () and argp.suggestion == "argo"
    # ...unless two letters are swapped, the one short typo safe to fix.
    assert (await search(corpus_store, "occupancy raet")).hits


async def test_honest_empty_result(corpus_store: Store) -> None:
    for query in ("sourdough bread recipe", "quantum entanglement teleportation", "xqzv blorf"):
        result = await search(corpus_store, query)
        assert result.hits == () and result.suggestion is None, query


async def test_common_word_does_not_flood_a_rare_term(corpus_store: Store) -> None:
    """Dask is mis-heard as "task" and "desk": they count only where the context says Dask."""
    result = await search(corpus_store, "dask", limit=10)
    assert result.hits
    for hit in result.hits:
        # devrel-captions: the same talk's captions stored alone, where Dask is heard as "task".
        assert "dask" in hit.quote.lower() or hit.episode_id in (DEVREL, "devrel-captions"), hit
    jupyter = await search(corpus_store, "jupyter", limit=10)
    asteroid = [h for h in jupyter.hits if "asteroid" in h.episode_id]
    assert asteroid
    assert all("jupyter" in h.quote.lower() or "notebook" in h.quote.lower() for h in asteroid)


async def test_speech_recognition_errors_in_the_query(corpus_store: Store) -> None:
    result = await search(corpus_store, "psychic learn course", limit=3)
    hit = result.hits[0]
    assert hit.episode_id == DEVREL and "Scikit Learn course" in hit.quote
    assert hit.matched_via == "as “scikit-learn”"
    meta = await search(corpus_store, "meta flow", limit=3)
    # The captions-only copy of the talk (devrel-captions) says "meta flow" as it was heard.
    said = [h.quote.lower().replace("meta flow", "metaflow") for h in meta.hits]
    assert said and all("metaflow" in quote for quote in said), said


async def test_speech_recognition_errors_in_the_captions(captions_store: Store) -> None:
    sk = await search(captions_store, "scikit-learn", limit=3)
    assert sk.hits and "psychic learn" in sk.hits[0].quote
    assert sk.hits[0].matched_via == "heard as “psychic learn”"
    for query, heard in (
        ("metaflow", "meta flow"),
        ("caret", "carrot"),
        ("tidyverse", "Tidy verse"),
    ):
        result = await search(captions_store, query, limit=5)
        assert any(
            heard in h.quote and h.matched_via == f"heard as “{heard.lower()}”" for h in result.hits
        ), query
    # "carrot" counts as caret only beside R words; "metaphor" only beside Metaflow's.
    carrot = await search(captions_store, "caret", limit=10)
    assert carrot.hits and all("vignettes" in h.quote for h in carrot.hits)


async def test_names_the_captions_split_around_a_short_token(corpus_store: Store) -> None:
    """Not in the glossary: "kdnuggets" heard as "KD nuggets", "pydata" as "Pi data" (a
    two-letter token spelled by sound), "towardsdatascience" as three words."""
    for query, heard in (
        ("kdnuggets", "KD nuggets"),
        ("pydata", "Pi data"),
        ("towardsdatascience", "towards data science"),
    ):
        result = await search(corpus_store, f"episode:devrel-captions {query}", limit=5)
        assert result.hits, query
        assert all(heard.lower() in h.quote.lower() for h in result.hits), query
        assert result.hits[0].matched_via == f"heard as “{heard.lower()}”", query


async def test_names_the_captions_spell_by_sound(corpus_store: Store) -> None:
    """ "Marc" heard as "Mark" (one Metaphone key); the typed spelling still counts first, and
    a word that only rhymes or starts with other sounds does not stand in."""
    result = await search(corpus_store, "Marc Andreessen sputnik moment", limit=3)
    assert result.hits
    first = result.hits[0]
    assert first.episode_id == "deepseek-r1-garage" and "Sputnik Moment by Mark" in first.quote
    assert (await search(corpus_store, "zzkubernetezz")).hits == ()
    # "sputnik" is in the transcripts: it is not widened to "splunk".
    sputnik = await search(corpus_store, "sputnik", limit=10)
    assert sputnik.hits and all("sputnik" in h.quote.lower() for h in sputnik.hits)


async def test_community_glossary_extends_the_builtin(
    captions_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The captions say "Ville toolos" for Ville Tuulos (Metaflow's creator, 19:55): found by
    sound alone, and by the whole name once an admin's glossary entry says so."""
    by_sound = await search(captions_store, "Ville Tuulos", limit=3)
    assert by_sound.hits and "Ville toolos" in by_sound.hits[0].quote
    assert by_sound.hits[0].matched_via == "sounds like “toolos”"
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("- term: Ville Tuulos\n  heard_as: [ville toolos]\n")
    monkeypatch.setenv("GLOSSARY_PATH", str(glossary))
    result = await search(captions_store, "Ville Tuulos", limit=3)
    assert result.hits and "Ville toolos" in result.hits[0].quote
    assert result.hits[0].matched_via == "heard as “ville toolos”"
    glossary.write_text("- term: [broken\n")  # a broken file is left out, search goes on
    assert (await search(captions_store, "scikit-learn")).hits


def test_glossary_errors_name_the_line() -> None:
    with pytest.raises(GlossaryError, match=r"g.yaml:3: unknown key 'heard-as'"):
        parse_glossary("- term: Metaflow\n  heard_as: [meta flow]\n  heard-as: [x]\n", "g.yaml")
    with pytest.raises(GlossaryError, match=r"g.yaml:1: entry has no 'term'"):
        parse_glossary("- heard_as: [x]\n", "g.yaml")
    with pytest.raises(GlossaryError, match=r"g.yaml:1: expected a list"):
        parse_glossary("term: x\n", "g.yaml")
    with pytest.raises(GlossaryError, match=r"g.yaml:\d+: not valid YAML"):
        parse_glossary("- term: x\n  heard_as: [a\n", "g.yaml")


# ------------------------------------------------------------------------------------ ranking


async def test_questions_and_names(corpus_store: Store) -> None:
    result = await search(corpus_store, "how did Hugo get into devrel?", limit=3)
    assert any(h.episode_id == DEVREL and 874 <= h.start < 1083 for h in result.hits)
    named = await search(corpus_store, "episode with Zhamak Dehghani", limit=1)
    assert named.hits[0].episode_id == "data-mesh-architecture-decentralized-data-products"


async def test_title_and_topic_match_lands_on_the_episode(corpus_store: Store) -> None:
    result = await search(corpus_store, "the episode about A/B testing", limit=3)
    assert result.hits[0].episode_id == "ab-testing-and-product-experimentation"


async def test_results_are_diverse(corpus_store: Store) -> None:
    result = await search(corpus_store, "kubernetes", limit=10)
    assert len({h.episode_id for h in result.hits[:3]}) >= 2
    ids = {}
    for h in result.hits:
        row = await corpus_store.fetchone("SELECT idx FROM passages WHERE id = ?", (h.passage_id,))
        ids.setdefault(h.episode_id, []).append(row["idx"])
    for idxs in ids.values():  # neighbouring passages of one moment collapse
        idxs.sort()
        assert all(b - a > 1 for a, b in zip(idxs, idxs[1:], strict=False))


async def test_republished_passage_shows_once(corpus_store: Store) -> None:
    """building-production-search-systems repeats 180 passages of another episode."""
    row = await corpus_store.fetchone(
        "SELECT a.text FROM passages a JOIN passages b ON a.text = b.text"
        " WHERE a.episode_id = 'building-production-search-systems'"
        " AND b.episode_id = 'production-ml-search-vector-search-embeddings-hybrid-search'"
        " AND length(a.text) > 200 ORDER BY a.idx LIMIT 1"
    )
    words = " ".join(row["text"].split()[:12])
    result = await search(corpus_store, words, limit=10)
    quotes = [h.quote for h in result.hits]
    assert result.hits and len(quotes) == len(set(quotes))
    assert sum(1 for q in quotes if q == quotes[0]) == 1


async def test_quotes_are_clean_sentences(corpus_store: Store) -> None:
    for query in ("laughs", "imposter syndrome", "feature store", "psychic learn"):
        for hit in (await search(corpus_store, query, limit=10)).hits:
            assert len(hit.quote) <= 301
            assert not re.search(r"\[(chuckles|laughs|cross-talk|inaudible)", hit.quote, re.I)
            assert not re.search(r"\b(um|uh) (um|uh)\b", hit.quote, re.I)


# -------------------------------------------------------------------------------- the cache


async def test_new_episode_is_searchable_once_the_cache_is_rebuilt(
    search_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(search_db, db)
    transcript = tmp_path / "zorbification.txt"
    transcript.write_text(
        "0:00 today we talk about zorbification pipelines\n0:05 zorbification is new\n"
    )
    async with await Store.open(db) as store:
        assert (await search(store, "zorbification")).hits == ()
        before = await search_cache(store)
        await ingest_file(store, transcript, overrides=EpisodeMeta(id="zorb", title="Zorb"))
        after = await wait_for_search_cache(store)
        found = await search(store, "zorbification")
        assert found.hits and found.hits[0].episode_id == "zorb"
        assert after is not before and "zorbification" in after.words


# -------------------------------------------------------------------------- the command line


def test_cli_json_shape_and_empty_result(search_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert (
        main(["search", "argo", "scheduler", "--json", "--limit", "2", "--db", str(search_db)]) == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2
    assert list(hits[0]) == [
        "episode_id", "episode_title", "start", "end", "speaker", "quote", "url", "score"
    ]  # fmt: skip
    assert hits[0]["episode_id"] == DEVREL and "&t=" in hits[0]["url"]
    assert main(["search", "xqzv", "blorf", "--json", "--db", str(search_db)]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_cli_readable_list(search_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "argo scheduler", "--limit", "1", "--db", str(search_db)]) == 0
    out = capsys.readouterr().out
    # Aligned to the captions and entered at the clause that holds the words: 14:20-14:25.
    assert re.search(r"Hugo, 14:2[0-5] ", out) and "Argo scheduler" in out and "&t=8" in out
    assert main(["search", "argp", "--db", str(search_db)]) == 0
    out = capsys.readouterr().out
    assert "Nothing found" in out and "argo" in out


def test_cli_checks_the_glossary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "glossary.yaml"
    good.write_text("- term: Ville Tuulos\n  heard_as: [ville toolos]\n")
    assert main(["glossary", "--file", str(good)]) == 0
    assert "Ville Tuulos: heard as ville toolos" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("- term: x\n  heard-as: [y]\n")
    monkeypatch.setenv("GLOSSARY_PATH", str(bad))
    assert main(["glossary"]) == 1
    assert f"{bad}:2: unknown key 'heard-as'" in capsys.readouterr().err


def test_cli_refuses_a_bad_limit(search_db: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["search", "argo", "--limit", "0", "--db", str(search_db)])
    assert exit_.value.code == 2
    assert "from 1 to 50" in capsys.readouterr().err


async def test_captions_only_quotes_start_at_the_line_of_the_first_matched_word(
    corpus_store: Store,
) -> None:
    """A captions-only episode's quote starts where its first matched word is said (its link
    is built from that start), not at the first line of its passage (seed captions stored
    alone: devrel-captions)."""
    lines = [ln.split(" ", 1) for ln in SEED.read_text(encoding="utf-8").splitlines() if ln]
    for query, word in (("Edward Bernays", "bernays"), ("Twin Peaks", "peaks")):
        said = [t for t, text in lines if re.search(rf"\b{word}\b", text.lower())]
        assert len(said) == 1, word  # one line says it: the yardstick is unambiguous
        minutes, seconds = said[0].split(":")
        second = int(minutes) * 60 + int(seconds)
        result = await search(corpus_store, f"episode:devrel-captions {query}", limit=3)
        assert result.hits, query
        hit = result.hits[0]
        assert hit.episode_id == "devrel-captions" and word in hit.quote.lower()
        assert hit.start == second, (hit.start, second)


# ------------------------------------------------------------ ranking mechanisms, small stores


async def add_talks(
    store: Store, tmp_path: Path, talks: dict[str, list[str]], guests: tuple[str, ...] = ()
) -> None:
    """Small edited episodes, one passage per line (two speakers take turns, so lines stay
    apart); ``guests`` are the first episode's guests, and speak its even lines."""
    for n, (episode_id, lines) in enumerate(talks.items()):
        speaker = guests[0].split()[0] if guests and n == 0 else "Ann"
        data = {
            "title": episode_id.replace("-", " "),
            "transcript": [
                {"line": text, "sec": 20 * i, "who": speaker if i % 2 == 0 else "Bob"}
                for i, text in enumerate(lines)
            ],
        }
        path = tmp_path / f"{episode_id}.md"
        path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n")
        meta = EpisodeMeta(id=episode_id, title=data["title"], guests=guests if n == 0 else ())
        outcome = await ingest_file(store, path, overrides=meta)
        assert outcome.status == "added", outcome.describe()
    await refresh_search_vocabulary(store)
    await wait_for_search_cache(store)


async def test_quoted_phrase_is_looked_up_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quoted phrase with stop words at its edges is looked up as written: "who tests what"
    is rare though "tests" is everywhere, and -"the argo" leaves out only that phrase."""
    decoys = [f"Tests, tests and tests number {i}." for i in range(16)]
    await add_talks(
        store,
        tmp_path,
        {
            "coverage": [*decoys, "His talk was titled who tests what, about code coverage."],
            "argo": ["Argo runs the scheduler for us at night.", "We moved to the argo scheduler."],
        },
    )
    monkeypatch.setattr(engine, "POOL", 2)  # fewer candidates than passages saying "tests"
    phrase = await search(store, '"who tests what"', limit=1)
    assert [h.quote for h in phrase.hits] == [
        "His talk was titled who tests what, about code coverage."
    ]
    left = await search(store, 'scheduler -"the argo"', limit=5)
    assert [h.quote for h in left.hits] == ["Argo runs the scheduler for us at night."]


async def test_an_optional_word_before_a_required_one_counts_it_once(
    store: Store, tmp_path: Path
) -> None:
    """ "tell kafka" and "kafka tell" are one query: the word "tell" standing first must not
    make the title's "kafka" count a second time for a passage that says it."""
    await add_talks(
        store,
        tmp_path,
        {
            "kafka-at-scale": ["We run kafka on three clusters.", "Nothing to see here."],
            "other": ["Streams and queues, but no brokers.", "Another line of talk."],
        },
    )
    first = await search(store, "tell kafka", limit=1)
    last = await search(store, "kafka tell", limit=1)
    assert first.hits and last.hits
    assert first.hits[0].passage_id == last.hits[0].passage_id
    assert first.hits[0].score == last.hits[0].score


async def test_degrees_of_a_y_adjective_stem_together(store: Store, tmp_path: Path) -> None:
    """ "heavy" finds "heavier" and "heaviest" (the stemmer keeps them apart); a -y verb's
    agent noun is not its comparative: "carry" does not find "carrier"."""
    await add_talks(
        store,
        tmp_path,
        {
            "devices": [
                "The new device is heavier than the old one.",
                "The carrier lost two parcels last week.",
                "This is the heaviest collar we ever shipped.",
                "Then you carry them by hand, as we carried them before.",
            ]
        },
    )
    heavy = await search(store, "heavy", limit=5)
    assert {h.quote for h in heavy.hits} == {
        "The new device is heavier than the old one.",
        "This is the heaviest collar we ever shipped.",
    }
    carry = await search(store, "carry", limit=5)
    assert carry.hits and all("carrier" not in h.quote for h in carry.hits)


async def test_words_said_by_the_next_passage_count_for_less(store: Store, tmp_path: Path) -> None:
    """Captions cut a sentence where they like: a passage whose neighbour says the rest of
    the query is found, below one that says it all."""
    await add_talks(
        store,
        tmp_path,
        {
            "coffee": [
                "Like when a roomba gets into trouble in the kitchen.",
                "Is that in fantasia or the sword in the stone?",
                "Something else entirely about breakfast and tea.",
            ],
            "tea": [
                "A roomba gets into trouble in the kitchen.",
                "Breakfast, then more tea and more talk.",
                "Nothing here at all about that, honestly.",
                "I watched fantasia as a child, twice over.",
            ],
            "films": ["A roomba dancing to fantasia music would be a sight to see."],
        },
    )
    result = await search(store, "roomba fantasia", limit=10)
    # "tea" says fantasia too, but far from its roomba: that counts for less again.
    assert [h.episode_id for h in result.hits][:3] == ["films", "coffee", "tea"]
    assert result.hits[0].score > result.hits[1].score > result.hits[2].score


async def test_a_named_guests_episodes_are_searched_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "What did Sofya say about...": every passage of her episode competes, not only those
    the index ranks first; and the one saying the question's words in a row comes first."""
    await add_talks(
        store,
        tmp_path,
        {
            "pet-sensors": [
                "The information always came late to us, sadly.",
                "What did you do then?",
                "You accept that you will not have all the information when you decide.",
            ],
            "noise": [f"Information, information, information {i}." for i in range(40)],
        },
        guests=("Sofya Yulpatova",),
    )
    monkeypatch.setattr(engine, "POOL", 2)  # fewer candidates than passages saying it
    result = await search(store, "What did Sofya say about not having all the information?")
    assert result.hits[0].quote.startswith("You accept that you will not have all the info")


async def test_sound_alikes_within_the_episodes_chosen(store: Store, tmp_path: Path) -> None:
    """Within an episode the member chose, a word it never says is looked for by its sound
    ("parquet" said as "parque"), and a glossary mis-hearing ("dusk" for Dask) needs no
    context word when the episode says the term plainly elsewhere; not so everywhere."""
    await add_talks(
        store,
        tmp_path,
        {
            "captions": [
                "We went from parque through to iceberg tables.",
                "The quilt is the company behind dusk, you know.",
                "Right, I see.",
                "Before that I worked at coiled on dask for years.",
            ],
            "edited": [
                "Parquet files everywhere.",
                "Parquet is columnar.",
                "Parquet and iceberg tables.",
            ],
        },
    )
    sounds = await search(store, "episode:captions parquet iceberg", limit=3)
    assert sounds.hits[0].quote == "We went from parque through to iceberg tables."
    assert sounds.hits[0].matched_via == "sounds like “parque”"
    heard = await search(store, "episode:captions coiled dask company", limit=3)
    assert any(
        "heard as" in (h.matched_via or "") and "“dusk”" in h.matched_via for h in heard.hits
    )
    everywhere = await search(store, "coiled dask company", limit=3)
    assert everywhere.hits
    assert not any("“dusk”" in (h.matched_via or "") for h in everywhere.hits)
