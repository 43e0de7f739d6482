"""`RollbackGuard`: the faults of a run are removed however the run ends.

    with RollbackGuard(ctx) as guard:
        handle = guard.inject(spec, phase="outage")
        ...
        guard.remove_phase("outage")

Removal runs in the guard's `__exit__` (a `finally`), on SIGINT, SIGTERM and SIGHUP (the first
signal raises `RunInterrupted`, a `KeyboardInterrupt`, so the `with` block unwinds into the
rollback; signals that arrive during the rollback are noted and ignored, so a second Ctrl-C
cannot cut it short), and at interpreter exit (atexit) should the block be left some other way.
Previous signal handlers are restored afterwards. A SIGKILL cannot be caught: `gameday reset`
(or `gameday down`) clears every toxic, re-enables every proxy and resets every mock.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType, TracebackType
from typing import Any

from gameday.faults.base import Fault, FaultSpecBase
from gameday.faults.context import FaultContext
from gameday.faults.rollback import ActiveFault, Rollback, RollbackFailed

__all__ = ["DEFAULT_SIGNALS", "RollbackGuard", "RunInterrupted"]

DEFAULT_SIGNALS: tuple[signal.Signals, ...] = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s is not None
)

_Handler = Callable[[int, FrameType | None], Any] | int | None


class RunInterrupted(KeyboardInterrupt):
    """Raised by the guard's signal handler. A KeyboardInterrupt, so `except Exception` cannot swallow it
    and gevent's hub passes it to the main greenlet."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class RollbackGuard:
    """Injects faults through a `Rollback` and guarantees their removal. Use once, with `with`."""

    def __init__(
        self,
        ctx: FaultContext,
        *,
        signals: Sequence[int] = DEFAULT_SIGNALS,
        raise_on_signal: bool = True,
        on_signal: Callable[[int], None] | None = None,
        attempts: int = 3,
        retry_delay_s: float = 0.25,
    ) -> None:
        self.ctx = ctx
        self.rollback = Rollback(ctx, attempts=attempts, retry_delay_s=retry_delay_s)
        self.signals = tuple(signals)
        self.raise_on_signal = raise_on_signal
        self.on_signal = on_signal
        self.received: list[int] = []
        self.signals_installed = False
        self._noted: list[tuple[int, float, float]] = []
        self._previous: dict[int, _Handler] = {}
        self._rolling_back = False
        self._started = False

    # -- the run's side --------------------------------------------------------------------------
    @property
    def interrupted(self) -> int | None:
        """The first signal received, or None. With `raise_on_signal=False` the runner polls this."""
        return self.received[0] if self.received else None

    @property
    def active(self) -> list[ActiveFault]:
        return self.rollback.active

    def inject(self, spec: FaultSpecBase | Fault[Any], phase: str | None = None) -> ActiveFault:
        if self.interrupted is not None or self._rolling_back:
            raise RunInterrupted(self.interrupted or signal.SIGINT)
        return self.rollback.inject(spec, phase)

    def remove(self, active: ActiveFault) -> bool:
        """Remove one fault now (retried; journaled). False when it stays: the final rollback tries again."""
        return self.rollback.remove(active)

    def remove_phase(self, phase: str) -> list[ActiveFault]:
        """Remove the faults injected for `phase` (at its end); returns those removed. A fault that will not
        go is journaled (`fault_remove_failed`), stays in `active`, and is tried again by the final rollback."""
        return self.rollback.remove_where(phase).removed

    def rollback_all(self, reason: str = "end of run") -> list[ActiveFault]:
        """Remove every live fault; signals arriving meanwhile are noted, not obeyed. Returns what stayed."""
        self._rolling_back = True
        self._journal_signals()
        pending = self.rollback.active
        if not pending:
            return []
        self.ctx.journal.write("rollback_start", detail={"reason": reason, "faults": len(pending)})
        failed = self.rollback.remove_where().failed
        self._journal_signals()
        self.ctx.journal.write("rollback_done", detail={"reason": reason, "failed": len(failed)})
        return failed

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> RollbackGuard:
        if self._started:
            raise RuntimeError("a RollbackGuard is used once")
        self._started = True
        atexit.register(self._at_exit)
        self._install()
        return self

    def close(self, exc: BaseException | None = None) -> None:
        """Roll back, restore the previous signal handlers, drop the atexit hook. Raises `RollbackFailed`
        when faults stayed, unless another exception is already on its way out."""
        reason = "end of run" if exc is None else f"{type(exc).__name__}: {exc}".rstrip(": ")
        if self.interrupted is not None:
            reason = f"{signal.Signals(self.interrupted).name} received"
        failed: list[ActiveFault] = []
        try:
            failed = self.rollback_all(reason)
        finally:
            self._restore()
            atexit.unregister(self._at_exit)
        if failed:
            error = RollbackFailed(failed)
            if exc is None:
                raise error
            _say(f"gameday: {error}\n")

    def __enter__(self) -> RollbackGuard:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._rolling_back = True  # first thing: from here on, signals cannot interrupt the rollback
        self.close(exc)

    # -- signals and exit ------------------------------------------------------------------------
    def _install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only; finally and atexit still hold
        for signum in self.signals:
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)
        self.signals_installed = True

    def _restore(self) -> None:
        if not self.signals_installed:
            return
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
        self.signals_installed = False

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # No file or buffered-stream writes here: the interrupted frame may be inside one.
        self.received.append(signum)
        self._noted.append((signum, self.ctx.journal.clock(), self.ctx.journal.wall()))
        name = signal.Signals(signum).name
        if self.on_signal is not None:
            try:
                self.on_signal(signum)
            except Exception as exc:
                _say(f"gameday: on_signal callback failed: {exc}\n")
        if self._rolling_back:
            _say(f"gameday: {name} received during rollback; finishing the rollback first.\n")
            return
        if not self.raise_on_signal:
            return
        count = len(self.rollback.active)
        _say(f"gameday: {name} received; removing {count} fault(s) before exiting.\n")
        raise RunInterrupted(signum)

    def _journal_signals(self) -> None:
        while self._noted:
            signum, clock_value, wall = self._noted.pop(0)
            name = signal.Signals(signum).name
            self.ctx.journal.write_at(clock_value, wall, "signal", detail={"signal": name})

    def _at_exit(self) -> None:
        if self.rollback.active:
            _say("gameday: exiting with faults still injected; removing them.\n")
            failed = self.rollback_all("interpreter exit")
            if failed:
                _say(f"gameday: {RollbackFailed(failed)}\n")
        self._restore()


def _say(text: str) -> None:
    """Unbuffered write to stderr: safe inside a signal handler, unlike print."""
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass
