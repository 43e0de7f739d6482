"""The capacity model: a fixed number of slots, a FIFO queue behind them, refusal beyond the queue.

A request takes a slot at once when one is free and nobody is waiting; otherwise it waits its turn
in the queue, unless the queue is full (`Overloaded`). A waiter whose client has gone leaves the
queue. Resizing (admin `POST /admin/capacity`) takes effect for the next admissions and releases.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["ClientGone", "Overloaded", "SlotPool"]


class Overloaded(Exception):
    """Every slot is busy and the queue is full."""

    def __init__(self, running: int, waiting: int) -> None:
        super().__init__(f"{running} requests running and {waiting} waiting")
        self.running = running
        self.waiting = waiting


class ClientGone(Exception):
    """The client went away while its request waited in the queue."""


class SlotPool:
    def __init__(self, max_concurrency: int, max_queue: int) -> None:
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.running = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, client_gone: Callable[[], bool] | None = None, poll_s: float = 0.1) -> None:
        """Take a slot, waiting in line if need be; raises `Overloaded` or `ClientGone`."""
        if self.running < self.max_concurrency and not self._waiters:
            self.running += 1
            return
        if len(self._waiters) >= self.max_queue:
            raise Overloaded(self.running, len(self._waiters))
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            while True:
                done, _ = await asyncio.wait({turn}, timeout=poll_s)
                if done:
                    return
                if client_gone is not None and client_gone():
                    raise ClientGone()
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release()  # the slot was handed over just as we gave up: pass it on
            else:
                self._waiters.remove(turn)
                turn.cancel()
            raise

    def release(self) -> None:
        self.running -= 1
        self._admit_waiters()

    def resize(self, max_concurrency: int, max_queue: int) -> None:
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self._admit_waiters()

    def _admit_waiters(self) -> None:
        while self._waiters and self.running < self.max_concurrency:
            turn = self._waiters.popleft()
            if not turn.done():
                self.running += 1
                turn.set_result(None)
