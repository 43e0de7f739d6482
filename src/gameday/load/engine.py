"""`LoadEngine`: the load as the runner sees it. Importing this module imports Locust (gevent).

    engine = LoadEngine(spec, "http://127.0.0.1:8080", adapter="gameday", seed=7,
                        record_sink=writer.write, workers=0, origin=journal.start)
    engine.start()
    engine.set_phase("baseline"); ...; engine.set_multiplier(3.0); engine.set_malformed_share(0.3)
    engine.stats()          # live: req/s, p50/p95/p99 of the current phase, errors, fallbacks
    engine.stop()           # drains, then every request sent has its record: sent == recorded

It runs inside the caller's process and cooperates through gevent: the caller must not block
the thread for long (a `time.sleep` is fine: Locust has patched it). The sink is called from
the load's greenlets, one record at a time, with the record's phase set from its send instant.
The engine is also the `LoadControl` the `burst` and `malformed` faults act through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.config.load import Adapter, LoadSpec, resolve_adapter
from gameday.errors import ConfigError
from gameday.load.control import Controls, PhaseTimeline
from gameday.load.distributed import DistributedBackend
from gameday.load.livestats import LoadSnapshot, LoadStats
from gameday.load.local import LocalBackend
from gameday.measure.record import RequestRecord

__all__ = ["LoadEngine"]

log = logging.getLogger("gameday.load")
MAX_WORKERS = 64


class LoadEngine:
    def __init__(
        self,
        spec: LoadSpec,
        target_url: str,
        adapter: Adapter | str | dict[str, Any] | None = "gameday",
        seed: int = 0,
        record_sink: Callable[[RequestRecord], None] | None = None,
        workers: int = 0,
        *,
        origin: float | None = None,
        initial_phase: str = "load",
        max_duration_s: float = 48 * 3600,
        log_dir: Path | None = None,
    ) -> None:
        if not 0 <= workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be between 0 and {MAX_WORKERS}, got {workers}")
        self.spec = spec
        self.workload = spec.load_workload()
        self.target_url = target_url
        self.adapter = resolve_adapter(adapter)
        self.seed = seed
        self.workers = workers
        self.origin = time.monotonic() if origin is None else origin
        self.timeline = PhaseTimeline(initial_phase)
        share = spec.malformed_share if spec.malformed_share is not None else self.workload.malformed.share
        self.controls = Controls(malformed_share=share)
        self.live = LoadStats()
        self.recorded = 0
        self.sink_errors = 0
        self._sink = record_sink or (lambda record: None)
        self._state = "new"
        self.max_duration_s = max_duration_s
        self._backend: LocalBackend | DistributedBackend
        if workers == 0:
            self._backend = LocalBackend(
                spec,
                self.workload,
                target_url,
                self.adapter,
                seed=seed,
                origin=self.origin,
                deliver=self._deliver,
                stats=self.live,
                controls=self.controls,
                max_duration_s=max_duration_s,
            )
        else:
            self._backend = DistributedBackend(
                spec,
                target_url,
                self.adapter,
                seed=seed,
                origin=self.origin,
                workers=workers,
                deliver=self._deliver,
                stats=self.live,
                controls=self.controls,
                level_at=self._level_now,
                max_duration_s=max_duration_s,
                log_dir=log_dir,
            )
        self.controls.on_change.append(lambda: self._backend.apply(self.controls))

    # --- clocks ---

    def clock(self) -> float:
        """Seconds on the run clock (since `origin`)."""
        return time.monotonic() - self.origin

    @property
    def load_start(self) -> float:
        """When the load started on the run clock: the shape's time 0 (with workers: once they are all ready)."""
        return self._backend.load_start

    def _level_now(self) -> float | None:
        shape = self.spec.shape
        if shape is None:
            return None
        stage = shape.tick(self.clock() - self.load_start)
        return None if stage is None else stage.level * self.controls.multiplier

    # --- records ---

    def _deliver(self, fields: dict[str, Any]) -> None:
        fields["phase"] = self.timeline.phase_at(fields["t"])
        record = RequestRecord.model_validate(fields)
        try:
            self._sink(record)
        except Exception:
            self.sink_errors += 1
            log.exception("the record sink failed; record lost: %s", record.to_json()[:200])
            return
        self.recorded += 1

    @property
    def sent(self) -> int:
        return self._backend.sent

    # --- the API the runner drives ---

    def start(self) -> None:
        if self._state != "new":
            raise ConfigError(f"the load engine is {self._state}; start() runs once")
        self._state = "running"
        log.info(
            "load: %s model, workload %s, %s, target %s, %d worker(s)",
            self.spec.model,
            self.workload.name,
            self.spec.shape.kind if self.spec.shape else "trace replay",
            self.target_url,
            self.workers,
        )
        self._backend.start(self.clock)

    def set_phase(self, name: str) -> None:
        self.timeline.set(name, self.clock())
        self.live.new_phase()

    def set_multiplier(self, factor: float) -> None:
        self.controls.set_multiplier(factor, at=self.clock())

    def set_malformed_share(self, share: float) -> None:
        self.controls.set_malformed_share(share)

    def stop(self, drain_s: float | None = None) -> None:
        """Stop sending; wait up to `drain_s` (default: the request timeout) for requests in flight,
        then end them (recorded as timeouts). Idempotent."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopping"
        drain = self.spec.request_timeout_s if drain_s is None else max(0.0, drain_s)
        try:
            self._backend.stop(drain)
        finally:
            self._state = "stopped"
        if self.sent != self.recorded:
            log.error("load: %d requests sent but %d recorded", self.sent, self.recorded)

    def stats(self) -> LoadSnapshot:
        live = self.live
        sent = self.sent
        return LoadSnapshot(
            phase=self.timeline.current,
            sent=sent,
            recorded=self.recorded,
            in_flight=max(0, sent - self.recorded),
            req_per_s=live.rate(self.clock()),
            p50_s=live.percentile(50),
            p95_s=live.percentile(95),
            p99_s=live.percentile(99),
            errors=sum(live.tally.errors.values()),
            fallbacks=live.tally.fallbacks,
            errors_by_kind=dict(live.tally.errors),
            multiplier=self.controls.multiplier,
            malformed_share=self.controls.malformed_share,
        )

    def histograms(self) -> dict[str, HdrHistogram]:
        """The whole run's latency histograms (every worker's, merged), by series name."""
        return dict(self.live.total)

    def __enter__(self) -> LoadEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
