"""The live view of a run: a one-line dashboard on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Progress", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    phase: str
    phase_elapsed_s: float
    phase_duration_s: float
    run_elapsed_s: float
    run_duration_s: float
    req_per_s: float
    p95_s: float | None
    errors: int
    fallbacks: int
    sent: int
    spend_usd: float | None = None
    ceiling_usd_per_min: float | None = None

    def line(self) -> str:
        p95 = f"{self.p95_s * 1000:.0f}ms" if self.p95_s is not None else "-"
        spend = ""
        if self.spend_usd is not None:
            spend = f" spend=${self.spend_usd:.4f}"
            if self.ceiling_usd_per_min:
                spend += f" (ceiling ${self.ceiling_usd_per_min:.2f}/min)"
        return (
            f"[{self.run_elapsed_s:6.1f}/{self.run_duration_s:.0f}s] phase={self.phase} "
            f"({self.phase_elapsed_s:.0f}/{self.phase_duration_s:.0f}s) sent={self.sent} "
            f"rps={self.req_per_s:.1f} p95={p95} errors={self.errors} fallbacks={self.fallbacks}{spend}"
        )


class Progress:
    """Prints snapshots: in place on a TTY, a plain line every `interval_s` otherwise."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 5.0, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = 1.0 if self.tty else interval_s
        self.quiet = quiet
        self._last = 0.0

    def message(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def update(self, snapshot: Snapshot, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.interval_s):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\033[K" + snapshot.line())
        else:
            self.stream.write(snapshot.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
