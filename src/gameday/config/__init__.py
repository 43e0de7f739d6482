"""Typed models of every YAML file the suite reads, and their loading with precise errors."""

from gameday.config.base import StrictModel
from gameday.config.kinds import KINDS, load_any, model_for_kind
from gameday.config.yamlio import load_model, parse_yaml, read_yaml

__all__ = ["KINDS", "StrictModel", "load_any", "load_model", "model_for_kind", "parse_yaml", "read_yaml"]
