"""How values, bounds and places are written in verdicts, so every sentence reads the same way."""

from __future__ import annotations

from gameday.config.expectations import METRICS, Unit

__all__ = ["fmt_pair", "fmt_value", "where_phrase"]


def fmt_value(metric: str, value: float, digits: int = 3) -> str:
    """`3.41 s`, `97.5%`, `$0.0123`, `$1.2/min`, `42`, `18.3/s` according to the metric's unit."""
    unit = METRICS[metric].unit if metric in METRICS else Unit.COUNT
    g = f"{{:.{digits}g}}"
    if unit is Unit.SECONDS:
        return f"{g.format(value)} s"
    if unit is Unit.RATIO:
        return f"{g.format(value * 100)}%"
    if unit is Unit.USD:
        return f"${g.format(value)}"
    if unit is Unit.USD_PER_MIN:
        return f"${g.format(value)}/min"
    if unit is Unit.PER_SECOND:
        return f"{g.format(value)}/s"
    return f"{value:g}" if value == int(value) else g.format(value)


def fmt_pair(metric: str, value: float, bound: float) -> tuple[str, str]:
    """Value and bound with enough digits that different numbers never print the same."""
    for digits in (3, 4, 5, 6, 8, 12):
        a, b = fmt_value(metric, value, digits), fmt_value(metric, bound, digits)
        if a != b or value == bound:
            return a, b
    return a, b


def where_phrase(phase: str | None, workload_class: str | None) -> str:
    """`in phase outage for class chat`, `over the whole run`."""
    place = f"in phase {phase}" if phase else "over the whole run"
    return f"{place} for class {workload_class}" if workload_class else place
