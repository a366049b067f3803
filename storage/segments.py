"""Verbatim transcript segments, kept packed: one compressed blob per episode.

Segments are the source as given (for re-timing and rebuilding passages), never searched or
filtered by SQL, so one zlib-compressed JSON array per episode keeps them whole at about a
third of the space of a row each.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence

from storage.models import Segment

Row = tuple[float, float | None, str | None, str]


def pack(rows: Iterable[Sequence]) -> bytes:
    """``(start, end, speaker, text)`` rows to one blob."""
    data = [[r[0], r[1], r[2], r[3]] for r in rows]
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def unpack(blob: bytes) -> list[Segment]:
    return [Segment(s, e, who, text) for s, e, who, text in json.loads(zlib.decompress(blob))]
