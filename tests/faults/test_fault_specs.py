"""Fault YAML: every kind parses by its name; bad input names the file, line, field and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fault_examples import EXAMPLES
from pydantic import Field

from gameday.config import StrictModel, load_model
from gameday.errors import ConfigError, FaultError
from gameday.faults.base import kind_of
from gameday.faults.registry import FAULT_KINDS, fault_class, fault_for
from gameday.faults.specs import FaultSpec, parse_fault


class PhaseDoc(StrictModel):
    """A phase's fault list, as scenarios embed it (`phases[].faults`)."""

    faults: list[FaultSpec] = Field(default_factory=list)


def load(tmp_path: Path, text: str) -> PhaseDoc:
    path = tmp_path / "phase.yaml"
    path.write_text(textwrap.dedent(text))
    return load_model(path, PhaseDoc)


def test_every_registered_kind_has_an_example_and_its_name_once() -> None:
    assert set(EXAMPLES) == set(FAULT_KINDS)
    for name, cls in FAULT_KINDS.items():
        assert kind_of(cls.spec_model) == name


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_kind_loads_from_yaml_into_its_class(tmp_path: Path, kind: str) -> None:
    doc = load(tmp_path, f"faults:\n  - {EXAMPLES[kind]}\n")
    spec = doc.faults[0]
    assert spec.kind == kind
    fault = fault_for(spec)
    assert isinstance(fault, FAULT_KINDS[kind])
    assert fault.describe()
    assert fault.kind == kind


def test_unknown_kind_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "faults:\n  - {kind: latncy, provider: premium}\n")
    message = str(err.value)
    assert "phase.yaml:2" in message
    assert "unknown fault kind 'latncy'" in message
    assert "Valid kinds: latency, outage, slow_stream, http_errors" in message
    with pytest.raises(FaultError, match="Valid kinds: latency"):
        fault_class("latncy")


def test_missing_kind_says_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"phase.yaml:3: faults.0: a fault needs `kind:`. Valid kinds: latency"):
        load(tmp_path, "faults:\n  -\n    provider: premium\n")


def test_missing_provider_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "faults:\n  - {kind: outage, mode: disabled}\n")
    assert "faults.0.outage.provider: required field is missing. Add it." in str(err.value)
    assert "phase.yaml:2" in str(err.value)


def test_rate_above_one_is_refused_with_its_bound(tmp_path: Path) -> None:
    text = """\
    faults:
      - kind: http_errors
        provider: premium
        status: 429
        rate: 1.5
    """
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert "phase.yaml:5: faults.0.http_errors.rate: Input should be less than or equal to 1" in str(err.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "http_errors", "provider": "p", "status": 404}, "status: Input should be 429, 500, 502, 503 or 529"),
        ({"kind": "latency", "provider": "p", "latency_ms": 10, "jitter_ms": 20}, "jitter_ms (20) is larger"),
        ({"kind": "latency", "provider": "p", "latency_ms": 10, "jiter_ms": 2}, "jiter_ms: Extra inputs"),
        ({"kind": "outage", "provider": "p", "timeout_ms": 5}, "timeout_ms only apply to mode reset_peer or timeout"),
        ({"kind": "slow_stream", "provider": "p", "delay_us": 5}, "delay_us only apply to mode: slicer"),
        ({"kind": "slow_stream", "provider": "p", "rate_kb_s": 0}, "rate_kb_s: Input should be greater than 0"),
        ({"kind": "price_change", "provider": "p", "model": "m"}, "say the new price"),
        ({"kind": "price_change", "provider": "p", "model": "m", "factor": 2, "input": 1}, "not both"),
        ({"kind": "malformed", "share": 0}, "share: Input should be greater than 0"),
        ({"kind": "burst", "factor": -1}, "factor: Input should be greater than 0"),
        ({"kind": "latency", "provider": "", "latency_ms": 1}, "provider: String should have at least 1 character"),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=r"^fault: ") as err:
        parse_fault(data)
    assert expected in str(err.value)


def test_spec_params_leave_out_kind_and_target() -> None:
    spec = parse_fault({"kind": "latency", "provider": "premium", "latency_ms": 40})
    assert spec.params() == {"latency_ms": 40, "jitter_ms": 0, "stream": "downstream", "toxicity": 1.0}
    assert fault_for(spec).target == "premium"
    assert fault_for(parse_fault({"kind": "burst", "factor": 2})).target is None
