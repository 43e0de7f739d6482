"""Which model each YAML `kind:` names. Files are parsed in two steps: the `kind`, then its model."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from pydantic import BaseModel

from gameday.config.yamlio import load_model, read_yaml
from gameday.errors import ConfigError

__all__ = ["KINDS", "load_any", "model_for_kind"]

# Import paths, not classes: loading one kind must not import every part of the suite.
KINDS: dict[str, str] = {
    "provider-profile": "gameday.config.profile:ProviderProfile",
    "stack": "gameday.config.stack:StackConfig",
    "scenario": "gameday.config.scenario:Scenario",
    "policy": "gameday.config.policy:Policy",
    "workload": "gameday.config.workload:Workload",
    "suite": "gameday.config.scenario:Suite",
}


def model_for_kind(kind: str) -> type[BaseModel]:
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}. Valid kinds: {', '.join(sorted(KINDS))}.")
    module_name, _, class_name = KINDS[kind].partition(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError:
        raise ConfigError(f"kind {kind!r} is not supported by this version of llm-gameday yet.") from None
    model: type[BaseModel] = getattr(module, class_name)
    return model


def load_any(path: Path | str) -> BaseModel:
    """Load a file whatever its kind, choosing the model from its top-level `kind:` key."""
    path = Path(path)
    data, smap = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with a `kind:` key at the top level.")
    kind = data.get("kind")
    if kind is None:
        raise ConfigError(
            f"{path}:1: kind: required field is missing. Add `kind:` with one of: {', '.join(sorted(KINDS))}."
        )
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(
            f"{path}:{smap.line_of(('kind',))}: kind: {kind!r} is not a known kind. "
            f"Valid kinds: {', '.join(sorted(KINDS))}."
        )
    return load_model(path, model_for_kind(kind), data=data, smap=smap)
