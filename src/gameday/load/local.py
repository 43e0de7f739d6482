"""The load in the runner's own process: Locust's `LocalRunner` driving our users."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gameday.config.load import Adapter, LoadSpec
from gameday.config.workload import Workload
from gameday.load._locust import Environment, Events
from gameday.load.control import Controls
from gameday.load.livestats import LoadStats
from gameday.load.population import Population
from gameday.load.runtime import LoadRuntime
from gameday.load.users import user_classes

__all__ = ["LocalBackend"]

log = logging.getLogger("gameday.load")


class LocalBackend:
    def __init__(
        self,
        spec: LoadSpec,
        workload: Workload,
        target_url: str,
        adapter: Adapter,
        *,
        seed: int,
        origin: float,
        deliver: Callable[[dict[str, Any]], None],
        stats: LoadStats,
        controls: Controls,
        max_duration_s: float,
    ) -> None:
        self.spec = spec
        self.max_duration_s = max_duration_s
        self.runtime = LoadRuntime(
            spec,
            workload,
            target_url,
            adapter,
            seed=seed,
            origin=origin,
            emit=deliver,
            deadline_s=max_duration_s,
            stats=stats,
            controls=controls,
        )
        self.env = Environment(
            user_classes=user_classes(self.runtime, spec.model, spec.think_time_s),
            events=Events(),
            host=target_url,
            stop_timeout=0,
        )
        self.runner = self.env.create_local_runner()
        self.population: Population | None = None

    @property
    def sent(self) -> int:
        return self.runtime.sent

    @property
    def in_flight(self) -> int:
        return self.runtime.in_flight

    @property
    def load_start(self) -> float:
        return self.runtime.load_start

    def start(self, clock: Callable[[], float]) -> None:
        rt = self.runtime
        load_start = clock()
        rt.load_start = load_start
        rt.deadline = load_start + self.max_duration_s
        if self.spec.model == "open":
            self.runner.start(1, spawn_rate=1)
            return
        self.population = Population(
            self.runner,
            lambda: rt.level(rt.clock()),
            max_users=self.spec.max_users,
            spawn_rate=self.spec.spawn_rate,
            deadline=lambda: rt.clock() >= rt.deadline,
        )
        self.population.start()

    def apply(self, controls: Controls) -> None:
        # The runtime shares `controls` (and is woken by them): only the user count needs a nudge.
        if self.population is not None:
            self.population.poke()

    def stop(self, drain_s: float) -> None:
        rt = self.runtime
        rt.close()
        if self.population is not None:
            self.population.stop()
        if not rt.drain(drain_s):
            log.warning(
                "%d requests still in flight after %.1f s; they are recorded as timeouts", rt.in_flight, drain_s
            )
        # Users still inside a request are killed now; each leaves its record on the way out.
        self.runner.quit()
        rt.kill_in_flight()
        rt.shutdown()
