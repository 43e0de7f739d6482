from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from support.procs import Service, start_service


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Start `gameday` services for one test; all of them are stopped when it ends."""
    started: list[Service] = []

    def start(args: Sequence[str], name: str = "service", env: dict[str, str] | None = None) -> Service:
        svc = start_service(args, tmp_path, name=name, env=env)
        started.append(svc)
        return svc

    yield start
    for svc in reversed(started):
        svc.stop()
