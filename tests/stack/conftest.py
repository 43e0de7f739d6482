from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_support import StackDir

from gameday.stack.teardown import bring_down


@pytest.fixture
def stack_dir(tmp_path: Path) -> Iterator[StackDir]:
    """A working folder for one test; whatever stack the test left up there is brought down after it."""
    root = tmp_path / "work"
    root.mkdir()
    yield StackDir(root)
    if (root / ".gameday" / "state.json").exists():
        bring_down(root, stop_timeout_s=3)
