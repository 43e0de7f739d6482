from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loadrun import FakeServer, start_fake_server


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServer]:
    """One fake OpenAI server for a test module (its log accumulates across that module's tests)."""
    server = start_fake_server(tmp_path_factory.mktemp("fake"))
    yield server
    server.stop()


@pytest.fixture
def fake_server_factory(tmp_path: Path) -> Iterator[Callable[..., FakeServer]]:
    """A fake server with its own options (stall length, delay distribution) for one test."""
    started: list[FakeServer] = []

    def start(*args: str, name: str = "fake") -> FakeServer:
        server = start_fake_server(tmp_path, name, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
