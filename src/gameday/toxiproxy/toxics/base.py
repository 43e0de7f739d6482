"""What every toxic is: a small dataclass whose fields are its JSON attributes, and one `pipe` coroutine.

A toxic object holds settings only; the per-connection side lives on the `Stub` that `pipe` is given
(one stub per connection, direction and toxic). The rule that keeps live changes lossless: whatever
data a pipe owns while it awaits must sit in `stub.held`, so the link can hand it on if the pipe is
interrupted (toxic updated, removed, or a neighbour added).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

__all__ = ["TIMED_OUT", "Chunk", "Stub", "Toxic"]


@dataclass(slots=True)
class Chunk:
    """Bytes read from one socket read, and the loop time at which they may move on."""

    data: bytes
    ts: float


class _TimedOut:
    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT: Any = _TimedOut()
"""What `Stub.recv(timeout)` returns when nothing arrived in time."""


class Stub(Protocol):
    """One toxic's view of one connection in one direction."""

    held: deque[Chunk | None]
    state: Any
    rng: random.Random
    loop: asyncio.AbstractEventLoop

    async def recv(self, idle_s: float | None = None) -> Chunk | None:
        """The next chunk, None at end of stream, or TIMED_OUT after `idle_s` seconds without one."""
        ...

    def send(self, chunk: Chunk | None) -> None:
        """Pass a chunk (or the end of stream) to the next toxic."""
        ...

    def drop(self, chunk: Chunk) -> None:
        """Discard a chunk on purpose."""
        ...

    def close(self) -> None:
        """End the stream here: what is queued is dropped and the connection closes."""
        ...

    async def sleep_until(self, when: float) -> None:
        """Sleep until loop time `when`."""
        ...

    async def forever(self) -> None:
        """Wait until interrupted."""
        ...


@dataclass
class Toxic:
    """Base of every toxic. Subclasses are dataclasses whose int fields are Toxiproxy's attributes."""

    type_name: ClassVar[str] = ""
    go_struct: ClassVar[str] = ""  # Toxiproxy's Go type name, used in its error messages
    go_types: ClassVar[dict[str, str]] = {}  # field -> Go type where not int64
    passthrough: ClassVar[bool] = False  # data flows untouched: no task needed
    closes_on_remove: ClassVar[bool] = False  # removing it closes the connections it was on
    resets_peer: ClassVar[bool] = False  # connections opened while it is installed close with RST

    def validate(self) -> str | None:
        """A message when the attributes are unusable, else None."""
        return None

    def new_state(self) -> Any:
        """Per-connection state that survives restarts of this toxic's pipe."""
        return None

    def attributes(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def field_types(cls) -> dict[str, str]:
        return {f.name: cls.go_types.get(f.name, "int64") for f in fields(cls)}

    async def pipe(self, stub: Stub) -> None:
        """Move data from `stub.recv()` to `stub.send()` until the stream ends (then `stub.close()`)."""
        raise NotImplementedError
