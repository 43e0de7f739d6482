"""The load: Locust users that send OpenAI chat completions, workload mixes, load shapes, workers.

Importing this package imports no Locust: the pure parts (shapes, schedules, workloads, the
malformed corpus, SSE parsing, adapters) are usable anywhere. Locust (and gevent's monkey
patching) comes in only with `gameday.load.engine`, reached lazily through `LoadEngine`, so the
caller decides when the process is patched: import it before anything opens sockets or threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["LoadEngine", "LoadStats"]

if TYPE_CHECKING:
    from gameday.load.engine import LoadEngine
    from gameday.load.livestats import LoadStats


def __getattr__(name: str) -> Any:
    # Lazy on purpose: `import gameday.load.shapes` must not monkey-patch the process.
    if name == "LoadEngine":
        from gameday.load.engine import LoadEngine

        return LoadEngine
    if name == "LoadStats":
        from gameday.load.livestats import LoadStats

        return LoadStats
    raise AttributeError(f"module 'gameday.load' has no attribute {name!r}")
