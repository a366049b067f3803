"""The views stay within Slack's limits whatever the catalogue holds (tests/slack_api.py
view_problems is the stand-in's own check)."""

from __future__ import annotations

from handlers.views import (
    Example,
    FormSearch,
    HomeContent,
    render_home,
    render_search_form,
    render_search_results,
)
from storage.activity import SharedQuote
from storage.catalogue import CatalogueSummary, EpisodeChoice
from storage.models import Episode, EpisodeTiming, Hit, SearchResult
from tests.slack_api import as_opened, view_problems

LONG = "<!channel> & *bold* " * 400  # 8,000 characters of markup that must stay inert


def episode(i: int) -> Episode:
    return Episode(
        id=f"ep-{i}-" + "x" * 200, title=LONG, guests=tuple(f"Guest {n} {LONG[:60]}" for n in
        range(1000)), date="2025-01-01", duration=3600.0, url="https://youtu.be/abc?x=" + "y" *
        600, links={}, topics=(), season=None, number=None, description=LONG, chapters=(),
        source_path="x.md", source_format="markdown", timing=EpisodeTiming.INTERPOLATED,
        ingested_at="2025-01-01T00:00:00+00:00",
    )  # fmt: skip


def mrkdwn(node: object) -> list[str]:
    """Every mrkdwn text in a view (plain_text and button values are never parsed)."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for v in node.values() for t in mrkdwn(v)]
    if isinstance(node, list):
        return [t for v in node for t in mrkdwn(v)]
    return []


def test_home_view_is_valid_for_huge_and_hostile_content() -> None:
    shared = [SharedQuote("e", LONG, 61.0, LONG, LONG, None, 10**6) for _ in range(50)]
    home = HomeContent(
        summary=CatalogueSummary(10**6, 10_000.0, "2025-01-01"),
        newest=[episode(i) for i in range(50)],
        shared=shared,
        examples=[Example(LONG, LONG) for _ in range(10)],
        recent=[LONG] * 50,
    )
    view = render_home(home)
    assert view_problems(view) == []
    assert "<!channel>" not in str(mrkdwn(view))  # escaped wherever Slack reads markup


def test_empty_catalogue_home_says_how_to_start() -> None:
    view = render_home(HomeContent(summary=CatalogueSummary(0, 0.0, None)))
    assert view_problems(view) == [] and "python -m bot ingest" in str(view)


def test_form_and_results_are_valid_at_the_limits() -> None:
    choices = [EpisodeChoice(f"id-{i}", LONG, "2024-02-02", ()) for i in range(100)]
    form = FormSearch(words=LONG, guest="G" * 140, episode="id-3", episode_title=LONG,
                      after="2023-01-01", before="2024-01-01", channel="C1")  # fmt: skip
    static = render_search_form(form, guests=[f"{LONG[:200]}{i}" for i in range(100)],
                                episodes=choices)  # fmt: skip
    typed = render_search_form(form)  # more than 100 of each: menus that load as one types
    hits = tuple(
        Hit("e" * 100, LONG, 1.0 * i, 2.0, LONG, LONG, "https://youtu.be/a", 1.0, LONG)
        for i in range(50)
    )
    results = render_search_results(
        SearchResult(LONG, hits, LONG, True, (LONG,) * 9), FormSearch(words=LONG, page=999),
        note=":white_check_mark: Posted.",
    )  # fmt: skip
    for view in (static, typed, results):
        assert view_problems(as_opened(view)) == [], view_problems(as_opened(view))
        assert len(view["private_metadata"]) <= 3000
    assert FormSearch.from_metadata(static["private_metadata"]).episode == "id-3"
    assert FormSearch.from_metadata('{"page": "1; DROP"}') is None
