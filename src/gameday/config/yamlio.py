"""YAML loading that remembers where every value came from, so errors can name the line.

PyYAML's composer gives every node a start mark; we build plain Python values from the node tree
and keep a map from the path of each value (keys and indexes) to its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gameday.errors import ConfigError

__all__ = ["SourceMap", "format_validation_error", "load_model", "parse_yaml", "read_yaml"]

ModelT = TypeVar("ModelT", bound=BaseModel)
PathKey = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Where each value of a parsed document stands in its file (1-based lines)."""

    source: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest known value along `loc`; parts the file lacks (union tags) are skipped."""
        best = self.lines.get(())
        path: PathKey = ()
        for part in loc:
            candidate = (*path, part)
            if candidate in self.lines:
                path = candidate
                best = self.lines[path]
        return best


def parse_yaml(text: str, source: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; syntax errors and duplicate keys become `ConfigError`s with a line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc}. Fix the syntax at that line.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    smap = SourceMap(source)
    if node is None:
        return None, smap
    return _build(node, (), smap), smap


def _build(node: yaml.Node, path: PathKey, smap: SourceMap) -> Any:
    smap.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, smap)
            if key in out:
                raise ConfigError(
                    f"{smap.source}:{key_node.start_mark.line + 1}: key {key!r} appears twice in the same "
                    "mapping. Keep one of them."
                )
            out[key] = _build(value_node, (*path, key), smap)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), smap) for i, item in enumerate(node.value)]
    return _scalar(node, smap)


def _scalar(node: yaml.Node, smap: SourceMap) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{smap.source}:{node.start_mark.line + 1}: a mapping key must be a plain value.")
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{smap.source}:{node.start_mark.line + 1}: {exc}") from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read and parse a YAML file; a missing or unreadable file is a `ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc}).") from None
    return parse_yaml(text, str(path))


def format_validation_error(exc: ValidationError, smap: SourceMap, model: type[BaseModel]) -> str:
    """One line per problem: `file:line: field.path: what is wrong. what is allowed`."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        line = smap.line_of(loc)
        where = f"{smap.source}:{line}" if line else smap.source
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            hint = f" Allowed here: {', '.join(allowed)}." if allowed else ""
            message = f"unknown field.{hint} Remove it or fix its spelling"
        elif err["type"] == "missing":
            message = "required field is missing. Add it"
        problems.append(f"{where}: {dotted}: {message}.")
    count = len(problems)
    head = f"{smap.source}: {count} problem{'s' if count != 1 else ''} in this {_kind_name(model)}:"
    return "\n".join([head, *("  " + p for p in problems)])


def _kind_name(model: type[BaseModel]) -> str:
    return getattr(model, "kind_label", model.__name__)


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Best effort: the field names of the model found at `loc`, walking through lists and dicts."""
    current: Any = model
    for part in loc:
        current = _descend(current, part)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _descend(tp: Any, part: Any) -> Any:
    from typing import get_args, get_origin

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(part)
        if info is None:
            by_alias = {f.alias: f for f in tp.model_fields.values() if f.alias}
            info = by_alias.get(part)
        return _unwrap(info.annotation) if info else None
    origin = get_origin(tp)
    args = [a for a in get_args(tp) if a is not type(None)]
    if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
        return _unwrap(args[0])
    if origin in (dict, Mapping) and len(args) == 2:
        return _unwrap(args[1])
    for arg in args:  # a union: the tag pydantic puts in loc names the member
        if isinstance(arg, type) and issubclass(arg, BaseModel) and _tag_of(arg) == part:
            return arg
    return None


def _unwrap(tp: Any) -> Any:
    from typing import Annotated, Union, get_args, get_origin

    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) is Union:
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return tp


def _tag_of(model: type[BaseModel]) -> Any:
    for name in ("kind", "type"):
        info = model.model_fields.get(name)
        if info is not None and info.default is not None:
            return info.default
    return None


def load_model(path: Path | str, model: type[ModelT], data: Any = None, smap: SourceMap | None = None) -> ModelT:
    """Load `path` into `model`; any problem is one `ConfigError` naming file, line, field and fix."""
    path = Path(path)
    if data is None or smap is None:
        data, smap = read_yaml(path)
    if data is None:
        raise ConfigError(f"{path}: the file is empty. Expected a {_kind_name(model)}.")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping at the top level, found {type(data).__name__}.")
    try:
        return model.model_validate(data, context={"source": str(path), "base_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, smap, model)) from None
