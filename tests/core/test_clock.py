from __future__ import annotations

import asyncio

import pytest

from nightowl.core.clock import ManualClock


async def test_sleeper_wakes_only_when_the_clock_reaches_its_deadline() -> None:
    clock = ManualClock(100.0)
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(10)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    clock.advance(9)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(1)
    await task
    assert woke == [110.0]


def test_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock(100.0)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(99.0)
