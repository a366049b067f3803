"""What the community does with the bot and what it posts: events answered, searches and shares
logged (:class:`ActivityLog` queues them off the answer's path), the weekly digest's content, and
the ledger that makes each post go out once."""

from storage.activity.digest import (
    IMPORT_BATCH,
    ArchiveQuote,
    Digest,
    NewEpisode,
    SharedQuote,
    build_digest,
    most_shared,
)
from storage.activity.feedback import (
    UsefulAnswer,
    VotedPassage,
    VoteOutcome,
    record_vote,
    voted_passages,
)
from storage.activity.log import claim_event, recent_searches, record_search, record_share
from storage.activity.posts import (
    Arrival,
    PostRecord,
    advance_watermark,
    announce_watermark,
    arrivals_after,
    claim_post,
    confirm_post,
    get_post,
    record_skip,
    release_post,
    restore_claim,
)
from storage.activity.queue import ActivityLog

__all__ = [
    "ActivityLog",
    "UsefulAnswer",
    "VoteOutcome",
    "VotedPassage",
    "record_vote",
    "voted_passages",
    "IMPORT_BATCH",
    "ArchiveQuote",
    "Arrival",
    "Digest",
    "NewEpisode",
    "PostRecord",
    "SharedQuote",
    "advance_watermark",
    "announce_watermark",
    "arrivals_after",
    "build_digest",
    "claim_event",
    "claim_post",
    "confirm_post",
    "get_post",
    "most_shared",
    "recent_searches",
    "record_search",
    "record_share",
    "record_skip",
    "release_post",
    "restore_claim",
]
