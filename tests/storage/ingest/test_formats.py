"""Each transcript format on the real files in the corpus: speakers, start seconds, known text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage.ingest.formats import FORMATS, detect
from storage.ingest.pipeline import parse_file
from storage.ingest.sources import read_text
from storage.models import Transcript
from storage.timing.passages import build_passages, word_times
from tests.conftest import FORMATS as FORMATS_DIR
from tests.conftest import SEED


def parse(path: Path, fmt: str | None = None) -> Transcript:
    return parse_file(path, read_text(path)[0], fmt)


def seg_with(t: Transcript, words: str):
    return next(s for s in t.segments if words in s.text)


# --- WebVTT ------------------------------------------------------------------------------------


def test_vtt_talk_python_cues(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "vtt" / "000_tptm_introducing_the_show.vtt")
    assert (t.format, t.kind, len(t.segments)) == ("vtt", "captions", 52)
    first = t.segments[0]
    assert first.start == pytest.approx(0.001) and first.end == pytest.approx(6.44)
    assert first.text.startswith("Talk Python To Me, episode number zero")
    host = seg_with(t, "This is your host, Michael Kennedy.")
    assert host.start == pytest.approx(39.8) and host.speaker is None


def test_vtt_speaker_change_dashes_split_one_cue_into_turns(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "vtt" / "467-pycon-data-sci-panel.vtt")
    bye, bye2 = t.segments[-2:]
    # '- Bye, everyone. - Bye.' is one cue from 30:51.320 to 30:52.160: two speakers.
    assert (bye.text, bye2.text) == ("- Bye, everyone.", "- Bye.")
    assert bye.start == pytest.approx(1851.32) and bye2.end == pytest.approx(1852.16)
    assert bye.start < bye2.start < bye2.end
    passages = build_passages(t.segments, t.kind)
    # Each turn is its own passage; the dash itself is not quoted.
    assert [p.text for p in passages[-2:]] == ["Bye, everyone.", "Bye."]
    agree = next(p for p in passages if "I completely agree with both of you" in p.text)
    assert agree.text.startswith("Yeah, I completely agree")


def test_vtt_voice_tags_notes_styles_settings_and_entities(tmp_path: Path) -> None:
    path = tmp_path / "panel.vtt"
    path.write_text(
        "WEBVTT - a panel\nKind: captions\nLanguage: en\n\n"
        "STYLE\n::cue { color: yellow }\n\n"
        "NOTE this block is a comment\nspanning two lines\n\n"
        "intro\n00:00:01.000 --> 00:00:04.000 align:start position:10%\n"
        "<v Ana Lima>Feature stores &amp; <i>online</i> serving</v>\n\n"
        "00:04.000 --> 00:07.500\n<v.loud Ben>Tell me more.\n\n"
        "3\n00:00:07.500 --> 00:00:09.000\n<v Ana Lima>Sure.</v> <v Ben>Great.</v>\n",
        encoding="utf-8",
    )
    t = parse(path)
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("Ana Lima", "Feature stores & online serving"),
        ("Ben", "Tell me more."),
        ("Ana Lima", "Sure."),
        ("Ben", "Great."),
    ]
    assert [s.start for s in t.segments[:2]] == [1.0, 4.0]
    # Two voices in one 1.5 s cue share it by length.
    assert t.segments[2].start == 7.5 and 7.5 < t.segments[3].start < 9.0


def test_vtt_youtube_rolling_captions_are_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "auto.vtt"
    path.write_text(
        "WEBVTT\nKind: captions\n\n"
        "00:00:00.000 --> 00:00:02.000 align:start position:0%\n"
        "so<00:00:00.500><c> feature</c><00:00:01.000><c> stores</c>\n\n"
        "00:00:02.000 --> 00:00:02.010 align:start position:0%\nso feature stores\n\n"
        "00:00:02.010 --> 00:00:04.000 align:start position:0%\n"
        "so feature stores\nkeep<00:00:02.500><c> features</c>\n",
        encoding="utf-8",
    )
    t = parse(path)
    assert [s.text for s in t.segments] == ["so feature stores", "keep features"]
    assert t.segments[1].start == pytest.approx(2.01)


# --- SRT ---------------------------------------------------------------------------------------


def test_srt_messy_handmade_file_speakers_and_times(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "srt" / "1_0.srt")
    assert t.format == "srt"
    first, second = t.segments[:2]
    assert (first.speaker, first.text, first.start) == (
        "Bekah Hawrot Weigel",
        "Hey, I'm Bekah.",
        3.45,
    )
    assert (second.speaker, second.text, second.start) == ("Dan Ott", "And I'm Dan.", 4.74)
    # 'Bekah:' later is the same speaker as 'Bekah Hawrot Weigel:'.
    assert seg_with(t, "And this is the Virtual Coffee Podcast").speaker == "Bekah Hawrot Weigel"
    # A speaker carries over to the next cues until another label.
    assert seg_with(t, "I can create a modal").speaker == "Marie Antons"
    # Cue 41 starts before cue 40 ends (1:47.000 < 1:47.969): kept, not an error.
    kirk = seg_with(t, "Hacktoberfest happened because")
    assert kirk.speaker == "Kirk Shillingford" and kirk.start == 107.0
    passages = build_passages(t.segments, t.kind)
    assert len(passages) > 1
    assert all(b.start >= a.start for a, b in zip(passages, passages[1:], strict=False))


def test_srt_malformed_times_missing_blank_lines_and_speakers_in_one_cue(tmp_path: Path) -> None:
    path = tmp_path / "messy.srt"
    path.write_text(
        "1\n00:28:00,00 --> 00:28:02,5\nBekah: Welcome back. Dan: Thanks!\n"
        "2\n00:28:03,000 --> 00:28:05,000\nSo today we talk\n"
        "about feature stores.\n"
        "00:28:05.000 --> 00:28:07.000\n<i>Dan:</i> Right.\nBekah: Yes.\n",
        encoding="utf-8",
    )
    t = parse(path)
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("Bekah", "Welcome back."),
        ("Dan", "Thanks!"),
        ("Dan", "So today we talk about feature stores."),
        ("Dan", "Right."),
        ("Bekah", "Yes."),
    ]
    assert t.segments[0].start == 1680.0 and t.segments[0].end < t.segments[1].start + 0.01
    assert t.segments[2].start == 1683.0


def test_srt_podcast_with_first_name_labels(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "srt" / "8_3.srt")
    assert {s.speaker for s in t.segments} == {"Bekah", "Carmen", "Dan"}
    first = t.segments[0]
    assert first.speaker == "Bekah" and first.start == pytest.approx(6.024)
    assert first.text.startswith("Hello and welcome to season eight")


def test_srt_whisper_talk_has_no_speakers(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "srt" / "37c3-Joscha_Bach-Synthetic_Sentience.srt")
    assert len(t.segments) == 990 and {s.speaker for s in t.segments} == {None}
    assert (
        t.segments[1].text == "I'm very happy and very honored to give this presentation tonight."
    )
    assert t.segments[1].start == pytest.approx(26.7)


# --- JSON --------------------------------------------------------------------------------------


def test_whisper_json_matches_its_srt(corpus: Path) -> None:
    name = "37c3-Joscha_Bach-Synthetic_Sentience"
    as_json = parse(FORMATS_DIR / "whisper-json" / f"{name}.json")
    as_srt = parse(FORMATS_DIR / "srt" / f"{name}.srt")
    assert as_json.format == "whisper-json"
    assert [s.text for s in as_json.segments] == [s.text for s in as_srt.segments]
    assert as_json.segments[-1].start == pytest.approx(3781.5)


def test_whisper_json_podcast(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "whisper-json" / "9-Alignment-w-Benjamin-Bratton_.json")
    assert (t.segments[0].text, t.segments[0].start) == ("So, this is a big one.", 0.0)
    assert "Benjamin Bratton" in t.segments[1].text and t.segments[1].start == pytest.approx(9.68)


def test_whisper_json_speakers_from_whisperx(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(
        '{"segments": [{"start": 0.5, "end": 2, "text": " Hi there.", "speaker": "SPEAKER_00"},'
        ' {"start": 2, "end": 3, "text": " Hello.", "speaker": "SPEAKER_01"}]}'
    )
    t = parse(path)
    assert [(s.speaker, s.text, s.start) for s in t.segments] == [
        ("SPEAKER_00", "Hi there.", 0.5),
        ("SPEAKER_01", "Hello.", 2.0),
    ]


def test_youtube_json_overlapping_cues(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "youtube-json" / "youtube_transcript.json")
    assert (t.format, len(t.segments)) == ("youtube-json", 308)
    first = t.segments[0]
    assert first.text == "hey I'm Dave welcome to my shop I'm Dave"
    assert first.start == pytest.approx(0.399) and first.end == pytest.approx(4.64)
    # Cues overlap (each ends after the next starts); word times still only move forward.
    assert any(a.end > b.start for a, b in zip(t.segments, t.segments[1:], strict=False))
    times = word_times(t.segments, t.kind)
    assert times == sorted(times)
    passages = build_passages(t.segments, t.kind)
    assert len(passages) > 1
    assert all(a.end <= b.start + 0.01 for a, b in zip(passages, passages[1:], strict=False))
    assert "Sputnik Moment" in next(p.text for p in passages if "Sputnik" in p.text)


def test_youtube_json_python_repr_is_read_safely_with_a_note(corpus: Path) -> None:
    as_repr = parse(FORMATS_DIR / "youtube-json" / "podcast_33_transcript.json")
    as_json = parse(FORMATS_DIR / "youtube-json" / "podcast_330_transcript.json")
    assert as_repr.segments == as_json.segments and len(as_repr.segments) == 4950
    assert as_repr.notes and "Python repr" in as_repr.notes[0] and "json.dump" in as_repr.notes[0]
    assert not as_json.notes
    assert as_json.segments[0].text == "you and Magnus played a private game 40"


def test_youtube_json3_events(tmp_path: Path) -> None:
    path = tmp_path / "v.json3"
    path.write_text(
        '{"wireMagic": "pb3", "events": [{"tStartMs": 0, "dDurationMs": 2000, "segs": '
        '[{"utf8": "feature"}, {"utf8": " stores"}]}, {"tStartMs": 2000, "dDurationMs": 100, '
        '"segs": [{"utf8": "\\n"}]}, {"tStartMs": 2500, "dDurationMs": 1500, '
        '"segs": [{"utf8": ">> and Kubernetes"}]}]}'
    )
    t = parse(path, "youtube-json")
    assert [(s.text, s.start) for s in t.segments] == [
        ("feature stores", 0.0),
        (">> and Kubernetes", 2.5),
    ]


# --- Caption lines -----------------------------------------------------------------------------


def test_seed_caption_lines(corpus: Path) -> None:
    t = parse(SEED)
    assert (t.format, t.kind) == ("captions", "captions")
    argo = seg_with(t, "the Argo scheduler so when you want to")
    assert argo.start == 14 * 60 + 22 and argo.end == 14 * 60 + 24
    passage = next(p for p in build_passages(t.segments, t.kind) if "Argo scheduler" in p.text)
    assert passage.start <= 862 <= passage.end and passage.end - passage.start <= 40


def test_timestamped_text_with_hours_and_blank_lines(corpus: Path) -> None:
    t = parse(FORMATS_DIR / "timestamped-txt" / "092-006-pythonbytes-crossover.txt")
    assert len(t.segments) == 250
    assert t.segments[1].start == 6.0
    assert t.segments[1].text.startswith("comments and a bonus episode for you")


def test_transcript_panel_copy_with_time_and_text_on_separate_lines(tmp_path: Path) -> None:
    path = tmp_path / "panel.txt"
    path.write_text("0:00\nwelcome to the show\n0:03\ntoday feature\nstores\n1:02:03\nbye\n")
    t = parse(path)
    assert [(s.start, s.text) for s in t.segments] == [
        (0.0, "welcome to the show"),
        (3.0, "today feature stores"),
        (3723.0, "bye"),
    ]


# --- Detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [
        ("vtt/467-pycon-data-sci-panel.vtt", "vtt"),
        ("srt/1_0.srt", "srt"),
        ("whisper-json/9-Alignment-w-Benjamin-Bratton_.json", "whisper-json"),
        ("youtube-json/youtube_transcript.json", "youtube-json"),
        ("youtube-json/podcast_33_transcript.json", "youtube-json"),
        ("timestamped-txt/000_tptm_introducing_the_show.txt", "captions"),
    ],
)
def test_format_detected_from_content_whatever_the_extension(
    corpus: Path, tmp_path: Path, relative: str, fmt: str
) -> None:
    source = FORMATS_DIR / relative
    assert detect(source, read_text(source)[0]).name == fmt
    renamed = tmp_path / "transcript.txt"
    shutil.copyfile(source, renamed)
    assert detect(renamed, read_text(renamed)[0]).name == fmt


def test_every_format_is_registered_with_help() -> None:
    assert set(FORMATS) == {"markdown", "captions", "vtt", "srt", "youtube-json", "whisper-json"}
    assert all(f.help and f.extensions for f in FORMATS.values())


def test_read_cues_checks_times_and_order_for_both_json_formats() -> None:
    from storage.ingest.formats import ParseError
    from storage.ingest.formats.cues import read_cues

    def read(item: dict, k: int) -> tuple | None:
        return (item["s"], item.get("e"), item["t"], *item.get("who", ())) if item["t"] else None

    items = [{"s": 1.0, "e": 2.0, "t": "Hi", "who": ["SPEAKER_00"]}, {"s": 3.0, "t": ""},
             {"s": 4.0, "t": "Bye"}]  # fmt: skip
    cues = read_cues(items, read, "segment", lambda k: None)
    assert [(c.start, c.end, c.lines) for c in cues] == [
        (1.0, 2.0, [(None, "Hi", "SPEAKER_00")]),
        (4.0, None, [(None, "Bye", None)]),
    ]
    with pytest.raises(ParseError) as caught:
        read_cues([*items, {"s": -1.0, "t": "x"}], read, "cue", lambda k: k + 10)
    assert caught.value.line == 13 and caught.value.message.startswith("cue 4: start -1.0")
    with pytest.raises(ParseError, match="^cue 5: time goes back"):
        read_cues(
            [*items, {"s": 200.0, "t": "A"}, {"s": 100.0, "t": "B"}], read, "cue", lambda k: None
        )
