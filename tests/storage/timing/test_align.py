"""The alignment algorithm (storage/timing/align.py): small cases, the real caption/edited pair."""

from __future__ import annotations

import statistics

import pytest

from storage.ingest.formats import captions, markdown
from storage.text import word_tokens
from storage.timing.align import align, match_tokens, phrase_matches, tokenise
from storage.timing.passages import segment_words, word_times
from tests.conftest import DEVREL, PODCAST, SEED


def words_of(segments) -> list[str]:  # noqa: ANN001
    return [w for ws in segment_words(segments) for w in ws]


@pytest.fixture(scope="module")
def pair():
    """(edited segments, edited words, caption segments, caption words, caption word times)."""
    if not SEED.is_file() or not DEVREL.is_file():
        pytest.skip("the corpus is not beside the checkout")
    edited = markdown.parse(DEVREL.read_text(encoding="utf-8"), DEVREL).segments
    caps = captions.parse(SEED.read_text(encoding="utf-8"), SEED).segments
    return edited, words_of(edited), caps, words_of(caps), word_times(caps, "captions")


def test_tokens_ignore_case_punctuation_and_hyphens() -> None:
    assert word_tokens("Open-Source,") == ["open", "source"]
    assert word_tokens("Café's") == ["cafe", "s"]
    assert word_tokens("—") == []
    tokens, owner = tokenise(["A/B", "testing."])
    assert tokens == ["a", "b", "testing"] and owner == [0, 0, 1]


def test_matching_survives_misheard_edited_and_dropped_words() -> None:
    edited = "we integrate with the Argo scheduler, so you can push models with Metaflow".split()
    heard = "uh we integrate with uh the Argo scheduler so when you want to push your models "
    heard += "with metaphor"
    a, _ = tokenise(edited)
    b, _ = tokenise(heard.split())
    pairs = match_tokens(a, b)
    assert pairs and pairs == sorted(pairs)
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(j1 > j0 for (_, j0), (_, j1) in zip(pairs, pairs[1:], strict=False))
    matched = {a[i] for i, _ in pairs}
    assert {"argo", "scheduler", "push", "models"} <= matched
    assert "metaflow" not in matched  # heard as "metaphor": left to interpolation


def test_unmatched_words_are_placed_between_their_matched_neighbours() -> None:
    caption_words = "so we use argo here and then later on we deploy".split()
    caption_times = [10.0 + k for k in range(len(caption_words))]
    edited = "So we use Argo. Here, and um... later we deploy.".split()
    result = align(edited, caption_words, caption_times)
    times = dict(zip(edited, result.times, strict=True))
    assert times["So"] == 10.0 and times["Argo."] == 13.0 and times["deploy."] == 20.0
    assert 15.0 < times["um..."] < 17.0  # not in the captions: between "and" and "later"
    assert list(result.times) == sorted(result.times)


def test_words_outside_the_captions_keep_their_own_times_shifted() -> None:
    """Captions of the first part only: the rest keeps the transcript's times, continuously."""
    edited = ("alpha beta gamma delta epsilon zeta eta theta iota kappa " * 3).split()
    edited += "lambda mu nu xi omicron".split()
    own = [100.0 + 2 * k for k in range(len(edited))]
    caption_words = edited[:30]
    caption_times = [105.0 + 2 * k for k in range(30)]  # the transcript is 5 s early
    result = align(edited, caption_words, caption_times, fallback=own)
    assert result.times[:30] == tuple(caption_times)
    assert result.times[30:] == tuple(t + 5.0 for t in own[30:])
    assert result.first == 0 and result.last == 29


def test_align_rejects_a_time_list_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="one time per caption word"):
        align(["a"], ["a", "b"], [1.0])


def test_real_pair_aligns_fast_and_densely(pair) -> None:  # noqa: ANN001
    edited, edited_words, _, cap_words, cap_times = pair
    result = align(edited_words, cap_words, cap_times, word_times(edited, "edited"))
    assert result.usable and result.coverage > 0.85
    assert len(result.times) == len(edited_words)
    assert all(b >= a for a, b in zip(result.times, result.times[1:], strict=False))


def test_real_pair_quote_starts_land_on_the_caption_second(pair) -> None:  # noqa: ANN001
    """Caption lines (5+ words) found once in the edited text: the time given to the edited word
    where the line starts is the caption line's time. Interpolation alone is measurably worse."""
    edited, edited_words, caps, cap_words, cap_times = pair
    result = align(edited_words, cap_words, cap_times, word_times(edited, "edited"))
    found = phrase_matches([seg.text.split() for seg in caps], edited_words)
    assert len(found) > 300
    errors = sorted(abs(result.times[w] - caps[k].start) for k, w in found)
    interpolated = word_times(edited, "edited")
    before = sorted(abs(interpolated[w] - caps[k].start) for k, w in found)
    p90 = errors[int(0.9 * len(errors))]
    assert statistics.median(errors) <= 3.0 and p90 <= 10.0
    assert statistics.median(errors) < statistics.median(before)
    assert p90 < before[int(0.9 * len(before))]


def test_lines_cut_from_the_captions_are_still_placed_by_interpolation(pair) -> None:  # noqa: ANN001
    """The honest case: words the captions do not have (here, whole caption lines removed before
    aligning) are timed only by the matched words around them."""
    edited, edited_words, caps, _, _ = pair
    found = phrase_matches([seg.text.split() for seg in caps], edited_words)
    held = {k for k, _ in found[::5]}
    kept = [seg for i, seg in enumerate(caps) if i not in held]
    result = align(edited_words, words_of(kept), word_times(kept, "captions"))
    errors = sorted(abs(result.times[w] - caps[k].start) for k, w in found if k in held)
    assert len(errors) > 50
    assert statistics.median(errors) <= 3.0 and errors[int(0.9 * len(errors))] <= 10.0


def test_captions_of_another_episode_are_not_usable(pair) -> None:  # noqa: ANN001
    _, _, _, cap_words, cap_times = pair
    for name in ("ab-testing-and-product-experimentation.md", "dataops-for-data-engineering.md"):
        other = markdown.parse((PODCAST / name).read_text(encoding="utf-8"), PODCAST / name)
        result = align(words_of(other.segments), cap_words, cap_times)
        assert not result.usable, (name, result.coverage)
        assert result.coverage < 0.1


def test_captions_of_part_of_the_recording_are_usable(pair) -> None:  # noqa: ANN001
    edited, edited_words, caps, _, _ = pair
    part = caps[: len(caps) // 4]
    own = word_times(edited, "edited")
    result = align(edited_words, words_of(part), word_times(part, "captions"), own)
    assert result.usable and result.coverage < 0.4
    # Past the captions' end the transcript's own times carry on, never going back.
    tail = result.times[result.last :]
    assert list(tail) == sorted(tail)
    assert abs((result.times[-1] - own[-1]) - (result.times[result.last] - own[result.last])) < 0.01


def test_phrase_matches_needs_a_unique_run_of_enough_words() -> None:
    stream = "so the argo scheduler works and the argo scheduler rocks today".split()
    assert phrase_matches([["the", "Argo", "scheduler"]], stream, 3) == []  # twice
    assert phrase_matches([["Argo", "scheduler", "works,"]], stream, 3) == [(0, 2)]
    assert phrase_matches([["scheduler", "works"]], stream, 3) == []  # too short


def test_alignment_is_deterministic(pair) -> None:  # noqa: ANN001
    _, edited_words, _, cap_words, cap_times = pair
    assert align(edited_words, cap_words, cap_times) == align(edited_words, cap_words, cap_times)
