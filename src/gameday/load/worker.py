"""One load worker process: `python -m gameday.load.worker CONFIG.json INDEX` (started by the master).

It runs Locust's `WorkerRunner` connected to the master on loopback, sends its records in
batches with its histogram deltas, applies the controls the master pushes, and on `stop` drains,
flushes and reports before the master quits it. It leaves by itself if the master goes away.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import gevent
import gevent.lock
import orjson

from gameday.config.load import Adapter, LoadSpec
from gameday.load._locust import Environment, Events
from gameday.load.distributed import MSG_CONTROL, MSG_DRAINED, MSG_RECORDS, MSG_STATS, MSG_STOP
from gameday.load.runtime import LoadRuntime
from gameday.load.users import user_classes

__all__ = ["main"]

FLUSH_EVERY_S = 0.2
BATCH = 500


class Worker:
    def __init__(self, config: dict[str, Any], index: int) -> None:
        self.index = index
        self.number = index + 1  # the record's `worker`: 0 is the runner's own process
        self.parent = os.getppid()
        spec = LoadSpec.model_validate(config["spec"])
        self.max_duration_s = float(config["max_duration_s"])
        self.buffer: list[dict[str, Any]] = []
        self.runtime = LoadRuntime(
            spec,
            spec.load_workload(),
            config["target_url"],
            Adapter.model_validate(config["adapter"]),
            seed=int(config["seed"]),
            origin=float(config["origin"]),
            emit=self.buffer.append,
            worker=self.number,
            workers=int(config["workers"]),
            index=index,
            deadline_s=self.max_duration_s,
        )
        self.env = Environment(
            user_classes=user_classes(self.runtime, spec.model, spec.think_time_s),
            events=Events(),
            host=config["target_url"],
        )
        self.runner = self.env.create_worker_runner("127.0.0.1", int(config["master_port"]))
        self.runner.register_message(MSG_CONTROL, self._on_control)
        self.runner.register_message(MSG_STOP, self._on_stop, concurrent=True)
        self.stopping = False
        # One sender at a time: the last batch must not be overtaken by `drained` (the master quits on it).
        self.sending = gevent.lock.Semaphore()

    def _on_control(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        rt = self.runtime
        rt.load_start = float(data["load_start"])
        rt.deadline = rt.load_start + self.max_duration_s
        if float(data["multiplier"]) != rt.controls.multiplier:
            rt.controls.set_multiplier(float(data["multiplier"]), at=float(data["at"]))
        rt.controls.set_malformed_share(float(data["malformed_share"]))

    def _stats(self) -> dict[str, Any]:
        rt = self.runtime
        return {"worker": self.number, "sent": rt.sent, "in_flight": rt.in_flight, "delta": rt.stats.delta()}

    def flush(self, last: bool = False) -> None:
        with self.sending:
            while self.buffer:
                batch, self.buffer[:] = self.buffer[:BATCH], self.buffer[BATCH:]
                self.runner.send_message(MSG_RECORDS, {"worker": self.number, "records": batch})
            self.runner.send_message(MSG_DRAINED if last else MSG_STATS, self._stats())

    def _flusher(self) -> None:
        while not self.stopping:
            gevent.sleep(FLUSH_EVERY_S)
            if not self.stopping:
                self.flush()
            if os.getppid() != self.parent:  # the master's process is gone: nobody to report to
                self.runner.quit()
                return

    def _on_stop(self, environment: Any, msg: Any, **_: Any) -> None:
        rt = self.runtime
        rt.close()
        rt.drain(float(msg.data.get("drain_s", 0.0)))
        self.stopping = True
        # Closed-model users still in a request are killed (recorded as timeouts), then open-model ones.
        self.runner.stop()
        rt.kill_in_flight()
        self.flush(last=True)

    def run(self) -> None:
        flusher = gevent.spawn(self._flusher)
        try:
            self.runner.greenlet.join(timeout=self.max_duration_s + 3600)
        finally:
            self.stopping = True
            flusher.kill(block=True, timeout=2)
            self.runtime.shutdown()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m gameday.load.worker CONFIG.json INDEX", file=sys.stderr)
        return 2
    with open(args[0], "rb") as handle:
        config = orjson.loads(handle.read())
    started = time.monotonic()
    Worker(config, int(args[1])).run()
    print(f"load worker {int(args[1]) + 1} done after {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
