"""Recorded traffic to replay: a JSONL file, one request a line, on its own schedule.

A line: `{"t": 1.25, "task": "chat", "prompt_tokens": 320, "max_tokens": 200, "stream": true}`
(`t` is seconds since the start of the recording; `tier`, `max_tokens` and `stream` are optional
and default to the workload class's). Bad lines are errors naming the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.errors import ConfigError

__all__ = ["MAX_TRACE_LINES", "TraceEntry", "read_trace"]

MAX_TRACE_LINES = 1_000_000


class TraceEntry(BaseModel):
    """One recorded request: when, which workload class, how big."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t: float = Field(ge=0, description="seconds since the recording started")
    task: str = Field(min_length=1, max_length=64)
    prompt_tokens: int = Field(ge=1, le=2_000_000)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stream: bool | None = None
    tier: str | None = Field(default=None, pattern=r"^(low|medium|high)$")


def read_trace(path: Path | str, known_tasks: set[str] | None = None) -> list[TraceEntry]:
    """Every entry of a trace file; a `ConfigError` names the first bad line and what to fix."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such trace file. Check `trace.path` (relative to the workload file).") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the trace ({exc.strerror}).") from None
    entries: list[TraceEntry] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if number > MAX_TRACE_LINES:
            raise ConfigError(f"{path}: more than {MAX_TRACE_LINES} lines; split the trace.")
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        try:
            entry = TraceEntry.model_validate(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not a JSON object ({exc}). One request per line.") from None
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            field = ".".join(str(p) for p in err["loc"]) or "line"
            raise ConfigError(f"{path}:{number}: {field}: {err['msg']}.") from None
        if known_tasks is not None and entry.task not in known_tasks:
            raise ConfigError(
                f"{path}:{number}: task {entry.task!r} is not a class of the workload. "
                f"Classes: {', '.join(sorted(known_tasks))}."
            )
        entries.append(entry)
    if not entries:
        raise ConfigError(f"{path}: the trace has no requests.")
    return entries
