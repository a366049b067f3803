"""The catalogue: which episodes are stored, looked up by id or by words, and links into them."""

from storage.catalogue.episodes import (
    episodes_named,
    find_episode,
    find_episodes,
    get_episode,
    list_episodes,
)
from storage.catalogue.links import deep_link, youtube_id

__all__ = [
    "deep_link",
    "episodes_named",
    "find_episode",
    "find_episodes",
    "get_episode",
    "list_episodes",
    "youtube_id",
]
