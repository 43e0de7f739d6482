"""The `kind: stack` model: stacks/local.yaml, and bad stack files refused with file, line, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from stack_support import REPO, StackDir, mock_service

from gameday.config.kinds import load_any
from gameday.config.stack import GatewayService, StackConfig
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.stack.plan import apply_port_overrides, parse_port_flags

TOXIPROXY = {"name": "toxiproxy", "kind": "toxiproxy", "port": 0}


def test_local_stack_is_the_documented_default() -> None:
    stack = load_any(REPO / "stacks" / "local.yaml")
    assert isinstance(stack, StackConfig)
    ports = {s.name: s.port for s in stack.services}
    assert ports == {"toxiproxy": 8474, "premium": 9101, "efficient": 9102, "local-vllm": 9103, "gateway": 8080}
    proxies = {p.name: (p.port, p.upstream) for p in stack.proxies}
    assert proxies == {
        "premium": (19101, "premium"),
        "efficient": (19102, "efficient"),
        "local-vllm": (19103, "local-vllm"),
    }
    gateway = stack.gateway
    assert isinstance(gateway, GatewayService)
    assert gateway.upstreams == {"premium": "premium", "efficient": "efficient", "local-vllm": "local-vllm"}
    assert Path(gateway.policy) == REPO / "stacks" / "policies" / "reference.yaml"  # relative to the stack file
    assert [Path(m.profile).name for m in stack.mocks] == ["premium.yaml", "efficient.yaml", "local-vllm.yaml"]


@pytest.mark.parametrize(
    ("services", "proxies", "expected"),
    [
        ([{**TOXIPROXY, "colour": "red"}], [], ":8: services.0.toxiproxy.colour: unknown field. Allowed here:"),
        ([{**TOXIPROXY, "port": 70000}], [], "services.0.toxiproxy.port: Input should be less than or equal to 65535"),
        ([{"name": "x", "kind": "vllm", "port": 1}], [], "services.0: Input tag 'vllm' found using 'kind' does not"),
        (
            [{**TOXIPROXY, "port": 9000}, {**mock_service("premium"), "port": 9000}],
            [],
            "ports (services and proxies together) must be unique; repeated: 9000",
        ),
        ([mock_service("premium")], [{"name": "premium", "port": 0, "upstream": "premium"}], "need a service of kind"),
        (
            [TOXIPROXY, mock_service("premium")],
            [{"name": "premium", "port": 0, "upstream": "nosuch"}],
            "upstream 'nosuch' is not a mock service of this stack; valid: premium",
        ),
        (
            [TOXIPROXY, mock_service("premium")],
            [{"name": "front", "port": 0, "upstream": "premium"}],
            "must be named after it",
        ),
        (
            [TOXIPROXY, {"name": "premium", "kind": "mock", "port": 0, "profile": "nowhere/premium.yaml"}],
            [],
            "services.1.mock.profile: Value error,",
        ),
    ],
)
def test_bad_stack_files_name_the_field(
    tmp_path: Path, services: list[dict[str, object]], proxies: list[dict[str, object]], expected: str
) -> None:
    path = StackDir(tmp_path).write_stack(services, proxies)
    with pytest.raises(ConfigError) as info:
        load_model(path, StackConfig)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_gateway_upstream_must_name_a_proxy(tmp_path: Path) -> None:
    gateway = {
        "name": "gateway",
        "kind": "gateway",
        "port": 0,
        "policy": str(REPO / "stacks" / "policies" / "reference.yaml"),
        "upstreams": {"premium": "premium"},
    }
    path = StackDir(tmp_path).write_stack([TOXIPROXY, mock_service("premium"), gateway])
    with pytest.raises(ConfigError, match=r"goes through proxy 'premium', which this stack does not define"):
        load_model(path, StackConfig)


def test_up_with_a_bad_stack_file_exits_2_and_starts_nothing(stack_dir: StackDir) -> None:
    stack_dir.write_stack([{**TOXIPROXY, "prot": 8474}])
    result = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert result.returncode == 2
    assert "stack.yaml:8: services.0.toxiproxy.prot: unknown field" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (stack_dir.root / ".gameday").exists()

    missing = stack_dir.gameday("up", "--stack", "nope.yaml")
    assert missing.returncode == 2
    assert "nope.yaml: no such file" in missing.stderr


def test_port_flags_are_parsed_and_checked(tmp_path: Path) -> None:
    assert parse_port_flags(["premium=9201", "proxy.premium=0"]) == {"premium": 9201, "proxy.premium": 0}
    for bad in ("premium", "premium=x", "=1", "premium=70000"):
        with pytest.raises(ConfigError, match="expected SERVICE=PORT"):
            parse_port_flags([bad])
    path = StackDir(tmp_path).write_stack(
        [TOXIPROXY, mock_service("premium")], [{"name": "premium", "port": 19101, "upstream": "premium"}]
    )
    stack = load_model(path, StackConfig)
    moved = apply_port_overrides(stack, {"premium": 9201, "proxy.premium": 0})
    assert moved.service("premium").port == 9201
    assert moved.proxies[0].port == 0
    with pytest.raises(ConfigError, match=r"Valid names: premium, toxiproxy, proxy\.premium"):
        apply_port_overrides(stack, {"proxy.nosuch": 1})
    with pytest.raises(ConfigError, match="repeated: 19101"):
        apply_port_overrides(stack, {"premium": 19101})
