"""Every kind of message the bot sends, at its largest, against Slack's limits; and escaping."""

from __future__ import annotations

import json

import pytest

from handlers.commands import HELP_SYNTAX, clean_query
from handlers.render import (
    HelpLine,
    Message,
    clip,
    decode_value,
    encode_value,
    escape,
    link,
    render_answer,
    render_episode,
    render_help,
    render_latest,
    render_nothing_found,
    render_notice,
    render_results,
    render_shared,
)
from storage.models import Chapter, Episode, Hit, SearchResult
from storage.search.query import parse_query
from tests.slack_api import block_kit_problems

NASTY = '<!channel> & <@U123> <https://evil.example|click> "quoted" \\ back > '
PINGS = ("<!channel>", "<@U123>", "<https://evil.example")


def long_text(n: int) -> str:
    return (NASTY + "word " * 20) * (n // (len(NASTY) + 100) + 1)


def big_hit(i: int) -> Hit:
    return Hit(
        episode_id=f"episode-{i}-" + "x" * 240,
        episode_title=f"Title {i} " + long_text(2000),
        start=3600 * 3 + i,
        end=3600 * 3 + i + 30,
        speaker="Speaker " + long_text(500),
        quote=long_text(20000),
        url="https://www.youtube.com/watch?v=z7BvslwVRbQ&t=10s",
        score=1.0,
        chapter="Chapter " + long_text(1000),
        passage_id=i,
        matched_via="heard as “psychic learn” " + long_text(500),
    )


def big_episode(i: int = 0) -> Episode:
    return Episode(
        id=f"episode-{i}-" + "y" * 200,
        title=f"Episode {i} " + long_text(1000),
        guests=tuple(f"Guest {g} " + long_text(200) for g in range(50)),
        date="2026-11-27",
        duration=3 * 3600 + 17,
        url="https://www.youtube.com/watch?v=z7BvslwVRbQ",
        links={f"link{n}": f"https://example.com/{n}?a=1&b=2" for n in range(20)},
        topics=("MLOps",) * 10,
        season=24,
        number=i,
        description=long_text(10000),
        chapters=tuple(Chapter("Chapter " + long_text(300), c * 30.0) for c in range(500)),
        source_path="/x.md",
        source_format="markdown",
        timing="as-given",
        ingested_at="2026-11-27T00:00:00+00:00",
    )


QUERY = clean_query(long_text(5000))
HITS = tuple(big_hit(i) for i in range(40))


def every_message() -> dict[str, Message]:
    notices = tuple(long_text(1000) for _ in range(8))
    result = SearchResult(QUERY, HITS, suggestion=long_text(1000), has_more=True, notices=notices)
    empty = SearchResult(QUERY, (), suggestion=long_text(1000), notices=notices)
    lines = [
        HelpLine("cmd" + long_text(300), "help " + long_text(500), (long_text(200),) * 5)
        for _ in range(40)
    ]
    return {
        "results": render_results(result, page=1000, per_page=3, command="/episodes"),
        "results, first page": render_results(result, page=0, per_page=3, command="/episodes"),
        "nothing found": render_nothing_found(empty, command="/episodes"),
        "nothing found, no suggestion": render_nothing_found(
            SearchResult(QUERY, ()), command="/episodes"
        ),
        "no more pages": render_results(
            SearchResult(QUERY, ()), page=5, per_page=3, command="/episodes"
        ),  # fmt: skip
        "answer": render_answer(result, command="/episodes"),
        "answer, nothing": render_answer(empty, command="/episodes"),
        "shared": render_shared(HITS[0], sharer="Ana <b> & co", query="argo"),
        "shared, no quote": render_shared(
            Hit("e", "t", 1.0, 1.0, None, "", None, 0.0), sharer=None
        ),
        "episode card": render_episode(big_episode()),
        "episode card, shared": render_episode(big_episode(), sharer="Ana", shared=True),
        "latest": render_latest([big_episode(i) for i in range(100)], command="/episodes"),
        "latest, none": render_latest([], command="/episodes"),
        "help": render_help("/episodes", lines),
        "help, query language": render_help(
            "/episodes", lines, syntax=[(long_text(200), long_text(300))] * 30
        ),
        "notice": render_notice(escape(long_text(10000))),
    }


@pytest.mark.parametrize("name", list(every_message()))
def test_largest_messages_fit_slack_limits(name: str) -> None:
    message = every_message()[name]
    payload = message.payload()
    assert block_kit_problems(payload) == [], name
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False
    assert len(message.text) <= 3000
    for button in message.buttons():
        assert len(button.get("value", "")) <= 2000
        decode_value(button.get("value"))  # round-trips as JSON


@pytest.mark.parametrize("name", list(every_message()))
def test_user_and_transcript_text_never_pings(name: str) -> None:
    message = every_message()[name]
    shown = [message.text]

    def collect(node) -> None:  # noqa: ANN001 - mrkdwn is parsed for pings, plain_text isn't
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                shown.append(node["text"])
            for key, value in node.items():
                if key != "value":
                    collect(value)
        elif isinstance(node, list | tuple):
            for value in node:
                collect(value)

    collect(list(message.blocks))
    for text in shown:
        for ping in PINGS:
            assert ping not in text, (name, text[:200])


def test_escape_and_links() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert link("https://x.example/a?b=1&c=2", "14:22") == "<https://x.example/a?b=1&c=2|14:22>"
    assert link("https://x.example/a|b>c", "x") == "<https://x.example/a%7Cb%3Ec|x>"
    assert link("javascript:alert(1)", "x") == "x"
    assert link(None, "x") == "x"


def test_clip_at_a_word_boundary() -> None:
    assert clip("one two three four", 12) == "one two…"
    assert clip("short", 10) == "short"
    assert len(clip("x" * 100, 10)) <= 10


def test_button_value_clips_a_long_query_to_fit() -> None:
    value = encode_value({"e": "episode", "s": 1.5, "q": '"\\' * 3000, "p": 0, "i": 0})
    assert len(value) <= 2000
    fields = json.loads(value)
    assert fields["e"] == "episode" and fields["q"].startswith('"\\')


def test_button_value_too_long_without_a_query_fails_loudly() -> None:
    episode_id = "e" * 2500
    with pytest.raises(ValueError, match="over Slack's 2000"):
        encode_value({"e": episode_id})
    with pytest.raises(ValueError, match="over Slack's 2000"):
        encode_value({"e": episode_id, "q": "argo workflows", "p": 0})
    assert len(encode_value({"e": "e" * 1900, "q": "argo " * 100})) <= 2000


def test_clean_query_reads_slack_markup_as_words() -> None:
    assert clean_query("<!channel> <@U123|alice> see <https://x.example|docs>") == (
        "@channel alice see docs"
    )
    assert clean_query("&lt;b&gt; &amp; c") == "<b> & c"
    assert len(clean_query("word " * 1000)) <= 500


def test_matched_via_and_suggestion_are_shown() -> None:
    hit = Hit("e", "Title", 862, 870, "Vincent", "It's pipeline-compatible with Psychic Learn.",
              "https://www.youtube.com/watch?v=IxV9EH-tphQ&t=862s", 1.0, chapter="Tools",
              matched_via="heard as “psychic learn”")  # fmt: skip
    result = SearchResult("scikit-learn", (hit,), suggestion="scikit learn")
    message = render_results(result, page=0, per_page=3, command="/episodes")
    shown = json.dumps(message.payload(), ensure_ascii=False)
    assert "heard as “psychic learn”" in shown
    assert "<https://www.youtube.com/watch?v=IxV9EH-tphQ&t=862s|▶ 14:22>" in shown
    assert "*Vincent*" in shown and "_Tools_" in shown
    # Hits found through a corrected word say which words were used, not "did you mean".
    assert "showing results for *scikit learn*" in shown and "Did you mean" not in shown
    # ...at the top, in the first line, which names the words the results are for
    assert message.blocks[0]["elements"][0]["text"].startswith(
        "Quote 1 · showing results for *scikit learn*"
    )
    nothing = render_nothing_found(SearchResult("argoo", (), suggestion="argo"), command="/ep")
    assert "Did you mean *argo*?" in nothing.blocks[0]["text"]["text"]
    [suggest, _dismiss] = nothing.buttons()
    assert decode_value(suggest["value"]) == {"q": "argo", "p": 0}


def test_notices_are_shown_escaped_wherever_results_are() -> None:
    notice = "No guest matches “hugoo”. Did you mean guest:hugo? <!channel>"
    hit = Hit("e", "Title", 1.0, 2.0, None, "a quote", None, 1.0)
    found = SearchResult("argo guest:hugoo", (hit,), notices=(notice,))
    empty = SearchResult("argo guest:hugoo", (), notices=(notice,))
    escaped = "No guest matches “hugoo”. Did you mean guest:hugo? &lt;!channel&gt;"
    for message in (
        render_results(found, page=0, per_page=3, command="/episodes"),
        render_nothing_found(empty, command="/episodes"),
        render_answer(found, command="/episodes"),
        render_answer(empty, command="/episodes"),
    ):
        contexts = [
            e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]
        ]
        assert any(escaped in text for text in contexts), message.blocks
        assert escaped in message.text  # the fallback too


def test_help_explains_the_query_language() -> None:
    message = render_help("/episodes", [HelpLine("help", "this message")], syntax=HELP_SYNTAX)
    shown = "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    assert len(HELP_SYNTAX) >= 7  # phrase, -word, guest:, speaker:, episode:, after:, before:
    for example, meaning in HELP_SYNTAX:
        assert escape(example) in shown and meaning in shown
    # Each example really is that part of the language.
    parsed = [parse_query(example) for example, _ in HELP_SYNTAX]
    assert [t.kind for t in parsed[0].terms] == ["phrase"]
    assert [t.negated for t in parsed[1].terms] == [True]
    f = [p.filters for p in parsed[2:]]
    assert f[0].guest and f[1].speaker and f[2].episode and f[3].dates.start and f[4].dates.end


def test_one_clock_for_slack_and_the_command_line() -> None:
    import bot.cli
    import handlers.render
    from storage.clock import clock

    assert bot.cli.clock is handlers.render.clock is clock
    assert (clock(862), clock(3723), clock(59.9), clock(-3)) == ("14:22", "1:02:03", "0:59", "0:00")
