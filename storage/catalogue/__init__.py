"""The catalogue: which episodes are stored, looked up by id or by words, short lists of guests
and episodes to pick from, and links into them."""

from storage.catalogue.choices import (
    MAX_CHOICES,
    EpisodeChoice,
    list_episode_choices,
    list_guests,
)
from storage.catalogue.episodes import (
    CatalogueSummary,
    episodes_named,
    find_episode,
    find_episodes,
    get_episode,
    list_episodes,
    summarise_catalogue,
)
from storage.catalogue.links import deep_link, youtube_id

__all__ = [
    "MAX_CHOICES",
    "CatalogueSummary",
    "EpisodeChoice",
    "deep_link",
    "episodes_named",
    "find_episode",
    "find_episodes",
    "get_episode",
    "list_episode_choices",
    "list_episodes",
    "list_guests",
    "summarise_catalogue",
    "youtube_id",
]
