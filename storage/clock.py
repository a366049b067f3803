"""Seconds as a timestamp (``14:22``, ``1:02:03``), shared by Slack messages and the CLI."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``seconds`` into the episode as ``M:SS``, or ``H:MM:SS`` from an hour on.

    Example:
        >>> clock(862), clock(3723), clock(-1)
        ('14:22', '1:02:03', '0:00')
    """
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
