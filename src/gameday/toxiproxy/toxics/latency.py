"""`latency`: each chunk waits `latency` ± `jitter` ms after it was read (milliseconds, uniform jitter).

The wait is counted from the chunk's timestamp, not from when the previous chunk left, so delays do not
pile up along a stream; the timestamp moves to the release time so that a second latency toxic adds on.
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Stub, Toxic

__all__ = ["LatencyToxic"]


@dataclass
class LatencyToxic(Toxic):
    type_name = "latency"
    go_struct = "LatencyToxic"
    latency: int = 0
    jitter: int = 0

    def delay_ms(self, stub: Stub) -> int:
        if self.jitter > 0:
            return self.latency + stub.rng.randrange(2 * self.jitter) - self.jitter
        return self.latency

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            chunk.ts += self.delay_ms(stub) / 1000.0
            stub.held.append(chunk)
            await stub.sleep_until(chunk.ts)
            stub.send(stub.held.popleft())
        stub.close()
