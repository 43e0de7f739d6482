"""The documented error tree. Foreign errors are mapped to one of these at each boundary.

GamedayError
├── ConfigError    a YAML file, CLI flag or HTTP body is invalid (exit code 2)
├── StackError     a service could not start, died, or a port is taken
├── FaultError     a fault could not be injected or removed
├── TargetError    the system under test is unreachable or answers nonsense
└── VerdictError   results cannot be judged (missing metric, bad baseline)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FaultError",
    "GamedayError",
    "StackError",
    "TargetError",
    "VerdictError",
]


class GamedayError(Exception):
    """Base of every error the suite raises on purpose; its message is meant for a human."""

    exit_code = 1


class ConfigError(GamedayError):
    """Invalid input: the message names the file (or flag), line, field and what is allowed."""

    exit_code = 2


class StackError(GamedayError):
    """A service of the stack could not start, died, or its port is taken."""

    exit_code = 2


class FaultError(GamedayError):
    """A fault could not be injected or removed."""


class TargetError(GamedayError):
    """The system under test is unreachable or answers something we cannot read."""


class VerdictError(GamedayError):
    """Results cannot be judged: a metric is missing or a baseline is unusable."""
