"""Quotes: where a quote starts when the matched words come late in a long sentence."""

from __future__ import annotations

from storage.search.quotes import make_quote

WIND_UP = (
    "Yeah. I think something I showed on the demo spotlight the other day was that we "
    "integrate with the Argo scheduler, so you can ship models. So we support a lot."
)


def test_late_match_enters_the_sentence_at_a_clause_break() -> None:
    at = WIND_UP.index("Argo")
    words = WIND_UP.split()
    times = [100.0 + i for i in range(len(words))]  # one word a second
    quote = make_quote(WIND_UP, [(at, at + 4)], 100.0, 100.0 + len(words), word_times=times)
    assert quote.text.startswith("…we integrate with the Argo scheduler")
    assert quote.start == 100.0 + words.index("we")
    assert "So we support a lot." in quote.text


def test_early_match_keeps_the_whole_sentence() -> None:
    at = WIND_UP.index("demo")
    words = WIND_UP.split()
    times = [100.0 + i / 3 for i in range(len(words))]  # fast speech: the match is near
    quote = make_quote(WIND_UP, [(at, at + 4)], 100.0, 110.0, word_times=times)
    assert quote.text.startswith("I think something I showed")
    assert quote.start == round(times[1], 2)
