"""`Rollback`: remembers every injected fault until it is removed, and removes with retries.

A fault is registered *before* its inject call, so a half-done or timed-out inject is still undone.
Every inject and remove is journaled with its instant. A removal that fails is journaled
(`fault_remove_failed`), retried, and never stops the removal of the other faults; what could not
be removed stays registered and is named in the error, with the command that clears it.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from gameday.errors import FaultError, GamedayError
from gameday.faults.base import Fault, FaultSpecBase
from gameday.faults.context import FaultContext
from gameday.faults.registry import fault_for

__all__ = ["ActiveFault", "Removal", "Rollback", "RollbackFailed"]

_ids = itertools.count(1)


@dataclass(eq=False)
class ActiveFault:
    """A fault that was injected (or tried) and not yet removed; the handle `remove` takes."""

    fault: Fault[Any]
    phase: str | None
    injected_t: float | None = None
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def kind(self) -> str:
        return self.fault.kind

    @property
    def target(self) -> str | None:
        return self.fault.target

    def describe(self) -> str:
        return self.fault.describe()


@dataclass
class Removal:
    """What a removal pass did: faults removed, and faults that stayed (journaled, still registered)."""

    removed: list[ActiveFault] = field(default_factory=list)
    failed: list[ActiveFault] = field(default_factory=list)


class RollbackFailed(FaultError):
    """Some faults could not be removed; `remaining` lists them. `gameday reset` clears them all."""

    def __init__(self, remaining: list[ActiveFault]) -> None:
        self.remaining = remaining
        names = "; ".join(a.describe() for a in remaining)
        super().__init__(
            f"{len(remaining)} fault(s) could not be removed: {names}. "
            "Run `gameday reset` to clear every fault from the stack (see events.jsonl for the errors)."
        )


class Rollback:
    """The registry of live faults of one run. Thread and greenlet safe."""

    def __init__(self, ctx: FaultContext, *, attempts: int = 3, retry_delay_s: float = 0.25) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.ctx = ctx
        self.attempts = attempts
        self.retry_delay_s = retry_delay_s
        self._active: list[ActiveFault] = []
        self._lock = threading.Lock()

    @property
    def active(self) -> list[ActiveFault]:
        """Live faults, oldest first."""
        with self._lock:
            return list(self._active)

    def inject(self, spec: FaultSpecBase | Fault[Any], phase: str | None = None) -> ActiveFault:
        """Inject one fault and remember it. On failure the partial change is undone and `FaultError` raised."""
        fault = spec if isinstance(spec, Fault) else fault_for(spec)
        active = ActiveFault(fault, phase)
        with self._lock:
            self._active.append(active)
        started = self.ctx.journal.clock()
        try:
            fault.inject(self.ctx)
        except BaseException as exc:
            self._journal("fault_inject_failed", active, error=_text(exc))
            if fault.touched:
                self.remove(active)
            else:
                self._forget(active)
            if isinstance(exc, GamedayError) or not isinstance(exc, Exception):
                raise
            raise FaultError(f"could not inject {fault.describe()}: {_text(exc)}") from exc
        active.injected_t = self.ctx.journal.elapsed()
        self._journal("fault_inject", active, took_ms=round((self.ctx.journal.clock() - started) * 1000, 3))
        return active

    def remove(self, active: ActiveFault) -> bool:
        """Remove one fault, retrying; True when it is gone. Failures are journaled, not raised."""
        for attempt in range(1, self.attempts + 1):
            try:
                active.fault.remove(self.ctx)
            except Exception as exc:
                retry = attempt < self.attempts
                self._journal("fault_remove_failed", active, error=_text(exc), attempt=attempt, will_retry=retry)
                if retry:
                    self.ctx.sleep(self.retry_delay_s * attempt)
                continue
            self._forget(active)
            self._journal("fault_remove", active, attempt=attempt)
            return True
        return False

    def remove_where(self, phase: str | None = None) -> Removal:
        """Remove the live faults (of `phase`, or all), newest first.

        Nothing stops the loop: an exception from one fault, even a KeyboardInterrupt, is journaled and
        the next fault is still removed; a non-`Exception` one is raised again once all were tried.
        Faults that stay are still registered: the final rollback tries them again.
        """
        pending = [a for a in reversed(self.active) if phase is None or a.phase == phase]
        result = Removal()
        interrupt: BaseException | None = None
        for active in pending:
            try:
                (result.removed if self.remove(active) else result.failed).append(active)
            except BaseException as exc:  # e.g. KeyboardInterrupt raised by a handler we do not own
                self._journal("fault_remove_failed", active, error=_text(exc), attempt=0, will_retry=False)
                result.failed.append(active)
                interrupt = interrupt or exc
        if interrupt is not None:
            raise interrupt
        return result

    def _forget(self, active: ActiveFault) -> None:
        with self._lock:
            if active in self._active:
                self._active.remove(active)

    def _journal(self, event: str, active: ActiveFault, **extra: Any) -> None:
        detail = active.fault.detail()
        detail.update(extra)
        self.ctx.journal.write(event, phase=active.phase, fault=active.kind, target=active.target, detail=detail)


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
