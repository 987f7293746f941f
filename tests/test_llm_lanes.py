"""The writer's request slots: the oldest waiting function is served first, and no lane is lost."""

from __future__ import annotations

import asyncio

from case2code_hub.inference.lanes import Lanes


def test_free_lane_goes_to_the_oldest_waiter_not_the_first_to_wait():
    async def scenario() -> list[int]:
        lanes = Lanes(1)
        held = await lanes.acquire(0)
        served: list[int] = []

        async def wait(order: int) -> None:
            lane = await lanes.acquire(order)
            served.append(order)
            lanes.release(lane)

        # Fresh functions 7, 8, 9 queue first; then function 3 (a retry) asks again.
        tasks = [asyncio.create_task(wait(order)) for order in (7, 8, 9, 3)]
        await asyncio.sleep(0)
        lanes.release(held)
        await asyncio.gather(*tasks)
        return served

    assert asyncio.run(scenario()) == [3, 7, 8, 9]


def test_cancelled_waiters_lose_no_lane():
    async def scenario() -> tuple[int, int]:
        lanes = Lanes(2)
        a, b = await lanes.acquire(0), await lanes.acquire(1)
        cancelled_early = asyncio.create_task(lanes.acquire(2))
        handed_then_cancelled = asyncio.create_task(lanes.acquire(3))
        await asyncio.sleep(0)
        cancelled_early.cancel()  # cancelled while waiting: release() must skip it
        await asyncio.gather(cancelled_early, return_exceptions=True)
        lanes.release(a)  # goes to order 3 ...
        handed_then_cancelled.cancel()  # ... which is cancelled before it runs: the lane must come back
        await asyncio.gather(handed_then_cancelled, return_exceptions=True)
        lanes.release(b)
        got = [await asyncio.wait_for(lanes.acquire(9), 1), await asyncio.wait_for(lanes.acquire(9), 1)]
        return len(set(got)), len(lanes._free)

    assert asyncio.run(scenario()) == (2, 0)
