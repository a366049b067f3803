"""Prove a refactor changed no behaviour: `--save DIR` before, `--compare DIR` after the change.

Run: ``python bench/same_behaviour.py --save /tmp/before`` on the old code, then
``python bench/same_behaviour.py --compare /tmp/before`` on the new code (exit 1 if any differ).

Ingests the real corpus (``$CORPUS_DIR`` or ``../shared/corpus``: the site folder, the seed
captions, the other formats, a sidecar, some bad input) into a fresh database with
``python -m bot ingest`` as a subprocess, then records ``episodes`` and ~60 ``search`` commands:
exit code, stdout (parsed when JSON) and stderr, with the temp dir, the corpus path and the
seconds an ingest took replaced by placeholders.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
DEVREL_URL = "https://www.youtube.com/watch?v=z7BvslwVRbQ"

SIDECAR = """\
episode_id: talk-42
title: Virtual Coffee, season eight
url: https://example.com/audio/talk-42.mp3
guests: [Ana Lima, Bo Chen]
date: 2024-05-02
topics: [Community]
chapters:
  - {title: Introduction, start: 0}
  - {title: Stories from the community, start: '4:10'}
"""

# fmt: off
# Run in this order, one after another: each ingest changes what the next one finds.
INGESTS: list[tuple[str, list[str]]] = [
    ("ingest-raw", ["ingest", "{corpus}/raw"]),
    ("ingest-seed-by-url", ["ingest", "{corpus}/seed/000_65fe3dfcb0de18ef.txt", "--url",
                            DEVREL_URL]),
    ("ingest-seed-by-id", ["ingest", "{corpus}/seed/000_65fe3dfcb0de18ef.txt", "--episode-id",
                           "devrel-open-source-machine-learning"]),
    ("ingest-wrong-captions", ["ingest", "{corpus}/formats/timestamped-txt/"
                               "000_tptm_introducing_the_show.txt", "--episode-id",
                               "ab-testing-and-product-experimentation"]),
    ("ingest-flags", ["ingest", "{corpus}/formats/vtt/467-pycon-data-sci-panel.vtt", "--title",
                      "PyCon data science panel", "--guest", "Jodie Burchell", "--guest",
                      "Maria Jose Molina-Contreras", "--date", "2024-05-20", "--episode-id",
                      "pycon-panel"]),
    ("ingest-formats", ["ingest", "{corpus}/formats"]),
    ("ingest-sidecar", ["ingest", "{tmp}/sidecar"]),
    ("ingest-bad-files", ["ingest", "{tmp}/bad"]),
    ("ingest-bad-date", ["ingest", "{tmp}/sidecar/talk-42.srt", "--date", "12/03/2024"]),
    ("ingest-bad-url", ["ingest", "{tmp}/sidecar/talk-42.srt", "--url", "not a url"]),
    ("ingest-missing-path", ["ingest", "{tmp}/no-such-file.srt"]),
    ("ingest-raw-again-verbose", ["ingest", "{corpus}/raw", "-v"]),
    ("ingest-formats-again-quiet", ["ingest", "{corpus}/formats", "-q"]),
]

QUERIES = [
    # keywords and phrases
    "argo scheduler", "bus factor", "reverse ETL", "kubeflow pipelines", "data mesh principles",
    "feast feature store gojek", "dogfooding at microsoft", "RACI framework",
    "take-home assignment", '"wisdom layer"', '"learn in public"', '"luck surface area"',
    '"go through the meat grinder"', "they bought 4,500 GPUs to mine Bitcoin",
    # negation
    "metaflow -dask", "kubernetes -docker", "feature store -feast",
    # filters
    "guest:hugo", "guest:hugo devrel", "speaker:alexey portfolio", "speaker:hugo metaflow",
    "episode:devrel-open-source-machine-learning wisdom", "episode:asteroid water",
    "after:2024-01-01 llm agents", "before:2022 data mesh", "after:2023-01 before:2023-12 mlops",
    "guest:barr data observability", "after:2025-10", "after:notadate mlops",
    # typos
    "kubernets", "tenserflow", "argo shceduler", "metaflwo", "asteriod mining",
    "reproducable research", "dogfoding",
    # speech-recognition forms
    "psychic learn", "meta flow", "tidy verse vignettes", "ggplot d player",
    "pie torch instead of tensorflow", "cube flow pipelines", "carrot vignettes",
    # questions and whole episodes
    "how did Hugo get into devrel?", "what is a feature store?",
    "what does Alexey recommend for a portfolio?",
    "how do you price freelance data engineering projects?", "what is the bus factor?",
    "the episode about A/B testing", "episode with Zhamak Dehghani",
    "interview with Barr Moses about data observability",
    # the other formats and the sidecar episode
    "virtual coffee community", "speaker:bekah", "episode:pycon data science", "guest:ana",
    "synthetic sentience consciousness",
    # nothing to find
    "sourdough bread recipe", "xqzv blorf", '"kubernetes for cats"', "zzkubernetezz",
    "Taylor Swift concert tickets", "café naïve",
]

SEARCHES: list[tuple[str, list[str]]] = [
    *((f"search-json-{q}", ["search", q, "--json"]) for q in QUERIES),
    ("search-json-limit1-kubernetes", ["search", "kubernetes", "--json", "--limit", "1"]),
    ("search-json-limit20-data-engineering", ["search", "data engineering", "--json",
                                             "--limit", "20"]),
    ("search-json-offset5-kubernetes", ["search", "kubernetes", "--json", "--offset", "5"]),
    # Text output says what JSON leaves out: "did you mean", "matched via", "More: --offset".
    *((f"search-text-{q}", ["search", q]) for q in (
        "kubernets", "psychic learn course", "meta flow outer bounds", "metaflwo",
        "sourdough bread recipe", "zzkubernetezz", "guest:hugo", "after:notadate mlops",
        "what did Hugo say about writing?",
    )),
    ("search-text-limit3-argo", ["search", "argo", "scheduler", "--limit", "3"]),
    ("search-json-only-negated", ["search", "--json", "--", "-docker"]),
    ("search-dash-word-without-double-dash", ["search", "-docker"]),
    ("search-bad-limit", ["search", "kubernetes", "--limit", "0"]),
    ("search-missing-db", ["search", "kubernetes", "--db", "{tmp}/missing.db"]),
]

AFTER: list[tuple[str, list[str]]] = [
    ("episodes-json", ["episodes", "--json"]),
    ("episodes-text", ["episodes"]),
    ("bare", []),
    ("help-ingest", ["ingest", "--help"]),
    ("help-search", ["search", "--help"]),
]
# fmt: on


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80]


class Runner:
    def __init__(self, python: str, corpus: Path, tmp: Path) -> None:
        self.python, self.corpus, self.tmp = python, corpus, tmp
        self.db = tmp / "d.db"
        # No .env (the cwd is the temp dir), no settings from the caller's environment, the
        # code under test from this checkout, a fixed terminal width for argparse's help.
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
        }
        env.update(PYTHONPATH=str(ROOT), COLUMNS="100", TZ="UTC", PYTHONIOENCODING="utf-8")
        self.env = env
        # The corpus as given and resolved, longest first.
        self.paths = sorted({str(corpus), str(corpus.resolve())}, key=len, reverse=True)

    def run(self, argv: list[str]) -> dict:
        args = [a.format(corpus=self.corpus, tmp=self.tmp) for a in argv]
        if args and "--db" not in args:  # right after the command: before a "--"
            args[1:1] = ["--db", str(self.db)]
        proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [self.python, "-m", "bot", *args],
            cwd=self.tmp, env=self.env, capture_output=True, text=True, encoding="utf-8",
            timeout=300,
        )  # fmt: skip
        out = self.normalise(proc.stdout)
        try:
            stdout: object = drop_volatile(json.loads(out))
        except ValueError:
            stdout = out.split("\n")  # lines: a diff shows the lines that changed
        if args and args[0] == "episodes":
            stdout = same_date_by_id(stdout)
        return {
            "command": ["python", "-m", "bot", *(self.normalise(a) for a in args)],
            "exit_code": proc.returncode,
            "stdout": stdout,
            "stderr": self.normalise(proc.stderr).split("\n"),
        }

    def normalise(self, text: str) -> str:
        text = text.replace(str(self.tmp.resolve()), "<tmp>").replace(str(self.tmp), "<tmp>")
        for p in self.paths:
            text = text.replace(p, "<corpus>")
        return re.sub(r"(h of audio, )\d+(\.\d+)? s\b", r"\1<seconds> s", text)


def drop_volatile(value: object) -> object:
    if isinstance(value, dict):
        return {k: drop_volatile(v) for k, v in value.items() if k != "ingested_at"}
    if isinstance(value, list):
        return [drop_volatile(v) for v in value]
    return value


def same_date_by_id(episodes: list) -> list:
    """``episodes`` lists episodes of one date in the order they were ingested (``ingested_at``,
    a clock time: it varies from run to run); put each run of one date in id order instead."""

    def date(e: object) -> object:
        return e.get("date") if isinstance(e, dict) else str(e)[:10]

    def ident(e: object) -> str:
        return e.get("id", "") if isinstance(e, dict) else str(e)

    return [e for _, run in groupby(episodes, key=date) for e in sorted(run, key=ident)]


def make_inputs(tmp: Path, corpus: Path) -> None:
    sidecar = tmp / "sidecar"
    sidecar.mkdir()
    (sidecar / "talk-42.srt").write_bytes((corpus / "formats" / "srt" / "8_3.srt").read_bytes())
    (sidecar / "talk-42.yaml").write_text(SIDECAR, encoding="utf-8")
    bad = tmp / "bad"
    bad.mkdir()
    (bad / "empty.srt").write_text("", encoding="utf-8")
    (bad / "binary.vtt").write_bytes(bytes(range(256)) * 4)
    (bad / "broken.md").write_text("---\ntitle: [unclosed\ntranscript:\n---\n", encoding="utf-8")
    (bad / "backwards.txt").write_text("1:00 later words\n0:10 earlier words\n", encoding="utf-8")


def collect(python: str, corpus: Path) -> dict[str, dict]:
    """Every command's normalised record, by file name."""
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="same-behaviour-") as name:
        tmp = Path(name)
        make_inputs(tmp, corpus)
        runner = Runner(python, corpus, tmp)
        steps = [(f"{i:03d}-{slug(n)}", argv) for i, (n, argv) in enumerate(INGESTS)]
        for key, argv in steps:
            results[key] = runner.run(argv)
        later = [
            (f"{i:03d}-{slug(n)}", argv)
            for i, (n, argv) in enumerate(SEARCHES + AFTER, start=len(INGESTS))
        ]
        with ThreadPoolExecutor(2) as pool:  # searches only read the database
            for (key, _), record in zip(
                later, pool.map(runner.run, [a for _, a in later]), strict=True
            ):
                results[key] = record
    return results


def dump(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def diff(key: str, old: str | None, new: str | None, lines: int = 30) -> str:
    if old is None:
        return f"--- {key}: not in the saved outputs (a new command?)"
    if new is None:
        return f"--- {key}: saved, but no longer run"
    out = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"saved/{key}", f"now/{key}", n=1, lineterm=""
        )
    )
    more = f"\n... {len(out) - lines} more diff lines" if len(out) > lines else ""
    return "\n".join(out[:lines]) + more


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", metavar="DIR", type=Path, help="record the outputs here")
    mode.add_argument("--compare", metavar="DIR", type=Path, help="compare with outputs saved")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="default: %(default)s")
    parser.add_argument("--python", default=sys.executable, help="default: %(default)s")
    args = parser.parse_args()
    corpus = args.corpus.absolute()
    if not (corpus / "raw").is_dir():
        parser.error(f"no corpus at {corpus} (set --corpus or CORPUS_DIR)")

    started = time.perf_counter()
    results = {key: dump(record) for key, record in collect(args.python, corpus).items()}
    took = time.perf_counter() - started
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for old in args.save.glob("*.json"):
            old.unlink()
        for key, text in results.items():
            (args.save / f"{key}.json").write_text(text, encoding="utf-8")
        print(f"saved {len(results)} outputs to {args.save} in {took:.0f} s")
        return 0

    saved = {p.stem: p.read_text(encoding="utf-8") for p in sorted(args.compare.glob("*.json"))}
    if not saved:
        parser.error(f"no saved outputs in {args.compare}")
    keys = sorted(saved.keys() | results.keys())
    differing = [k for k in keys if saved.get(k) != results.get(k)]
    for key in differing:
        print(diff(key, saved.get(key), results.get(key)))
    print(f"{len(keys) - len(differing)} of {len(keys)} outputs identical ({took:.0f} s)")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
