"""`slicer`: cuts each chunk into pieces of about `average_size` ± `size_variation` bytes, `delay` µs apart."""

from __future__ import annotations

import random
from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Chunk, Stub, Toxic

__all__ = ["SlicerToxic", "slice_sizes"]


def slice_sizes(total: int, average: int, variation: int, rng: random.Random) -> list[int]:
    """Piece sizes summing to `total`; each is average ± variation but the last, which takes the rest."""
    sizes: list[int] = []
    left = total
    while left > average + variation:
        size = average + rng.randint(-variation, variation) if variation else average
        sizes.append(size)
        left -= size
    if left:
        sizes.append(left)
    return sizes


@dataclass
class SlicerToxic(Toxic):
    type_name = "slicer"
    go_struct = "SlicerToxic"
    go_types = {"average_size": "int", "size_variation": "int", "delay": "int"}
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def validate(self) -> str | None:
        # Values the real server crashes on (or loops forever with) are refused instead.
        if self.average_size <= 0:
            return f"average_size must be more than 0 bytes, got {self.average_size}"
        if not 0 <= self.size_variation < self.average_size:
            return (
                f"size_variation must be 0 or more and less than average_size ({self.average_size}), "
                f"got {self.size_variation}"
            )
        if self.delay < 0:
            return f"delay must be 0 or more (microseconds), got {self.delay}"
        return None

    async def pipe(self, stub: Stub) -> None:
        gap = self.delay / 1_000_000
        while (chunk := await stub.recv()) is not None:
            data, start = chunk.data, 0
            for size in slice_sizes(len(data), self.average_size, self.size_variation, stub.rng):
                stub.send(Chunk(data[start : start + size], chunk.ts))
                start += size
                if gap > 0:
                    if start < len(data):
                        stub.held.append(Chunk(data[start:], chunk.ts))
                    await stub.sleep_until(stub.loop.time() + gap)
                    stub.held.clear()
        stub.close()
