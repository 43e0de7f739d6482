"""The load inside one process (the runner's, or one worker's): plans, the transport, the schedule.

Locust users call into it: a closed-model user calls `closed_step()` once per task (one request),
the open-model user runs `dispatch()`, which sends each request at its intended instant from a
bounded gevent pool. Either way `send()` turns a plan into exactly one record, whatever happens
to the request (a greenlet killed at the end of a drain is recorded as a `timeout`).

Clocks: records use the run clock (`time.monotonic() - origin`; `origin` is the same instant in
every process, since the monotonic clock is system-wide); shapes use seconds since `load_start`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.pool

from gameday.config.load import Adapter, LoadSpec
from gameday.config.workload import Workload
from gameday.load.caller import ChatCaller, Outcome, RequestTimeout
from gameday.load.client import GeventTransport
from gameday.load.control import Controls
from gameday.load.livestats import LoadStats
from gameday.load.mix import PlanSource, RequestPlan
from gameday.load.schedule import ArrivalSchedule, Due, Finished, TraceSchedule

__all__ = ["LoadRuntime", "seed_for"]

log = logging.getLogger("gameday.load")
IDLE_WAIT_S = 0.5


def seed_for(seed: int, worker: int, purpose: str) -> int:
    """Independent, reproducible random streams per worker and purpose."""
    return random.Random(f"{seed}/{worker}/{purpose}").getrandbits(63)


def _deadline(seconds: float) -> gevent.Timeout:
    return gevent.Timeout(seconds, RequestTimeout)


class LoadRuntime:
    def __init__(
        self,
        spec: LoadSpec,
        workload: Workload,
        target_url: str,
        adapter: Adapter,
        *,
        seed: int,
        origin: float,
        emit: Callable[[dict[str, Any]], None],
        worker: int = 0,
        workers: int = 1,
        index: int = 0,
        deadline_s: float = 48 * 3600,
        stats: LoadStats | None = None,
        controls: Controls | None = None,
    ) -> None:
        self.spec = spec
        self.workload = workload
        self.origin = origin
        self.emit = emit
        self.worker = worker
        self.workers = max(1, workers)
        self.index = index
        # `max_requests` is the whole load's: each of N workers sends its part of it.
        whole, rest = divmod(spec.max_requests, self.workers)
        self.max_requests = whole + (1 if index < rest else 0)
        self.controls = controls if controls is not None else Controls(malformed_share=_initial_share(spec, workload))
        self.changed = gevent.event.Event()
        self.controls.on_change.append(self.changed.set)
        self.closing = gevent.event.Event()
        self.load_start = self.clock()
        self.deadline = self.load_start + deadline_s
        self.sent = 0
        self.finished = 0
        self.stats = stats if stats is not None else LoadStats(ships=worker > 0)
        self.on_record: list[Callable[[dict[str, Any]], None]] = []
        self.plans = PlanSource(
            workload,
            seed=seed_for(seed, worker, "plans"),
            stream_share=spec.stream_share,
            include_usage=spec.include_usage,
        )
        size = spec.max_in_flight if spec.model == "open" else spec.max_users
        self.transport = GeventTransport(
            target_url, size=size, connect_timeout=spec.connect_timeout_s, network_timeout=spec.request_timeout_s
        )
        self.caller = ChatCaller(
            self.transport,
            adapter,
            clock=self.clock,
            timeout_s=spec.request_timeout_s,
            path=spec.path,
            headers=list(spec.headers.items()),
            guard=_deadline,
            chars_per_token=workload.chars_per_token,
        )
        self.pool = gevent.pool.Pool(spec.max_in_flight)
        self._arrival_rng = random.Random(seed_for(seed, worker, "arrivals"))

    # --- clocks and levels ---

    def clock(self) -> float:
        return time.monotonic() - self.origin

    def level(self, t: float) -> float | None:
        """Offered load at run-clock instant `t`: the shape's level times the multiplier."""
        shape = self.spec.shape
        if shape is None:
            return None
        stage = shape.tick(t - self.load_start)
        return None if stage is None else stage.level * self.controls.multiplier_at(t)

    @property
    def in_flight(self) -> int:
        return self.sent - self.finished

    # --- one request, one record ---

    def send(self, plan: RequestPlan, intended: float | None = None) -> None:
        t0 = self.clock()
        self.sent += 1
        out = Outcome(in_tokens=plan.in_tokens)
        try:
            self.caller.call(plan, out, t0, f"{self.worker}-{self.sent}")
        except Exception:  # a bug of ours must not lose the record; the server did nothing wrong
            log.exception("the load failed to handle a response")
            out.error = out.error or "bad_body"
        except BaseException:  # killed at the end of the drain: the client gave up waiting
            out.error = out.error or "timeout"
            raise
        finally:
            if out.e2e_s is None:
                out.e2e_s = max(0.0, self.clock() - t0)
            self._record(plan, out, t0, intended)

    def _record(self, plan: RequestPlan, out: Outcome, t0: float, intended: float | None) -> None:
        served = out.served
        fields: dict[str, Any] = {
            "t": round(t0, 6),
            "phase": "",
            "task": plan.task,
            "tier": plan.tier,
            "stream": plan.stream,
            "status": out.status,
            "error": out.error,
            "ttft_s": None if out.ttft_s is None else round(out.ttft_s, 6),
            "e2e_s": None if out.e2e_s is None else round(out.e2e_s, 6),
            "in_tokens": out.in_tokens,
            "out_tokens": out.out_tokens,
            "model": served.model,
            "provider": served.provider,
            "route": served.route,
            "attempts": served.attempts,
            "fallback": served.fallback,
            "cost_usd": served.cost_usd,
            "worker": self.worker,
            "expected_4xx": plan.expected_4xx,
            "intended_t": None if intended is None else round(intended, 6),
        }
        self.finished += 1
        try:
            self.stats.feed(fields)
            for hook in self.on_record:
                hook(fields)
        finally:
            self.emit(fields)

    # --- closed model: one request per user task ---

    def closed_step(self) -> bool:
        """Send one request; False when the load is closing or has sent all it may."""
        if self.closing.is_set() or self.sent >= self.max_requests or self.clock() >= self.deadline:
            return False
        self.send(self.plans.next(self.controls.malformed_share))
        return True

    # --- open model: requests at intended instants ---

    def schedule(self) -> ArrivalSchedule | TraceSchedule[Any]:
        trace = self.workload.trace
        if trace is not None:
            entries = [(e.t, e) for e in self.workload.trace_entries]
            return TraceSchedule(
                entries,
                start=self.load_start,
                speed=trace.speed,
                loop=trace.loop,
                multiplier=lambda: self.controls.multiplier,
                rng=self._arrival_rng,
                index=self.index,
                workers=self.workers,
            )
        return ArrivalSchedule(
            self.level,
            start=self.load_start,
            arrivals=self.spec.arrivals,
            rng=self._arrival_rng,
            share=1.0 / self.workers,
            offset=self.index / self.workers,
        )

    def dispatch(self) -> None:
        """Send every request the schedule asks for until it finishes, the load closes, or a bound is hit."""
        schedule = self.schedule()
        # Counted here, not by `sent`: a spawned request counts itself only once it runs.
        dispatched = 0
        while not self.closing.is_set() and dispatched < self.max_requests:
            now = self.clock()
            if now >= self.deadline:
                break
            ticket = schedule.next_due(now)
            if isinstance(ticket, Finished):
                break
            if not isinstance(ticket, Due):
                self.changed.clear()
                self.changed.wait(timeout=min(IDLE_WAIT_S, max(0.0, ticket.until - now)))
                continue
            if not self._wait_for_slot():
                break
            item = ticket.item
            plan = self.plans.for_trace(item) if item is not None else self.plans.next(self.controls.malformed_share)
            self.pool.spawn(self.send, plan, ticket.t)
            dispatched += 1

    def _wait_for_slot(self) -> bool:
        """Block while `max_in_flight` requests are out: later requests leave late, and say so."""
        while self.pool.full():
            if self.closing.is_set() or self.clock() >= self.deadline:
                return False
            self.pool.wait_available(timeout=IDLE_WAIT_S)
        return True

    # --- the end ---

    def close(self) -> None:
        """Send nothing more (requests in flight go on)."""
        self.closing.set()
        self.changed.set()

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for requests in flight; True when none is left."""
        end = time.monotonic() + max(0.0, timeout_s)
        while self.in_flight > 0 and time.monotonic() < end:
            gevent.sleep(0.01)
        return self.in_flight == 0

    def kill_in_flight(self) -> None:
        """Open-model requests still out after the drain are killed; each still leaves its record."""
        self.pool.kill(block=True, timeout=10)

    def shutdown(self) -> None:
        self.transport.close()


def _initial_share(spec: LoadSpec, workload: Workload) -> float:
    return spec.malformed_share if spec.malformed_share is not None else workload.malformed.share
