"""The request record: one per request the load sends, whatever happened to it (`requests.jsonl`).

Fields are DESIGN.md's contract. Times are seconds on the run's clock (`t` = when the request was
sent, relative to run start). Under an open arrival model the load also gives `intended_t`, when
the schedule wanted the request sent; latencies are then measured from that instant, which
corrects for coordinated omission (a stalled sender must not hide the queueing users would see).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.errors import ConfigError

__all__ = [
    "ERROR_KINDS",
    "ErrorKind",
    "RecordWriter",
    "RequestRecord",
    "Tier",
    "iter_records",
    "read_records",
]

ErrorKind = Literal["timeout", "connect", "reset", "http_4xx", "http_5xx", "stream_cut", "bad_body"]
ERROR_KINDS: tuple[str, ...] = ("timeout", "connect", "reset", "http_4xx", "http_5xx", "stream_cut", "bad_body")
Tier = Literal["low", "medium", "high"]


class RequestRecord(BaseModel):
    """What one request did. `status` is 0 when no HTTP status arrived (connect error, timeout)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t: float = Field(description="seconds since run start when the request was sent")
    phase: str
    task: str = Field(description="workload class, as sent in x-gameday-task")
    tier: Tier = "medium"
    stream: bool = False
    status: int = Field(default=0, ge=0, le=999)
    error: ErrorKind | None = None
    ttft_s: float | None = Field(default=None, ge=0, description="time to first token (non-streaming: to body)")
    e2e_s: float | None = Field(default=None, ge=0, description="time until the response ended or failed")
    in_tokens: int = Field(default=0, ge=0)
    out_tokens: int = Field(default=0, ge=0, description="tokens received; 0 means the content was empty")
    model: str | None = Field(default=None, description="the served model")
    provider: str | None = None
    route: str | None = None
    attempts: int = Field(default=1, ge=0)
    fallback: bool = False
    cost_usd: float | None = Field(default=None, description="the gateway's own claim, when it gives one")
    worker: str | int = 0
    expected_4xx: bool = Field(default=False, description="sent from the malformed corpus: a 4xx is correct")
    intended_t: float | None = Field(default=None, description="open model: when the schedule meant to send it")

    # --- derived views the metrics share, so every part agrees on what "success" means ---

    @property
    def is_2xx(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_4xx(self) -> bool:
        return 400 <= self.status < 500

    @property
    def malformed_handled(self) -> bool:
        """A malformed request was refused with a 4xx (never a 5xx, never passed through)."""
        return self.expected_4xx and self.is_4xx

    @property
    def succeeded(self) -> bool:
        """Task success: a 2xx with non-empty content and no error, or an expected 4xx that came."""
        if self.expected_4xx:
            return self.malformed_handled
        return self.is_2xx and self.error is None and self.out_tokens > 0

    @property
    def failed(self) -> bool:
        """Counts toward the error rate: any error, except the 4xx a malformed request should get."""
        if self.malformed_handled:
            return False
        return self.error is not None or not self.is_2xx

    @property
    def served(self) -> bool:
        """A model answered (2xx with a served model name): the population of fallback correctness."""
        return self.is_2xx and self.error is None and self.model is not None and not self.expected_4xx

    @property
    def omission_s(self) -> float:
        """How late the request left against its schedule (0 without a schedule)."""
        if self.intended_t is None:
            return 0.0
        return max(0.0, self.t - self.intended_t)

    @property
    def ttft_corrected_s(self) -> float | None:
        return None if self.ttft_s is None else self.ttft_s + self.omission_s

    @property
    def e2e_corrected_s(self) -> float | None:
        return None if self.e2e_s is None else self.e2e_s + self.omission_s

    @property
    def done_t(self) -> float:
        """When the request ended, on the run clock (send time when the duration is unknown)."""
        return self.t + (self.e2e_s or 0.0)

    @property
    def itl_s(self) -> float | None:
        """Mean inter-token latency of a streamed answer with at least two tokens."""
        if not self.stream or self.ttft_s is None or self.e2e_s is None or self.out_tokens < 2:
            return None
        return max(0.0, self.e2e_s - self.ttft_s) / (self.out_tokens - 1)

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


class RecordWriter:
    """Appends records to `requests.jsonl`, one line each, flushed at once (a killed run keeps them).

    Thread- and greenlet-safe: one lock around each write so lines never interleave.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] | None = self.path.open("ab")
        self._lock = threading.Lock()
        self.count = 0

    def write(self, record: RequestRecord) -> None:
        line = record.to_json() + b"\n"
        with self._lock:
            if self._file is None:
                raise ValueError(f"{self.path}: the record writer is closed")
            self._file.write(line)
            self._file.flush()
            self.count += 1

    def write_many(self, records: Iterable[RequestRecord]) -> None:
        for record in records:
            self.write(record)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def iter_records(path: Path | str) -> Iterator[RequestRecord]:
    """Records of a `requests.jsonl`. A torn last line (the writer was killed mid-write) is skipped;
    a bad line anywhere else is a `ConfigError` naming the file, the line and the problem."""
    path = Path(path)
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Is this a results folder of `gameday run`?") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None
    last = len(lines)
    while last and not lines[last - 1].strip():
        last -= 1
    for number, line in enumerate(lines[:last], start=1):
        if not line.strip():
            continue
        try:
            yield RequestRecord.model_validate(orjson.loads(line))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            if number == last and isinstance(exc, orjson.JSONDecodeError):
                return
            raise ConfigError(f"{path}:{number}: not a valid request record: {_short(exc)}") from None


def read_records(path: Path | str) -> list[RequestRecord]:
    return list(iter_records(path))


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{loc}: {first['msg']}"
    return str(exc).splitlines()[0]
