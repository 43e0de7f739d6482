"""A small Prometheus text-format registry without process-wide state.

Each service owns its registry (no global default registry, so two services in one test process
never share counters). Only what our services need: counters, gauges and histograms with labels.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence

__all__ = ["Counter", "Gauge", "Histogram", "Registry"]

LabelValues = tuple[str, ...]


def _fmt(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def _key(self, labels: Sequence[str]) -> LabelValues:
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(v) for v in labels)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> Iterable[str]:  # pragma: no cover - overridden
        return ()


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.values: dict[LabelValues, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def get(self, *labels: str) -> float:
        return self.values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label_names, key)} {_fmt(value)}"


class Gauge(_Metric):
    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        reader: Callable[[], Iterable[tuple[LabelValues, float]]] | None = None,
    ) -> None:
        super().__init__(name, help_text, labels)
        self.values: dict[LabelValues, float] = {}
        self.reader = reader  # read the live value at scrape time rather than tracking it

    def set(self, value: float, *labels: str) -> None:
        self.values[self._key(labels)] = float(value)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def dec(self, *labels: str, amount: float = 1.0) -> None:
        self.inc(*labels, amount=-amount)

    def get(self, *labels: str) -> float:
        return self.values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        items = list(self.reader()) if self.reader else sorted(self.values.items())
        for key, value in items:
            yield f"{self.name}{_labels(self.label_names, key)} {_fmt(value)}"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float], labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.bounds = sorted(float(b) for b in buckets)
        self.series: dict[LabelValues, list[float]] = {}  # per bucket counts, then +Inf, then sum

    def observe(self, value: float, *labels: str) -> None:
        key = self._key(labels)
        row = self.series.get(key)
        if row is None:
            row = self.series[key] = [0.0] * (len(self.bounds) + 2)
        row[bisect_left(self.bounds, value)] += 1
        row[-1] += value

    def count(self, *labels: str) -> int:
        row = self.series.get(self._key(labels))
        return int(sum(row[:-1])) if row else 0

    def samples(self) -> Iterable[str]:
        for key, row in sorted(self.series.items()):
            cumulative = 0.0
            for bound, n in zip([*self.bounds, math.inf], row[:-1], strict=True):
                cumulative += n
                le = 'le="' + _fmt(bound) + '"'
                yield f"{self.name}_bucket{_labels(self.label_names, key, le)} {_fmt(cumulative)}"
            yield f"{self.name}_sum{_labels(self.label_names, key)} {_fmt(row[-1])}"
            yield f"{self.name}_count{_labels(self.label_names, key)} {_fmt(cumulative)}"


class Registry:
    """The metrics of one service, rendered in registration order."""

    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        self.metrics: list[_Metric] = []

    def register(self, metric: _Metric) -> _Metric:
        self.metrics.append(metric)
        return metric

    def counter(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
        return self.register(Counter(name, help_text, labels))  # type: ignore[return-value]

    def gauge(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        reader: Callable[[], Iterable[tuple[LabelValues, float]]] | None = None,
    ) -> Gauge:
        return self.register(Gauge(name, help_text, labels, reader))  # type: ignore[return-value]

    def histogram(self, name: str, help_text: str, buckets: Sequence[float], labels: Sequence[str] = ()) -> Histogram:
        return self.register(Histogram(name, help_text, buckets, labels))  # type: ignore[return-value]

    def render(self) -> str:
        lines: list[str] = []
        for metric in self.metrics:
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
