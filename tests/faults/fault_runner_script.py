"""A stand-in for the game-day runner, run as a subprocess by the rollback tests.

It injects the faults given as JSON through the public API (a `RollbackGuard`, or a bare
`Rollback` with `--no-guard`), prints `injected`, then sleeps until a signal (or SIGKILL) ends it.
`--slow-remove S` adds, last, a fault whose removal prints `removing slow` and takes S seconds,
so a test can send a second signal while the rollback is under way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Literal

from gameday.faults import EventJournal, FaultContext, Rollback, RollbackGuard, RunInterrupted, parse_fault
from gameday.faults.base import Fault, FaultSpecBase


class SlowRemoveSpec(FaultSpecBase):
    kind: Literal["slow_remove"] = "slow_remove"
    seconds: float


class SlowRemoveFault(Fault[SlowRemoveSpec]):
    spec_model = SlowRemoveSpec

    def inject(self, ctx: FaultContext) -> None:
        self.touched = True

    def remove(self, ctx: FaultContext) -> None:
        print("removing slow", flush=True)
        time.sleep(self.spec.seconds)  # a signal landing here must not cut the rollback short

    def describe(self) -> str:
        return f"slow removal ({self.spec.seconds:g} s)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", help="stack state file (none: faults on the load only)")
    parser.add_argument("--journal", required=True)
    parser.add_argument("--faults", default="[]", help="JSON list of fault specs")
    parser.add_argument("--no-guard", action="store_true")
    parser.add_argument("--slow-remove", type=float)
    args = parser.parse_args()

    specs = [parse_fault(item) for item in json.loads(args.faults)]
    journal = EventJournal(args.journal)
    if args.state:
        ctx = FaultContext.from_state(args.state, journal=journal)
    else:
        ctx = FaultContext(toxiproxy=None, providers={}, journal=journal)
    extra = [SlowRemoveFault(SlowRemoveSpec(seconds=args.slow_remove))] if args.slow_remove else []

    if args.no_guard:
        rollback = Rollback(ctx)
        for spec in specs:
            rollback.inject(spec, phase="chaos")
        print("injected", flush=True)
        time.sleep(120)
        return 1
    try:
        with RollbackGuard(ctx) as guard:
            for item in [*specs, *extra]:
                guard.inject(item, phase="chaos")
            print("injected", flush=True)
            time.sleep(120)
    except RunInterrupted as exc:
        print(f"rolled back after {exc}", flush=True)
        return 3
    finally:
        ctx.close()
        journal.close()
    return 1


if __name__ == "__main__":
    sys.exit(main())
