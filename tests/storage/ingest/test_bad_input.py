"""Bad input: a clear FILE:LINE message, nothing half-written, the other files still go in."""

from __future__ import annotations

import codecs
import re
import shutil
from pathlib import Path

import pytest

import storage.ingest.pipeline as ingest_module
from storage.db import Store
from storage.ingest import ingest_file, ingest_paths
from storage.ingest.formats import ParseError
from storage.ingest.sources import MAX_FILE_BYTES, decode
from storage.segments import unpack
from tests.conftest import FORMATS, PODCAST

GOOD_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nFeature stores keep café features fresh.\n"


async def counts(store: Store) -> dict[str, int]:
    out = {}
    for table in ("episodes", "episode_segments", "passages", "chapters"):
        out[table] = (await store.fetchone(f"SELECT count(*) AS n FROM {table}"))["n"]  # noqa: S608
    return out


async def only_failure(store: Store, path: Path):
    outcome = await ingest_file(store, path)
    assert outcome.status == "failed", outcome
    assert set((await counts(store)).values()) == {0}
    return outcome


async def test_empty_and_blank_files(store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty.vtt").write_bytes(b"")
    (tmp_path / "blank.srt").write_text("  \n\n\t\n")
    for name in ("empty.vtt", "blank.srt"):
        outcome = await only_failure(store, tmp_path / name)
        assert outcome.describe() == f"{tmp_path / name}: file is empty; nothing to ingest"


async def test_binary_files_are_refused_saying_what_they_are(store: Store, tmp_path: Path) -> None:
    (tmp_path / "nul.srt").write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nhi\x00\x01\x02\x03")
    (tmp_path / "episode.txt").write_bytes(b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 4)
    (tmp_path / "notes.txt").write_bytes(b"PK\x03\x04" + b"\x14\x00" * 50)
    (tmp_path / "noise.txt").write_bytes(bytes(range(1, 32)) * 40)
    nul = await only_failure(store, tmp_path / "nul.srt")
    assert nul.line == 3 and "binary file (it contains NUL bytes)" in nul.message
    mp3 = await only_failure(store, tmp_path / "episode.txt")
    assert "MP3 audio" in mp3.message and "transcribe it first" in mp3.message
    assert "ZIP archive" in (await only_failure(store, tmp_path / "notes.txt")).message
    assert "binary data" in (await only_failure(store, tmp_path / "noise.txt")).message


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf16be-no-bom"],
)
async def test_unicode_encodings_are_read(
    store: Store, tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    path = tmp_path / "talk.vtt"
    path.write_bytes(prefix + GOOD_VTT.encode(encoding))
    outcome = await ingest_file(store, path)
    assert outcome.status == "added" and outcome.message is None
    assert await segment_texts(store) == ["Feature stores keep café features fresh."]


async def test_latin1_bytes_are_read_with_a_note(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("0:01 the café menu\n0:04 crème brûlée for the team\n".encode("latin-1"))
    outcome = await ingest_file(store, path)
    assert outcome.status == "added"
    assert "not UTF-8 (from line 1), read as Windows-1252/Latin-1" in outcome.message
    assert await segment_texts(store) == ["the café menu", "crème brûlée for the team"]


async def segment_texts(store: Store) -> list[str]:
    rows = await store.fetchall("SELECT data FROM episode_segments ORDER BY episode_id")
    return [seg.text for r in rows for seg in unpack(r["data"])]


def test_invalid_utf8_after_a_bom_names_the_line() -> None:
    with pytest.raises(ParseError) as caught:
        decode(codecs.BOM_UTF8 + b"WEBVTT\n\nok\n\xff\xfe broken\n")
    assert caught.value.line == 4 and "re-save the file as UTF-8" in caught.value.message


async def test_invalid_yaml_front_matter_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "episode.md"
    path.write_text("---\ntitle: Feature stores\ntranscript:\n- line: 'unclosed\n  sec: 10\n---\n")
    outcome = await only_failure(store, path)
    assert outcome.line is not None and outcome.line >= 4
    assert outcome.message.startswith("invalid YAML front matter")


async def test_invalid_sidecar_yaml_fails_its_transcript(store: Store, tmp_path: Path) -> None:
    (tmp_path / "talk.vtt").write_text(GOOD_VTT)
    (tmp_path / "talk.yaml").write_text("title: Feature stores\nguests: [Ana\ndate: 2024-01-01\n")
    report = await ingest_paths(store, [tmp_path])
    [failure] = report.failed
    assert failure.path == str(tmp_path / "talk.yaml") and failure.line == 3
    assert (
        "invalid YAML" in failure.message and "talk.vtt, which was not ingested" in failure.message
    )
    assert (await counts(store))["episodes"] == 0


async def test_sidecar_with_a_bad_date_or_url(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.vtt").write_text(GOOD_VTT)
    (tmp_path / "a.yaml").write_text("title: A\ndate: 12/03/2024\n")
    (tmp_path / "b.vtt").write_text(GOOD_VTT)
    (tmp_path / "b.json").write_text('{"title": "B", "url": "youtube.com/watch?v=z7BvslwVRbQ"}')
    report = await ingest_paths(store, [tmp_path])
    messages = sorted(o.describe() for o in report.failed)
    assert messages == [
        f"{tmp_path / 'a.yaml'}:2: 'date' '12/03/2024' is not a date; write it as YYYY-MM-DD "
        "(for example 2024-03-12) (sidecar of a.vtt, which was not ingested)",
        f"{tmp_path / 'b.json'}:1: 'url' 'youtube.com/watch?v=z7BvslwVRbQ' is not a web "
        "address; give the full URL (https://youtube.com/watch?v=z7BvslwVRbQ) "
        "(sidecar of b.vtt, which was not ingested)",
    ]


async def test_python_repr_json_is_read_with_a_note(store: Store, corpus: Path) -> None:
    outcome = await ingest_file(store, FORMATS / "youtube-json" / "podcast_33_transcript.json")
    assert outcome.status == "added" and "Python repr" in outcome.message
    assert outcome.seconds > 2.5 * 3600


async def test_timestamps_out_of_order(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "captions.txt"
    path.write_text("0:10 one\n0:05 small step back is fine\n5:00 three\n0:20 four\n")
    outcome = await only_failure(store, path)
    assert outcome.describe() == (
        f"{path}:4: time goes back from 0:05:00 to 0:00:20; cues must be in time order "
        "(fix the order, or split the file if it holds two recordings)"
    )


async def test_negative_and_absurd_times(store: Store, tmp_path: Path) -> None:
    (tmp_path / "neg.vtt").write_text("WEBVTT\n\n-00:00:01.000 --> 00:00:02.000\nhi\n")
    (tmp_path / "ms.json").write_text(
        '[\n {"text": "a", "start": 1.5, "duration": 1},\n'
        ' {"text": "b", "start": 2500000, "duration": 1}\n]\n'
    )
    (tmp_path / "hours.srt").write_text("1\n00:00:01,000 --> 00:99:02,000\nhi\n")
    neg = await only_failure(store, tmp_path / "neg.vtt")
    assert neg.line == 3 and "negative" in neg.message
    ms = await only_failure(store, tmp_path / "ms.json")
    assert ms.line == 3 and "cue 2: start 694:26:40 is beyond 24 hours" in ms.message
    hours = await only_failure(store, tmp_path / "hours.srt")
    assert hours.line == 2 and "impossible time" in hours.message


async def test_negative_sec_in_markdown(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ep.md"
    path.write_text("---\ntitle: T\ntranscript:\n- line: Hello.\n  sec: 3\n  who: Ana\n"
                    "- line: Bye.\n  sec: -20\n  who: Ana\n---\n")  # fmt: skip
    outcome = await only_failure(store, path)
    assert outcome.line == 7 and "out of range" in outcome.message


async def test_a_200_mb_file_is_refused_before_reading_it(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.srt"
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: no disk space, no time
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")
    outcome = await only_failure(store, path)
    assert outcome.message.startswith(
        f"file is 200 MB, over the {MAX_FILE_BYTES // 2**20} MB limit for one transcript"
    )
    assert path not in read


async def test_folder_with_unrelated_files(store: Store, tmp_path: Path, corpus: Path) -> None:
    tmp_path = tmp_path / "show"
    tmp_path.mkdir()
    shutil.copy(FORMATS / "srt" / "1_0.srt", tmp_path / "episode1.srt")
    (tmp_path / "cover.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "README.md").write_text("# Our show\n\nTranscripts live here.\n")
    (tmp_path / "package.json").write_text('{"name": "site", "version": "1.0.0"}')
    (tmp_path / "notes.txt").write_text("call Ana about the mic\nbook the studio\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    report = await ingest_paths(store, [tmp_path])
    assert not report.failed
    assert [o.status for o in report.of("added")] == ["added"]
    skipped = {Path(o.path).name: o.message for o in report.of("skipped")}
    assert skipped == {
        "cover.png": "not a transcript (.png)",
        "README.md": "not a transcript (no format recognised)",
        "package.json": "not a transcript (no format recognised)",
        "notes.txt": "not a transcript (no format recognised)",
    }
    # Named explicitly, the same file is an error.
    named = await ingest_file(store, tmp_path / "notes.txt")
    assert named.status == "failed" and "unrecognised transcript format" in named.message


async def test_one_bad_file_leaves_no_rows_and_the_others_go_in(
    store: Store, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path / "show"
    tmp_path.mkdir()
    for name in ("a-first.md", "b-second.md"):
        shutil.copy(PODCAST / "devrel-open-source-machine-learning.md", tmp_path / name)
    (tmp_path / "c-broken.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nhi\n")
    real = ingest_module.apply_captions

    async def fail_for_second(conn, episode_id, meta, transcript):  # noqa: ANN001
        if episode_id == "b-second":
            raise RuntimeError("disk full")
        return await real(conn, episode_id, meta, transcript)

    monkeypatch.setattr(ingest_module, "apply_captions", fail_for_second)
    with pytest.raises(RuntimeError):
        await ingest_paths(store, [tmp_path])
    # The failed write of b-second left nothing; a-first is complete.
    rows = await store.fetchall("SELECT episode_id FROM episode_segments")
    assert [r["episode_id"] for r in rows] == ["a-first"]
    monkeypatch.setattr(ingest_module, "apply_captions", real)
    report = await ingest_paths(store, [tmp_path])
    assert [o.status for o in report.outcomes] == ["unchanged", "added", "failed"]
    assert report.failed[0].describe() == (
        f"{tmp_path / 'c-broken.vtt'}:3: expected a cue timing line "
        "'HH:MM:SS.mmm --> HH:MM:SS.mmm', found '00:00:01.000 --> 00:00:0x.000'"
    )
    episodes = await store.fetchall("SELECT id FROM episodes ORDER BY id")
    assert [r["id"] for r in episodes] == ["a-first", "b-second"]


async def test_bad_json_names_its_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "captions.json"
    path.write_text('[\n  {"text": "a", "start": 1, "duration": 2},\n  {"text": "b", "start": }\n]')
    outcome = await only_failure(store, path)
    assert outcome.line == 3 and outcome.message.startswith("invalid JSON")
    path.write_text('[\n  {"text": "a", "start": 1},\n  {"text": "b", "start": "soon"}\n]')
    outcome = await only_failure(store, path)
    assert outcome.describe().endswith(
        "captions.json:3: cue 2: 'start' must be a number of seconds, found 'soon'"
    )


async def test_an_impossible_date_fails_only_its_file(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.vtt").write_text(GOOD_VTT)
    (tmp_path / "a.yaml").write_text("title: A\ndate: 2024-02-30\n")
    (tmp_path / "b.vtt").write_text(GOOD_VTT)
    (tmp_path / "c.md").write_text(
        "---\ntitle: C\ndate: 2023-13-01\ntranscript:\n- line: Hello there.\n  sec: 1\n---\n"
    )
    report = await ingest_paths(store, [tmp_path])
    assert sorted(o.describe() for o in report.failed) == [
        f"{tmp_path / 'a.yaml'}:2: '2024-02-30' is not a real date (day is out of range for "
        "month); write it as YYYY-MM-DD (sidecar of a.vtt, which was not ingested)",
        f"{tmp_path / 'c.md'}:3: '2023-13-01' is not a real date (month must be in 1..12); "
        "write it as YYYY-MM-DD",
    ]
    assert [o.episode_id for o in report.of("added")] == ["b"]


async def test_a_device_is_refused_not_read(store: Store) -> None:
    # /dev/zero would be read forever (its size says 0); /dev/null shows the same check at once.
    for device in ("/dev/null", "/dev/zero"):
        outcome = await only_failure(store, Path(device))
        assert outcome.message == (
            "this is a device, not a transcript file; give the path of a saved file"
        )


async def test_episode_ids_from_files_follow_the_flag_rule(store: Store, tmp_path: Path) -> None:
    long_id = "x" * 2500  # in a Slack button value it would pass Slack's 2,000-character limit
    (tmp_path / "a.vtt").write_text(GOOD_VTT)
    (tmp_path / "a.yaml").write_text(f"title: A\nepisode_id: {long_id}\n")
    (tmp_path / "b.vtt").write_text(GOOD_VTT)
    (tmp_path / "b.json").write_text('{"title": "B",\n "id": "my episode/1"}')
    (tmp_path / "c.md").write_text(
        "---\ntitle: C\nid: 'ep 3|x'\ntranscript:\n- line: Hello there.\n  sec: 1\n---\n"
    )
    (tmp_path / "d.vtt").write_text(GOOD_VTT)
    (tmp_path / "d.yaml").write_text("title: D\nid: ep-4.final_cut\n")
    report = await ingest_paths(store, [tmp_path])
    rule = "use letters, digits, '-', '_' or '.', at most 200 characters"
    assert sorted(o.describe() for o in report.failed) == [
        f"{tmp_path / 'a.yaml'}:2: 'episode_id' 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... "
        f"(2500 characters): {rule} (like 'ep-42-feature-stores') "
        "(sidecar of a.vtt, which was not ingested)",
        f"{tmp_path / 'b.json'}:2: 'id' 'my episode/1': {rule} (like 'ep-42-feature-stores') "
        "(sidecar of b.vtt, which was not ingested)",
        f"{tmp_path / 'c.md'}:3: front matter 'id' 'ep 3|x': {rule} (like 'ep-42-feature-stores')",
    ]
    assert [o.episode_id for o in report.of("added")] == ["ep-4.final_cut"]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://example.com/a|b", "contains '|'; encode it as %7C"),
        ("https://example.com/<b>", "contains '<'; encode it as %3C"),
        ("https://example.com/a>b", "contains '>'; encode it as %3E"),
        ("https://example.com/a\tb", "contains spaces; encode them as %20"),
    ],
)
def test_urls_that_would_break_slack_links_are_refused(url: str, problem: str) -> None:
    from storage.ingest.sources import meta_from_flags, meta_from_mapping

    with pytest.raises(ParseError, match=re.escape(problem)):
        meta_from_flags(url=url)
    with pytest.raises(ParseError, match=re.escape(problem)):
        meta_from_mapping({"links": {"slides": url}})
