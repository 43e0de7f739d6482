"""The run's events (`events.jsonl`, written by the runner's journal), read as typed records.

Lines look like `{"t", "wall", "event", "phase", "fault", "target", "detail"}`; the events the
measurement reads are phase_start, phase_end, fault_inject, fault_remove and abort. Other events
and fields are kept but not interpreted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from gameday.errors import ConfigError
from gameday.measure.plan import RunPlan

__all__ = ["Event", "PhaseWindow", "load_events", "phase_windows"]


class Event(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    t: float
    wall: float | None = None
    event: str
    phase: str | None = None
    fault: str | None = None
    target: str | None = None
    detail: Any = None


class PhaseWindow(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    start_s: float
    end_s: float
    ended: bool = True  # False when the run stopped (abort) before the phase's end

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


def load_events(path: Path | str) -> list[Event]:
    """Events of an `events.jsonl`; a torn last line is skipped, other bad lines are a `ConfigError`."""
    path = Path(path)
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Is this a results folder of `gameday run`?") from None
    out = []
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    for i, (number, line) in enumerate(numbered):
        try:
            out.append(Event.model_validate(orjson.loads(line)))
        except orjson.JSONDecodeError:
            if i == len(numbered) - 1:
                break
            raise ConfigError(f"{path}:{number}: not valid JSON.") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "event"
            raise ConfigError(f"{path}:{number}: not an event: {where}: {first['msg']}") from None
    return sorted(out, key=lambda e: e.t)


def phase_windows(events: list[Event], plan: RunPlan, last_t: float | None = None) -> list[PhaseWindow]:
    """Each phase's [start, end] on the run clock, from phase_start/phase_end events.

    A phase that started but never ended (an abort) ends at the abort, else at `last_t`. Without any
    phase event (a folder from an older runner) the plan's durations are laid end to end.
    """
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    order: list[str] = []
    abort_t = next((e.t for e in events if e.event == "abort"), None)
    for e in events:
        if e.phase is None:
            continue
        if e.event == "phase_start" and e.phase not in starts:
            starts[e.phase] = e.t
            order.append(e.phase)
        elif e.event == "phase_end":
            ends[e.phase] = e.t
    if not starts:
        out, t = [], 0.0
        for p in plan.phases:
            out.append(PhaseWindow(name=p.name, start_s=t, end_s=t + p.duration_s))
            t += p.duration_s
        return out
    windows = []
    for i, name in enumerate(order):
        start = starts[name]
        if name in ends:
            windows.append(PhaseWindow(name=name, start_s=start, end_s=ends[name]))
            continue
        nxt = starts[order[i + 1]] if i + 1 < len(order) else None
        fallback_end = abort_t if abort_t is not None else (last_t if last_t is not None else start)
        end = nxt if nxt is not None else fallback_end
        windows.append(PhaseWindow(name=name, start_s=start, end_s=max(start, end), ended=False))
    return windows
