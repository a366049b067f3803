"""Deep links: a URL that opens the episode at a given second."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def youtube_id(url: str | None) -> str | None:
    """Return the 11-character video id of a YouTube URL in any common form, else None.

    >>> youtube_id("https://youtu.be/z7BvslwVRbQ?t=5")
    'z7BvslwVRbQ'
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host.startswith("www.") or host.startswith("m."):
        host = host.split(".", 1)[1]
    candidate = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host in ("youtube.com", "music.youtube.com", "youtube-nocookie.com"):
        if parts.path == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [None])[0]
        else:
            pieces = parts.path.strip("/").split("/")
            if len(pieces) >= 2 and pieces[0] in ("embed", "shorts", "live", "v"):
                candidate = pieces[1]
    if candidate and _YOUTUBE_ID.match(candidate):
        return candidate
    return None


def deep_link(url: str | None, second: float) -> str | None:
    """Link to ``url`` at ``second``; None when there is no usable URL (never a broken link).

    >>> deep_link("https://www.youtube.com/embed/z7BvslwVRbQ", 862.4)
    'https://www.youtube.com/watch?v=z7BvslwVRbQ&t=862s'
    >>> deep_link("https://example.com/ep1.mp3", 90)
    'https://example.com/ep1.mp3#t=90'
    """
    if not url:
        return None
    second = max(0, int(second))
    vid = youtube_id(url)
    if vid:
        return f"https://www.youtube.com/watch?v={vid}&t={second}s"
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{url.strip().split('#', 1)[0]}#t={second}"
