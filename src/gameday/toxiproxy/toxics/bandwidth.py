"""`bandwidth`: at most `rate` KB/s (1 KB = 1000 bytes), released in 100 ms slices; 0 stalls the stream."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Chunk, Stub, Toxic

__all__ = ["BandwidthToxic"]

SLICE_S = 0.1


@dataclass
class BandwidthToxic(Toxic):
    type_name = "bandwidth"
    go_struct = "BandwidthToxic"
    rate: int = 0

    def validate(self) -> str | None:
        # The real server crashes on a negative rate; we refuse it instead.
        if self.rate < 0:
            return f"rate must be 0 or more (KB/s), got {self.rate}"
        return None

    async def pipe(self, stub: Stub) -> None:
        if self.rate <= 0:
            await stub.forever()  # data waits in the inbox until the toxic changes or goes
            return
        bytes_per_s = self.rate * 1000
        per_slice = self.rate * 100
        free_at = stub.loop.time()
        while (chunk := await stub.recv()) is not None:
            # Idle time is not banked: a burst after a pause still goes out at `rate`.
            at = max(stub.loop.time(), free_at)
            data = chunk.data
            while len(data) > per_slice:
                stub.held.append(Chunk(data, chunk.ts))
                at += SLICE_S
                await stub.sleep_until(at)
                stub.held.clear()
                stub.send(Chunk(data[:per_slice], chunk.ts))
                data = data[per_slice:]
            stub.held.append(Chunk(data, chunk.ts))
            at += len(data) / bytes_per_s
            await stub.sleep_until(at)
            stub.send(stub.held.popleft())
            free_at = at
        stub.close()
