"""Faults: the kinds scenarios name, the context they act in, and rollback that cannot be skipped.

The runner's whole API:

    ctx = FaultContext.from_state(".gameday/state.json", load=load_control, journal=journal)
    with RollbackGuard(ctx) as guard:
        for spec in phase.faults:
            guard.inject(spec, phase=phase.name)
        ...
        guard.remove_phase(phase.name)

Names are imported lazily (PEP 562): `gameday validate` loads fault specs without importing the
HTTP clients, and no import has side effects.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gameday.faults.base import Fault, FaultSpecBase, LoadControl, ProviderFaultSpec
    from gameday.faults.context import FaultContext, ProviderEndpoints, read_state
    from gameday.faults.guard import RollbackGuard, RunInterrupted
    from gameday.faults.journal import EventJournal, read_events
    from gameday.faults.mock_admin import MockAdminClient
    from gameday.faults.registry import FAULT_KINDS, fault_class, fault_for
    from gameday.faults.rollback import ActiveFault, Rollback, RollbackFailed
    from gameday.faults.specs import FaultSpec, parse_fault

__all__ = [
    "FAULT_KINDS",
    "ActiveFault",
    "EventJournal",
    "Fault",
    "FaultContext",
    "FaultSpec",
    "FaultSpecBase",
    "LoadControl",
    "MockAdminClient",
    "ProviderEndpoints",
    "ProviderFaultSpec",
    "Rollback",
    "RollbackFailed",
    "RollbackGuard",
    "RunInterrupted",
    "fault_class",
    "fault_for",
    "parse_fault",
    "read_events",
    "read_state",
]

_HOMES = {
    "Fault": "base",
    "FaultSpecBase": "base",
    "LoadControl": "base",
    "ProviderFaultSpec": "base",
    "FaultContext": "context",
    "ProviderEndpoints": "context",
    "read_state": "context",
    "RollbackGuard": "guard",
    "RunInterrupted": "guard",
    "EventJournal": "journal",
    "read_events": "journal",
    "MockAdminClient": "mock_admin",
    "FAULT_KINDS": "registry",
    "fault_class": "registry",
    "fault_for": "registry",
    "ActiveFault": "rollback",
    "Rollback": "rollback",
    "RollbackFailed": "rollback",
    "FaultSpec": "specs",
    "parse_fault": "specs",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gameday.faults' has no attribute {name!r}")
    value = getattr(import_module(f"gameday.faults.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
