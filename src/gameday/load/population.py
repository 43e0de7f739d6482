"""Closed model: keep Locust's user count on the shape's level times the multiplier.

A small loop ticks the shape (every `TICK_S`, and at once when the multiplier changes) and asks
the runner (local or master) for the new count only when it changes. Users leaving finish their
request first (Locust's graceful stop): no request is cut by a change of level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event

__all__ = ["Population"]

log = logging.getLogger("gameday.load")
TICK_S = 0.2


class Population:
    def __init__(
        self,
        runner: Any,
        level_at: Callable[[], float | None],
        *,
        max_users: int,
        spawn_rate: float,
        deadline: Callable[[], bool],
    ) -> None:
        self.runner = runner
        self.level_at = level_at
        self.max_users = max_users
        self.spawn_rate = spawn_rate
        self.deadline = deadline
        self.target = 0
        self.wake = gevent.event.Event()
        self.stopped = gevent.event.Event()
        self._greenlet: gevent.Greenlet | None = None

    def target_for(self, level: float | None) -> int:
        if level is None:
            return 0
        return max(0, min(self.max_users, round(level)))

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._loop)

    def _loop(self) -> None:
        while not self.stopped.is_set() and not self.deadline():
            target = self.target_for(self.level_at())
            if target != self.target:
                self.target = target
                log.debug("closed model: %d users", target)
                self.runner.start(target, spawn_rate=self.spawn_rate)
            self.wake.clear()
            self.wake.wait(timeout=TICK_S)

    def poke(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        if self._greenlet is not None:
            self._greenlet.join(timeout=5)
            self._greenlet.kill(block=True, timeout=1)
