"""The bound on work in flight (Capacity) and the log lines a flood cannot multiply (LogBudget)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from handlers.overload import Busy, Capacity, LogBudget


async def test_capacity_admits_the_bound_queues_a_few_and_refuses_the_rest() -> None:
    capacity = Capacity(2, max_waiting=1, max_wait=5.0)
    release = asyncio.Event()
    order: list[int] = []

    async def work(i: int) -> str:
        try:
            async with capacity.slot():
                order.append(i)
                await release.wait()
            return "done"
        except Busy:
            return "busy"

    tasks = [asyncio.create_task(work(i)) for i in range(5)]
    await asyncio.sleep(0.05)
    assert (capacity.in_flight, capacity.waiting, capacity.full()) == (2, 1, True)
    release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert results == ["done", "done", "done", "busy", "busy"]
    assert order == [0, 1, 2] and capacity.peak_in_flight == 2
    assert (capacity.in_flight, capacity.waiting, capacity.full()) == (0, 0, False)


async def test_waiting_past_the_deadline_is_busy_and_frees_its_place() -> None:
    capacity = Capacity(1, max_waiting=1, max_wait=0.1)
    async with capacity.slot():
        started = time.monotonic()
        with pytest.raises(Busy):
            async with capacity.slot():
                pytest.fail("ran without a slot")
        assert 0.1 <= time.monotonic() - started < 1
        assert capacity.waiting == 0
    async with capacity.slot():  # the slot was not lost to the timed-out waiter
        assert capacity.in_flight == 1


async def test_a_failure_inside_gives_the_slot_back() -> None:
    capacity = Capacity(1, max_waiting=0)
    with pytest.raises(ValueError):
        async with capacity.slot():
            raise ValueError("a bug")
    async with capacity.slot():
        assert capacity.in_flight == 1


async def test_busy_notices_on_their_way_are_bounded_too() -> None:
    capacity = Capacity(1)
    release = asyncio.Event()
    sent: list[int] = []

    async def tell(i: int) -> None:
        try:
            async with capacity.notice():
                await release.wait()
                sent.append(i)
        except Busy:
            pass

    tasks = [asyncio.create_task(tell(i)) for i in range(10)]
    await asyncio.sleep(0.05)
    assert capacity.notices == capacity.max_notices == 4
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert sent == [0, 1, 2, 3] and capacity.notices == 0


def test_capacity_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        Capacity(0)


def test_log_budget_logs_a_few_then_counts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("episode_bot.test_budget")
    budget = LogBudget(logger, "requests refused", per_window=3, window=0.2)
    with caplog.at_level(logging.INFO, logger=logger.name):
        for i in range(50):
            budget.log("refused request %d", i)
        time.sleep(0.25)
        budget.log("refused request %d", 50)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:3] == ["refused request 0", "refused request 1", "refused request 2"]
    assert lines[3].startswith("47 more requests refused in the last ")
    assert lines[4:] == ["refused request 50"]
