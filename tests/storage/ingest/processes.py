"""A running ingest's worker processes, read from Linux's /proc: which are its children, and
whether each is still running (for the kill -9 test and bench/crash.py)."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> set[int]:
    """The pids of the processes ``pid`` started and that are still its children."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    """Is ``pid`` running? A zombie has ended: only its parent's wait for it remains."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
