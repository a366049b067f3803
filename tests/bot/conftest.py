"""Fixtures for the Slack app tests: a private copy of the corpus database, the bot on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.bot.harness import running_bot


@pytest.fixture
def bot_db(corpus_db: Path, tmp_path: Path) -> Path:
    """A copy of the 200-episode corpus database this test may write to (searches, shares)."""
    path = tmp_path / "bot.db"
    shutil.copy(corpus_db, path)
    return path


@pytest.fixture
async def bot(bot_db: Path, slack_api):
    """The real app in HTTP mode on 127.0.0.1, its Web API pointed at the stand-in."""
    async with running_bot(bot_db, slack_api) as running:
        yield running
