"""Failures: what the asker is told (without the exception text) and what the log gets."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from handlers.context import Ask, DeliveryError, guarded, problem_text
from storage.db import StoreError
from tests.handlers.conftest import RecordingOutbox

BUSY = ":hourglass: The episode database is busy right now. Please try again in a moment."
UNREADABLE = ":warning: I couldn't read the episode database. Please try again in a moment."
SLACK = ":warning: Slack didn't accept my answer. Please try again in a moment."
OTHER = ":warning: Something went wrong on my side. Please try again in a moment."


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (sqlite3.OperationalError("database is locked"), BUSY),
        (sqlite3.OperationalError("database table is LOCKED"), BUSY),
        (sqlite3.OperationalError("no such table: episodes"), UNREADABLE),
        (sqlite3.DatabaseError("file is not a database"), UNREADABLE),
        (StoreError("data/episodes.db is from a newer version"), UNREADABLE),
        (DeliveryError("response URL answered 404"), SLACK),
        (ValueError("a bug"), OTHER),
    ],
)
def test_problem_text(exc: BaseException, text: str) -> None:
    assert problem_text(exc) == text


async def test_guarded_tells_the_asker_and_logs_the_details(
    ask: Ask, outbox: RecordingOutbox, caplog: pytest.LogCaptureFixture
) -> None:
    async def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with caplog.at_level(logging.ERROR, logger="episode_bot"):
        await guarded(ask, "slash command", locked, text="argo")
    assert outbox.only().message.text == BUSY
    [record] = caplog.records
    line = record.getMessage()
    assert line.startswith("slash command failed (user=U0ASKER channel=C0GENERAL source=slash")
    assert "text='argo'" in line and "OperationalError: database is locked" in line
    assert not record.exc_info  # an expected failure: one line, no traceback

    async def bug() -> None:
        raise ValueError("a bug")

    with caplog.at_level(logging.ERROR, logger="episode_bot"):
        await guarded(ask, "slash command", bug)
    assert outbox.last().message.text == OTHER
    assert caplog.records[-1].exc_info  # unexpected: the traceback is logged
