"""Slack's IDs as this bot recognises them: users, channels, and a mention of a user.

One definition for the whole app: handlers (mentions, the "shared by" line, the digest's channel
link) and bot/config.py's checks of ADMIN_USER_IDS, DIGEST_CHANNEL and ANNOUNCE_CHANNEL. A leaf:
it imports nothing but ``re``, so loading settings stays light.
"""

from __future__ import annotations

import re

# After the prefix letter: upper-case letters and digits, at least one, no upper bound. These
# bounds are the most permissive of the three patterns they replace (the mention pattern's
# "+"; the others asked for 2 or more, and the "shared by" line for at most 30), so nothing
# accepted before is refused now. Slack's IDs are 9 to 11 characters today and Slack says they
# may grow, so a cap would only risk refusing real IDs; the character class alone is what keeps
# ``<@{id}>`` and ``<#{id}>`` from carrying anything but an ID.
_REST = "[A-Z0-9]+"

USER_ID = re.compile(rf"[UW]{_REST}")  # U: a member, W: an Enterprise Grid member
CHANNEL_ID = re.compile(rf"[CG]{_REST}")  # C: a channel, G: a private channel or group
MENTION = re.compile(rf"<@({USER_ID.pattern})>")  # how Slack writes a user in message text


def is_user_id(text: str) -> bool:
    """``U0123ABCDE`` and ``W0123ABCDE`` are; ``@alexey``, ``u0123abcde`` are not."""
    return USER_ID.fullmatch(text) is not None


def is_channel_id(text: str) -> bool:
    """``C0123ABCDE`` and ``G0123ABCDE`` are; ``#general`` is not."""
    return CHANNEL_ID.fullmatch(text) is not None
