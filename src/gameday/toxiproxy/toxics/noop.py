"""`noop`: passes data untouched; also what a toxic becomes on a connection its toxicity spared."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Stub, Toxic

__all__ = ["NoopToxic"]


@dataclass
class NoopToxic(Toxic):
    type_name = "noop"
    go_struct = "NoopToxic"
    passthrough = True

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            stub.send(chunk)
        stub.close()
