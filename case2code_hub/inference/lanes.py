"""Request slots ("lanes") shared by every request of a run, handed out oldest function first.

A plain FIFO queue of waiters puts a retried request behind every function already waiting in the
window (up to four rounds of requests), while the caller consumes answers in input order and
cannot move past that function: the whole window stalls behind one 503. Here a free lane goes to
the waiter with the smallest ``order`` (the function's position in the run), so a retry is served
next and the answer the caller waits for comes first.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class Lanes:
    """``count`` slots; ``lane = await lanes.acquire(order)`` ... ``lanes.release(lane)``.

    ``allowed`` (default ``count``) is how many may be in use at once; :meth:`grow` and
    :meth:`shrink` move it between 1 and ``count`` (an adaptive client, see ``EndpointSession``).
    """

    def __init__(self, count: int, allowed: int | None = None) -> None:
        self.count = count
        self.allowed = count if allowed is None else max(1, min(allowed, count))
        self.in_use = 0
        self._free = list(range(count - 1, -1, -1))  # popped from the end: lane 0 first
        self._waiters: list[tuple[int, int, asyncio.Future[int]]] = []
        self._tiebreak = itertools.count()

    async def acquire(self, order: int) -> int:
        if self._free and not self._waiters and self.in_use < self.allowed:
            self.in_use += 1
            return self._free.pop()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (order, next(self._tiebreak), future))
        try:
            return await future
        except asyncio.CancelledError:
            # Handed a lane in the same turn as the cancellation: pass it on, or it is lost.
            if future.done() and not future.cancelled():
                self.release(future.result())
            raise  # a cancelled waiter left in the heap is skipped by release()

    def release(self, lane: int) -> None:
        if self.in_use <= self.allowed and self._hand(lane):
            return  # still in use, by the waiter it went to
        self.in_use -= 1
        self._free.append(lane)

    def _hand(self, lane: int) -> bool:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(lane)
                return True
        return False

    def grow(self) -> None:
        """One more request in flight (up to ``count``), handed at once to a waiter if there is one."""
        self.allowed = min(self.count, self.allowed + 1)
        if self._free and self.in_use < self.allowed:
            lane = self._free.pop()
            if self._hand(lane):
                self.in_use += 1
            else:
                self._free.append(lane)

    def shrink(self) -> None:
        """Half as many in flight (at least one); requests already out finish first."""
        self.allowed = max(1, self.allowed // 2)
