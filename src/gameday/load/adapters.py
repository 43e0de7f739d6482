"""Reading what a gateway says about a response, through an `Adapter` (gameday.config.load).

Headers are read once, when they arrive; body paths are read on every JSON object of the
response (each chunk of a stream), the last value found winning. The body's `model` is the
fallback for the served model whatever the adapter (DESIGN.md: the OpenAI-standard field).
Values that do not parse (attempts `"two"`, a cost of `"n/a"`) are dropped, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gameday.config.load import Adapter

__all__ = ["AdapterReader", "Served"]

_FALSE = {"", "0", "false", "no", "none", "null", "off"}


@dataclass(frozen=True, slots=True)
class Served:
    """What the record says about who served a request."""

    model: str | None = None
    provider: str | None = None
    route: str | None = None
    attempts: int = 1
    fallback: bool = False
    cost_usd: float | None = None


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


class AdapterReader:
    """One per request: `headers(...)`, then `body(obj)` per JSON object, then `served()`."""

    def __init__(self, adapter: Adapter) -> None:
        self._header_items: list[tuple[str, str]] = []
        self._body_items: list[tuple[str, tuple[str, ...]]] = []
        for item in Adapter.ITEMS:
            source = getattr(adapter, item)
            if source is None:
                continue
            if source.header is not None:
                self._header_items.append((item, source.header.lower()))
            if source.body is not None:  # read after the headers, so a body value wins
                self._body_items.append((item, tuple(source.body.split("."))))
        self.values: dict[str, Any] = {}
        self.body_model: str | None = None

    def headers(self, headers: Mapping[str, str]) -> None:
        for item, name in self._header_items:
            value = headers.get(name)
            if value is not None:
                self.values[item] = value

    def body(self, obj: dict[str, Any]) -> None:
        model = obj.get("model")
        if isinstance(model, str) and model:
            self.body_model = model
        for item, path in self._body_items:
            value = _dig(obj, path)
            if value is not None:
                self.values[item] = value

    def served(self) -> Served:
        v = self.values
        return Served(
            model=_text(v.get("model")) or self.body_model,
            provider=_text(v.get("provider")),
            route=_text(v.get("route")),
            attempts=_attempts(v.get("attempts")),
            fallback=_flag(v.get("fallback")),
            cost_usd=_cost(v.get("cost_usd")),
        )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:200] or None


def _attempts(value: Any) -> int:
    try:
        number = int(str(value).strip()) if value is not None and not isinstance(value, bool) else 1
    except ValueError:
        return 1
    return number if 0 <= number <= 1_000 else 1


def _flag(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSE


def _cost(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
