"""The fault kinds by the names scenarios use. Each name is written once, in its spec's `kind` Literal."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from gameday.errors import FaultError
from gameday.faults.base import Fault, FaultSpecBase, kind_of
from gameday.faults.http_errors import HttpErrorsFault
from gameday.faults.latency import LatencyFault
from gameday.faults.load_faults import BurstFault, MalformedFault
from gameday.faults.outage import OutageFault
from gameday.faults.price_change import PriceChangeFault
from gameday.faults.protocol import (
    FirstTokenDelayFault,
    MalformedChunkFault,
    SseErrorFault,
    StallFault,
    StreamCutFault,
    TokenThrottleFault,
    TruncatedBodyFault,
)
from gameday.faults.slow_stream import SlowStreamFault

__all__ = ["FAULT_KINDS", "fault_class", "fault_for"]

_CLASSES: tuple[type[Fault[Any]], ...] = (
    LatencyFault,
    OutageFault,
    SlowStreamFault,
    HttpErrorsFault,
    FirstTokenDelayFault,
    TokenThrottleFault,
    StreamCutFault,
    SseErrorFault,
    StallFault,
    MalformedChunkFault,
    TruncatedBodyFault,
    PriceChangeFault,
    BurstFault,
    MalformedFault,
)

FAULT_KINDS: MappingProxyType[str, type[Fault[Any]]] = MappingProxyType({kind_of(c.spec_model): c for c in _CLASSES})
"""Kind name -> fault class, read-only (no registration at run time: the kinds are this list)."""


def fault_class(kind: str) -> type[Fault[Any]]:
    try:
        return FAULT_KINDS[kind]
    except KeyError:
        raise FaultError(f"unknown fault kind {kind!r}. Valid kinds: {', '.join(FAULT_KINDS)}.") from None


def fault_for(spec: FaultSpecBase) -> Fault[Any]:
    """A fresh, not yet injected fault for `spec` (one per injection: it holds what remove needs)."""
    return fault_class(kind_of(type(spec)))(spec)
