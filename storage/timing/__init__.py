"""When each word is spoken: passages cut from segments, caption tracks aligned to edited text,
and the per-word times that quotes start and link at."""

from storage.timing.passages import build_passages
from storage.timing.tracks import (
    apply_captions,
    attach_captions,
    episode_word_times,
    passage_line_starts,
    passage_word_times,
)

__all__ = [
    "apply_captions",
    "attach_captions",
    "build_passages",
    "episode_word_times",
    "passage_line_starts",
    "passage_word_times",
]
