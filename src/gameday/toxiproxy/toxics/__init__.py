"""The toxics, by the names the API and scenarios use. The table is built once and read-only."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gameday.toxiproxy.toxics.bandwidth import BandwidthToxic
from gameday.toxiproxy.toxics.base import Chunk, Stub, Toxic
from gameday.toxiproxy.toxics.latency import LatencyToxic
from gameday.toxiproxy.toxics.limit_data import LimitDataToxic
from gameday.toxiproxy.toxics.noop import NoopToxic
from gameday.toxiproxy.toxics.reset_peer import ResetPeerToxic
from gameday.toxiproxy.toxics.slicer import SlicerToxic
from gameday.toxiproxy.toxics.slow_close import SlowCloseToxic
from gameday.toxiproxy.toxics.timeout import TimeoutToxic

__all__ = ["TOXIC_TYPES", "Chunk", "Stub", "Toxic"]

TOXIC_TYPES: Mapping[str, type[Toxic]] = MappingProxyType(
    {
        cls.type_name: cls
        for cls in (
            NoopToxic,
            LatencyToxic,
            BandwidthToxic,
            SlowCloseToxic,
            TimeoutToxic,
            ResetPeerToxic,
            SlicerToxic,
            LimitDataToxic,
        )
    }
)
