from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from gameday.config import StrictModel, load_model
from gameday.errors import ConfigError


class Inner(StrictModel):
    rate: float = Field(ge=0, le=1)
    mode: Literal["disable", "reset_peer"] = "disable"


class Outer(StrictModel):
    name: str
    items: list[Inner] = []


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "name: a\nitems:\n  - rate: 0.5\n"), Outer)
    assert model.items[0].rate == 0.5


def test_error_names_file_line_field_and_bound(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nitems:\n  - rate: 0.5\n  - rate: 7\n")
    with pytest.raises(ConfigError) as info:
        load_model(path, Outer)
    message = str(info.value)
    assert f"{path}:4: items.1.rate:" in message
    assert "less than or equal to 1" in message


def test_unknown_field_lists_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nitems:\n  - rate: 0.5\n    mood: happy\n")
    with pytest.raises(ConfigError) as info:
        load_model(path, Outer)
    assert f"{path}:4: items.0.mood: unknown field. Allowed here: rate, mode." in str(info.value)


def test_literal_error_lists_choices(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nitems:\n  - rate: 0.5\n    mode: explode\n")
    with pytest.raises(ConfigError, match=r":4: items\.0\.mode: Input should be 'disable' or 'reset_peer'"):
        load_model(path, Outer)


def test_missing_field_points_at_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "items: []\n")
    with pytest.raises(ConfigError, match=r":1: name: required field is missing"):
        load_model(path, Outer)


def test_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nitems: [1, 2\nother: 3\n")
    with pytest.raises(ConfigError, match=r"f\.yaml:\d+: not valid YAML"):
        load_model(path, Outer)


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nname: b\n")
    with pytest.raises(ConfigError, match=r":2: key 'name' appears twice"):
        load_model(path, Outer)


@pytest.mark.parametrize("text", ["", "- 1\n- 2\n", "just a string\n"])
def test_non_mapping_documents_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load_model(write(tmp_path, text), Outer)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_model(tmp_path / "absent.yaml", Outer)
