"""The results folder: written under a temporary name, renamed into place when complete.

A reader (CI, `gameday report`) never sees a half-written run: until the rename, the folder is
`.<name>.partial`; after it, `results/<UTC timestamp>-<scenario>/` and `results/latest` points at it.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

__all__ = ["ResultsFolder"]


class ResultsFolder:
    def __init__(self, parent: Path, scenario_name: str, now: float | None = None) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
        self.parent = parent
        self.name = f"{stamp}-{scenario_name}"
        self.final = parent / self.name
        suffix = 1
        while self.final.exists():
            suffix += 1
            self.final = parent / f"{self.name}-{suffix}"
        self.path = parent / f".{self.final.name}.partial"
        self.path.mkdir(parents=True, exist_ok=False)

    def file(self, name: str) -> Path:
        return self.path / name

    def finalize(self) -> Path:
        """Rename into place and point `latest` at it; returns the final path."""
        os.replace(self.path, self.final)
        latest = self.parent / "latest"
        tmp_link = self.parent / f".latest.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp_link.unlink()
        os.symlink(self.final.name, tmp_link)
        os.replace(tmp_link, latest)
        self.path = self.final
        return self.final
