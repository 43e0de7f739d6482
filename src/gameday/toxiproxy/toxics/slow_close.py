"""`slow_close`: data passes at once; the end of the stream is held back `delay` ms."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Stub, Toxic

__all__ = ["SlowCloseToxic"]


@dataclass
class SlowCloseToxic(Toxic):
    type_name = "slow_close"
    go_struct = "SlowCloseToxic"
    delay: int = 0

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            stub.send(chunk)
        stub.held.append(None)  # an interruption passes the close on at once
        await stub.sleep_until(stub.loop.time() + self.delay / 1000.0)
        stub.held.clear()
        stub.close()
