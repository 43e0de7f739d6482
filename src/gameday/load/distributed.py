"""`--workers N`: Locust's own master in the runner's process and N worker processes on loopback.

The master binds an ephemeral port on 127.0.0.1 and starts `python -m gameday.load.worker` N
times. Workers send their records to the master in batches (Locust custom messages), with their
HdrHistogram deltas and counts; the master stamps each record's phase from its send instant and
hands it to the sink, and merges the histograms. Runtime controls go the other way.

Stopping: the master asks every worker to stop sending, drain and flush; each answers
`gameday_drained` after its last batch (one socket, in order), then the master quits them.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
import orjson

from gameday.config.load import Adapter, LoadSpec
from gameday.errors import StackError
from gameday.load._locust import Environment, Events
from gameday.load.control import Controls
from gameday.load.livestats import LoadStats
from gameday.load.population import Population
from gameday.load.users import user_classes

__all__ = ["MSG_CONTROL", "MSG_DRAINED", "MSG_RECORDS", "MSG_STATS", "MSG_STOP", "DistributedBackend"]

log = logging.getLogger("gameday.load")

MSG_RECORDS, MSG_STATS, MSG_DRAINED = "gameday_records", "gameday_stats", "gameday_drained"
MSG_CONTROL, MSG_STOP = "gameday_control", "gameday_stop"
CONNECT_TIMEOUT_S = 60.0


class DistributedBackend:
    def __init__(
        self,
        spec: LoadSpec,
        target_url: str,
        adapter: Adapter,
        *,
        seed: int,
        origin: float,
        workers: int,
        deliver: Callable[[dict[str, Any]], None],
        stats: LoadStats,
        controls: Controls,
        level_at: Callable[[], float | None],
        max_duration_s: float,
        log_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.workers = workers
        self.deliver = deliver
        self.stats = stats
        self.controls = controls
        self.level_at = level_at
        self.origin = origin
        self.max_duration_s = max_duration_s
        self.load_start = 0.0
        self.sent_by: dict[int, int] = {}
        self.in_flight_by: dict[int, int] = {}
        self.drained: set[int] = set()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.population: Population | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="gameday-load-"))
        self.log_dir = log_dir or self.tmp
        self.env = Environment(
            user_classes=user_classes(None, spec.model, spec.think_time_s),
            events=Events(),
            host=target_url,
            stop_timeout=0,
        )
        self.runner = self.env.create_master_runner("127.0.0.1", 0)
        self.port = int(self.runner.server.port)
        self.runner.register_message(MSG_RECORDS, self._on_records)
        self.runner.register_message(MSG_STATS, self._on_stats)
        self.runner.register_message(MSG_DRAINED, self._on_drained)
        self.config_path = self.tmp / "worker.json"
        self.config_path.write_bytes(
            orjson.dumps(
                {
                    "spec": spec.model_dump(mode="json", by_alias=True),
                    "target_url": target_url,
                    "adapter": adapter.model_dump(mode="json"),
                    "seed": seed,
                    "origin": origin,
                    "workers": workers,
                    "master_port": self.port,
                    "max_duration_s": max_duration_s,
                }
            )
        )

    # --- messages from workers (run in the master's listener greenlet, one at a time) ---

    def _on_records(self, environment: Any, msg: Any, **_: Any) -> None:
        for fields in msg.data.get("records", []):
            self.deliver(fields)

    def _on_stats(self, environment: Any, msg: Any, **_: Any) -> None:
        worker = int(msg.data["worker"])
        self.sent_by[worker] = int(msg.data["sent"])
        self.in_flight_by[worker] = int(msg.data.get("in_flight", 0))
        self.stats.merge(msg.data.get("delta", {}))

    def _on_drained(self, environment: Any, msg: Any, **_: Any) -> None:
        self._on_stats(environment, msg)
        self.drained.add(int(msg.data["worker"]))

    @property
    def sent(self) -> int:
        return sum(self.sent_by.values())

    @property
    def in_flight(self) -> int:
        return sum(self.in_flight_by.values())

    # --- lifecycle ---

    def _spawn(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for index in range(self.workers):
            log_file = (self.log_dir / f"load-worker-{index + 1}.log").open("wb")
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "gameday.load.worker", str(self.config_path), str(index)],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            finally:
                log_file.close()
            self.procs.append(proc)

    def _wait_ready(self) -> None:
        end = time.monotonic() + CONNECT_TIMEOUT_S
        while len(self.runner.clients.ready) < self.workers:
            for index, proc in enumerate(self.procs):
                if proc.poll() is not None:
                    raise StackError(f"load worker {index + 1} exited with {proc.returncode}:\n{self._log_tail(index)}")
            if time.monotonic() > end:
                raise StackError(
                    f"only {len(self.runner.clients.ready)} of {self.workers} load workers connected within "
                    f"{CONNECT_TIMEOUT_S:.0f} s:\n{self._log_tail(0)}"
                )
            gevent.sleep(0.05)

    def _log_tail(self, index: int) -> str:
        path = self.log_dir / f"load-worker-{index + 1}.log"
        try:
            return path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def _push(self) -> None:
        at = self.controls.changes[-1][0] if self.controls.changes else -1e300
        self.runner.send_message(MSG_CONTROL, {"load_start": self.load_start, "at": at, **self.controls.as_dict()})

    def start(self, clock: Callable[[], float]) -> None:
        self._spawn()
        try:
            self._wait_ready()
        except BaseException:
            self._terminate(grace_s=0.0)
            raise
        # The load starts once every worker is there: arrivals scheduled while they were still
        # starting would all leave late at once, their latencies charged with the start-up time.
        self.load_start = clock()
        self._push()
        if self.spec.model == "open":
            self.runner.start(self.workers, spawn_rate=self.workers)
            return
        self.population = Population(
            self.runner,
            self.level_at,
            max_users=self.spec.max_users,
            spawn_rate=self.spec.spawn_rate,
            deadline=lambda: time.monotonic() - self.origin >= self.load_start + self.max_duration_s,
        )
        self.population.start()

    def apply(self, controls: Controls) -> None:
        self._push()
        if self.population is not None:
            self.population.poke()

    def stop(self, drain_s: float) -> None:
        if self.population is not None:
            self.population.stop()
        self.runner.send_message(MSG_STOP, {"drain_s": drain_s})
        end = time.monotonic() + drain_s + 15.0
        while len(self.drained) < len(self.procs) and time.monotonic() < end:
            if all(p.poll() is not None for p in self.procs):
                break
            gevent.sleep(0.02)
        missing = sorted(set(range(1, len(self.procs) + 1)) - self.drained)
        if missing:
            log.error("load workers %s did not report their last records", missing)
        self.runner.quit()
        self._terminate()

    def _terminate(self, grace_s: float = 10.0) -> None:
        """Workers leave by themselves once quit; whoever does not within `grace_s` is stopped."""
        end = time.monotonic() + grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self.runner.greenlet.kill(block=True, timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)
