"""Crash script: ``kill -9`` at a random moment during a real ingest, then check the database.

Run: ``python bench/crash.py [PATH ...] [--trials N] [--seed S]`` (default: the full site folder
``../shared/corpus/raw``, or ``$CORPUS_DIR/raw``). First one full ingest gives the reference
catalogue and how long an ingest takes. Then, per trial, into a fresh database:

1. ``python -m bot ingest PATH`` is started and killed with SIGKILL at a random moment within
   that time (its parsing workers are not signalled: they must die with it);
2. the killed database is checked: ``PRAGMA integrity_check``, ``PRAGMA foreign_key_check``,
   the full-text index's own integrity check, and every stored episode whole (its segments,
   and as many passages as in the reference: no half-written episode);
3. the ingest is run again to the end: it must resume and end with the full catalogue.

Prints a line per trial and a summary; exits 1 if any trial found a problem.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
sys.path.insert(0, str(ROOT))

from tests.storage.ingest.processes import alive, children  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
ENV["PYTHONPATH"] = str(ROOT)
# A run that has not ended after this long has hung: the trial fails rather than waiting.
RUN_TIMEOUT = 600


def ingest(db: Path, paths: list[Path]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", "--quiet", "--db", str(db), *map(str, paths)],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def catalogue(db: Path) -> dict[str, int]:
    """{episode id: passages} of a database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT e.id, (SELECT count(*) FROM passages p WHERE p.episode_id = e.id) "
            "FROM episodes e"
        )
        return dict(rows.fetchall())


def problems(db: Path, reference: dict[str, int]) -> list[str]:
    """What is wrong with a database left by a killed ingest (empty list: nothing)."""
    found = []
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            found.append(f"integrity_check: {integrity[:3]}")
        keys = conn.execute("PRAGMA foreign_key_check").fetchall()
        if keys:
            found.append(f"foreign_key_check: {len(keys)} rows, e.g. {keys[0]}")
        try:
            conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            found.append(f"full-text index: {exc}")
        unsegmented = conn.execute(
            "SELECT count(*) FROM episodes e WHERE NOT EXISTS "
            "(SELECT 1 FROM episode_segments s WHERE s.episode_id = e.id)"
        ).fetchone()[0]
        if unsegmented:
            found.append(f"{unsegmented} episodes without their segments")
    half = [e for e, n in catalogue(db).items() if reference.get(e) != n]
    if half:
        found.append(f"{len(half)} episodes half-written or unknown, e.g. {half[0]}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[CORPUS / "raw"])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None, help="for the kill moments")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        ref_db = Path(tmp) / "reference.db"
        started = time.perf_counter()
        run = ingest(ref_db, args.paths)
        run.wait(RUN_TIMEOUT)
        full = time.perf_counter() - started
        reference = catalogue(ref_db)
        print(
            f"reference: {len(reference)} episodes, {sum(reference.values())} passages, "
            f"ingest {full:.1f} s (exit {run.returncode}); {args.trials} trials, seed {seed}"
        )
        bad = 0
        killed_at: list[float] = []
        for trial in range(1, args.trials + 1):
            db = Path(tmp) / f"trial{trial}.db"
            # Within the first 70% of the reference time: a run may go faster than it did.
            moment = rng.uniform(0.02, 0.7) * full
            for _attempt in range(3):  # ended before the moment: again, from scratch, sooner
                db.unlink(missing_ok=True)
                proc = ingest(db, args.paths)
                started = time.perf_counter()
                workers: set[int] = set()
                while time.perf_counter() - started < moment and proc.poll() is None:
                    workers |= children(proc.pid)
                    time.sleep(0.01)
                if proc.poll() is None:
                    break
                proc.wait()
                moment /= 2
            else:
                print(f"trial {trial}: each ingest ended before {moment:.2f} s; not counted")
                continue
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            killed_at.append(moment)
            deadline = time.monotonic() + 5
            while any(alive(w) for w in workers) and time.monotonic() < deadline:
                time.sleep(0.05)
            orphans = [w for w in workers if alive(w)]
            stored = len(catalogue(db)) if db.exists() else 0
            found = problems(db, reference) if db.exists() else []
            if orphans:
                found.append(f"{len(orphans)} of {len(workers)} workers outlived the kill")
                for w in orphans:
                    os.kill(w, signal.SIGKILL)
            started = time.perf_counter()
            again = ingest(db, args.paths)
            again.wait(RUN_TIMEOUT)
            resumed = time.perf_counter() - started
            after = catalogue(db)
            if again.returncode != 0 or after != reference:
                found.append(
                    f"resume: exit {again.returncode}, {len(after)} of {len(reference)} episodes"
                    f" ({(again.stderr.read() or '').strip()[-200:]})"
                )
            found += [f"after resume: {p}" for p in problems(db, reference)]
            bad += bool(found)
            verdict = "; ".join(found) if found else (
                f"consistent, {len(workers)} workers gone; resumed in {resumed:.1f} s to "
                f"{len(after)} episodes"
            )  # fmt: skip
            print(f"trial {trial}: killed at {moment:.2f} s with {stored} episodes: {verdict}")
        print(
            f"summary: {len(killed_at) - bad} of {len(killed_at)} killed ingests left a consistent "
            f"database and resumed to the full catalogue; kill moments "
            f"{min(killed_at, default=0):.2f}-{max(killed_at, default=0):.2f} s"
        )
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
