"""A folder of poisoned files beside good ones, as an operator might point ingest at.

Each poisoned file is one case of issue #10 ("one bad file fails alone") or its kin; the test
builds it in tmp_path, and ``python -m tests.storage.ingest.poison DIR`` builds it for a manual
run (time and memory are measured by hand: ``/usr/bin/time -v python -m bot ingest DIR``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOOD_VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:06.000\n<v Ana Lima>Our feature store keeps features fresh."
    "\n\n00:00:06.000 --> 00:00:09.000\n<v Ana Lima>Training and serving read the same values.\n"
)
GOOD_YOUTUBE = [
    {"text": "welcome to the show about data contracts", "start": 0.0, "duration": 3.5},
    {"text": "today we talk about schema evolution", "start": 3.5, "duration": 4.0},
]
GOOD_WHISPER = {
    "text": "Lakehouse tables in practice.",
    "segments": [
        {"start": 0.0, "end": 2.5, "text": " Lakehouse tables in practice."},
        {"start": 2.5, "end": 6.0, "text": " Iceberg and Delta keep snapshots."},
    ],
}
# "Billion laughs": nine levels of nine aliases each, a few hundred bytes that expand to 9**9.
LAUGHS = "".join(f"x{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]\n" for k in range(1, 10)).replace(
    "[*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]", "[lol, lol, lol, lol, lol, lol]"
)


def markdown(front: str, line: str = "Feature stores keep features fresh.") -> str:
    return (
        "---\ntitle: An episode\n"
        + front
        + f"transcript:\n- line: {line}\n  sec: 5\n  who: Ana\n---\n"
    )


def build(folder: Path) -> dict[str, dict[str, str]]:
    """Write the folder; return {"good": {name: episode id}, "bad": {name: reason fragment}}."""
    folder.mkdir(parents=True, exist_ok=True)
    good = {
        "good.vtt": "good",
        "good-youtube.json": "good-youtube",
        "good-whisper.json": "good-whisper",
        "good-episode.md": "good-episode",
    }
    (folder / "good.vtt").write_text(GOOD_VTT)
    (folder / "good-youtube.json").write_text(json.dumps(GOOD_YOUTUBE))
    (folder / "good-whisper.json").write_text(json.dumps(GOOD_WHISPER))
    (folder / "good-episode.md").write_text(markdown("season: 3\nepisode: 7\n"))
    bad: dict[str, str] = {}

    def poison(name: str, content: str, reason: str) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        bad[name] = reason

    deep = "[" * 100_000 + "]" * 100_000
    poison("notes/deep.json", deep, "nested too deeply")
    poison("deep-sidecar.vtt", GOOD_VTT, "nested too deeply")
    (folder / "deep-sidecar.json").write_text('{"title": ' + deep + "}")
    bad["deep-sidecar.json"] = "nested too deeply"
    del bad["deep-sidecar.vtt"]
    poison("huge-episode.md", markdown("episode: 99999999999999999999\n"), "'episode'")
    poison("huge-season.md", markdown("season: 99999999999999999999\n"), "'season'")
    poison("sidecar-episode.vtt", GOOD_VTT, "'episode'")
    (folder / "sidecar-episode.yaml").write_text("title: Sidecar\nepisode: 99999999999999999999\n")
    bad["sidecar-episode.yaml"] = bad.pop("sidecar-episode.vtt")
    poison("laughs-title.md", "---\n" + LAUGHS + "title: *l9\ntranscript:\n- line: hi\n---\n",
           "aliases")  # fmt: skip
    poison("laughs-topics.md", "---\n" + LAUGHS + "title: t\ntopics: *l9\n"
           "transcript:\n- line: hi\n  sec: 1\n---\n", "aliases")  # fmt: skip
    poison("laughs-line.md", "---\n" + LAUGHS + "title: t\ntranscript:\n- line: *l9\n  sec: 1\n"
           "---\n", "aliases")  # fmt: skip
    for name, value in (("infinity", "Infinity"), ("nan", "NaN"), ("1e400", "1e400")):
        poison(
            f"youtube-{name}.json",
            '[{"text": "hello there", "start": 0, "duration": ' + value + "}]",
            "finite",
        )
        poison(
            f"whisper-{name}.json",
            '{"segments": [{"start": ' + value + ', "end": 3, "text": "hello there"}]}',
            "finite",
        )
    poison("chapter-start.srt", "1\n00:00:01,000 --> 00:00:02,000\nHello there\n", "chapters")
    (folder / "chapter-start.yaml").write_text(
        "title: Chapters\nchapters:\n  - {title: Intro, start: 1.0e+400}\n"
    )
    bad["chapter-start.yaml"] = bad.pop("chapter-start.srt")
    poison("ms-duration.srt", "1\n00:00:01,000 --> 00:00:02,000\nHello there\n", "out of range")
    (folder / "ms-duration.json").write_text('{"title": "In ms", "duration": 5400000}')
    bad["ms-duration.json"] = bad.pop("ms-duration.srt")
    poison("digits.json", '[{"text": "hi", "start": ' + "9" * 5000 + ', "duration": 1}]',
           "digits")  # fmt: skip
    poison("huge-sec.md", markdown("").replace("sec: 5", "sec: .nan"), "sec")
    return {"good": good, "bad": bad}


if __name__ == "__main__":
    print(json.dumps(build(Path(sys.argv[1])), indent=1))
