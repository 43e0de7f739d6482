"""One direction of one proxied connection: source socket -> chain of toxic stages -> destination socket.

With no toxics a read goes straight to the destination's `write` (the fast path that keeps the proxy's
overhead low). Each toxic adds a `Stage`; stages pass chunks synchronously to the next one, and only a
stage whose toxic waits runs a task. End of stream is `None` travelling the same path; when it reaches
the sink the destination socket is closed, which in turn ends the other direction (as Toxiproxy does:
a close on one side closes the whole connection once it has crossed the toxics).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gameday.toxiproxy.toxics.base import TIMED_OUT, Chunk, Toxic

if TYPE_CHECKING:
    from gameday.toxiproxy.toxic_set import ToxicWrapper

__all__ = ["Link", "Stage"]

log = logging.getLogger(__name__)

# Bytes a link may hold inside its toxics before it stops reading its source (back-pressure).
HIGH_WATER = 1 << 20
LOW_WATER = 1 << 18


class _Sink:
    """The end of a link: writes to the destination transport; end of stream closes it."""

    __slots__ = ("closed", "link")

    def __init__(self, link: Link) -> None:
        self.link = link
        self.closed = False

    def put(self, chunk: Chunk | None) -> None:
        link = self.link
        if chunk is None:
            if not self.closed:
                self.closed = True
                link.close_dest()
            return
        link.release(len(chunk.data))
        if not self.closed:
            link.write(chunk.data)


class Stage:
    """One toxic on one link: an inbox, data held across waits, and the task running the toxic's pipe."""

    def __init__(self, link: Link, wrapper: ToxicWrapper) -> None:
        self.link = link
        self.wrapper = wrapper
        self.loop = link.loop
        self.rng: random.Random = link.rng
        self.next: Stage | _Sink = link.sink
        self.inbox: deque[Chunk | None] = deque()
        self.held: deque[Chunk | None] = deque()
        self.state: Any = wrapper.toxic.new_state()
        self.closed = False  # end of stream has left this stage: later input is dropped
        self.active = False
        self._task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._start()

    # -- data path --------------------------------------------------------------------------
    def put(self, chunk: Chunk | None) -> None:
        if self.closed:
            if chunk is not None:
                self.drop(chunk)
            return
        if self._task is None:
            self._forward(chunk)
            return
        self.inbox.append(chunk)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _forward(self, chunk: Chunk | None) -> None:
        if chunk is None:
            self.closed = True
        self.next.put(chunk)

    # -- the Stub interface toxics use ------------------------------------------------------------
    async def recv(self, idle_s: float | None = None) -> Chunk | None:
        handle: asyncio.TimerHandle | None = None
        while not self.inbox:
            fut = self.loop.create_future()
            self._waiter = fut
            if idle_s is not None:
                handle = self.loop.call_later(idle_s, _wake, fut)
            try:
                await fut
            finally:
                if handle is not None:
                    handle.cancel()
                if self._waiter is fut:
                    self._waiter = None
            if idle_s is not None and not self.inbox:
                return TIMED_OUT  # type: ignore[no-any-return]
        return self.inbox.popleft()

    def send(self, chunk: Chunk | None) -> None:
        if not self.closed:
            self._forward(chunk)
        elif chunk is not None:
            self.drop(chunk)

    def drop(self, chunk: Chunk) -> None:
        self.link.release(len(chunk.data))

    def close(self) -> None:
        if self.closed:
            return
        for queue in (self.held, self.inbox):
            while queue:
                item = queue.popleft()
                if item is not None:
                    self.drop(item)
        self._forward(None)

    async def sleep_until(self, when: float) -> None:
        await asyncio.sleep(max(0.0, when - self.loop.time()))

    async def forever(self) -> None:
        await self.loop.create_future()

    # -- control ----------------------------------------------------------------------------------
    def _start(self) -> None:
        """(Re)draw toxicity and run the toxic, or pass data straight through when it does not apply."""
        wrapper = self.wrapper
        toxic = wrapper.toxic
        self.active = self.rng.random() < wrapper.toxicity
        if self.active and not toxic.passthrough:
            self._task = self.loop.create_task(self._run(toxic))
            return
        self._task = None
        while self.inbox and not self.closed:
            self._forward(self.inbox.popleft())

    async def _run(self, toxic: Toxic) -> None:
        try:
            await toxic.pipe(self)
        except asyncio.CancelledError:
            raise
        except Exception:  # a toxic bug must not take the proxy down; end this connection instead
            log.exception("toxic %s failed; closing its connection", self.wrapper.name)
            self.close()

    def _stop_task(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _flush_held(self) -> None:
        while self.held and not self.closed:
            self._forward(self.held.popleft())
        self.held.clear()

    def restart(self) -> None:
        """Interrupt the pipe: what it held moves on at once, then it runs again with a fresh draw."""
        self._stop_task()
        self._flush_held()
        if not self.closed:
            self._start()

    def detach(self, closing: bool) -> None:
        """Leave the chain: pass on what is held and queued, or end the stream when `closing`."""
        self._stop_task()
        if closing:
            self.close()
            return
        self._flush_held()
        while self.inbox and not self.closed:
            self._forward(self.inbox.popleft())

    def cancel(self) -> None:
        self._stop_task()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Link:
    """Source reads -> toxics -> destination writes, for one direction of one connection."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        rng: random.Random,
        direction: str,
        write: Callable[[bytes], None],
        close_dest: Callable[[], None],
        set_reading: Callable[[str, bool], None],
    ) -> None:
        self.loop = loop
        self.rng = rng
        self.direction = direction
        self.write = write
        self.close_dest = close_dest
        self._set_reading = set_reading
        self.sink = _Sink(self)
        self.stages: list[Stage] = []
        self.first: Stage | _Sink = self.sink
        self.inflight = 0
        self.eof = False
        self._held_back = False

    # -- data path --------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        first = self.first
        if first is self.sink:
            if not first.closed:
                self.write(data)
            return
        self.inflight += len(data)
        if self.inflight > HIGH_WATER and not self._held_back:
            self._held_back = True
            self._set_reading("pipeline", False)
        first.put(Chunk(data, self.loop.time()))

    def feed_eof(self) -> None:
        if not self.eof:
            self.eof = True
            self.first.put(None)

    def release(self, n: int) -> None:
        self.inflight -= n
        if self._held_back and self.inflight < LOW_WATER:
            self._held_back = False
            self._set_reading("pipeline", True)

    @property
    def done(self) -> bool:
        return self.sink.closed

    # -- toxics changing under a live connection ---------------------------------------------------
    def start(self, wrappers: list[ToxicWrapper]) -> None:
        """Build the chain a new connection starts with."""
        for wrapper in wrappers:
            stage = Stage(self, wrapper)
            if self.stages:
                self.stages[-1].next = stage
            else:
                self.first = stage
            self.stages.append(stage)

    def add(self, wrapper: ToxicWrapper) -> None:
        stage = Stage(self, wrapper)
        if self.stages:
            last = self.stages[-1]
            last.next = stage
            last.restart()  # as in Toxiproxy, the neighbour is redrawn
        else:
            self.first = stage
        self.stages.append(stage)

    def update(self, wrapper: ToxicWrapper) -> None:
        for stage in self.stages:
            if stage.wrapper is wrapper:
                stage.restart()

    def remove(self, wrapper: ToxicWrapper) -> None:
        i = next((i for i, stage in enumerate(self.stages) if stage.wrapper is wrapper), None)
        if i is None:
            return
        stage = self.stages[i]
        stage.detach(closing=wrapper.toxic.closes_on_remove)
        del self.stages[i]
        if i > 0:
            prev = self.stages[i - 1]
            prev.next = stage.next
            prev.restart()
        else:
            self.first = stage.next

    def cancel(self) -> None:
        """The connection is gone: stop every toxic task."""
        for stage in self.stages:
            stage.cancel()
