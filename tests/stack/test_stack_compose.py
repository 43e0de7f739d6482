"""The compose stacks agree with stacks/local.yaml: services, ports, proxies, images, health checks.

`docker compose config` needs the compose plugin, absent here: the files are parsed and checked
directly, and `docker compose config` also runs where the plugin exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_support import REPO

from gameday.config.stack import StackConfig
from gameday.config.yamlio import load_model
from gameday.stack.compose import toxiproxy_config

COMPOSE = REPO / "stacks" / "compose"
FILES = ("reference.yaml", "gpu.yaml")
HEALTH = {"mock": "/health", "gateway": "/healthz"}


def local() -> StackConfig:
    return load_model(REPO / "stacks" / "local.yaml", StackConfig)


def compose(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((COMPOSE / name).read_text())
    return data


def flag(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == name]


def test_toxiproxy_json_is_the_local_stacks_proxies() -> None:
    assert json.loads((COMPOSE / "toxiproxy.json").read_text()) == toxiproxy_config(local())


@pytest.mark.parametrize("name", FILES)
def test_compose_file_matches_the_local_stack(name: str) -> None:
    stack, doc = local(), compose(name)
    services = doc["services"]
    assert set(services) == {s.name for s in stack.services}
    for service in services.values():
        assert service["network_mode"] == "host"  # loopback admin APIs and local.yaml's ports, unchanged
        assert service["healthcheck"]["test"][0] == "CMD"

    toxiproxy = services["toxiproxy"]
    image, _, tag = toxiproxy["image"].rpartition(":")
    assert image == "ghcr.io/shopify/toxiproxy"
    assert tag not in ("", "latest")
    assert f"-port={stack.service('toxiproxy').port}" in toxiproxy["command"]
    assert "./toxiproxy.json:/config/toxiproxy.json:ro" in toxiproxy["volumes"]
    assert "-config=/config/toxiproxy.json" in toxiproxy["command"]

    for mock in stack.mocks:
        service = services[mock.name]
        if "vllm/vllm-openai" in str(service.get("image")):
            continue  # gpu.yaml's local-vllm: checked below
        command = service["command"]
        assert command[0] == "mock"
        assert flag(command, "--profile") == [f"mocks/{Path(str(mock.profile)).name}"]
        assert (REPO / flag(command, "--profile")[0]).is_file()
        assert flag(command, "--port") == [str(mock.port)]
        assert flag(command, "--host") == ["127.0.0.1"]
        assert f"127.0.0.1:{mock.port}{HEALTH['mock']}" in " ".join(service["healthcheck"]["test"])
        assert service["build"] == {"context": "../..", "dockerfile": "stacks/compose/Dockerfile"}

    gateway_config = stack.gateway
    assert gateway_config is not None
    gateway = services["gateway"]
    command = gateway["command"]
    assert command[0] == "gateway"
    assert flag(command, "--port") == [str(gateway_config.port)]
    assert (REPO / flag(command, "--policy")[0]).resolve() == Path(str(gateway_config.policy))
    proxies = {p.name: p.port for p in stack.proxies}
    expected = sorted(f"{prov}=http://127.0.0.1:{proxies[proxy]}" for prov, proxy in gateway_config.upstreams.items())
    assert sorted(flag(command, "--upstream")) == expected
    assert f"127.0.0.1:{gateway_config.port}{HEALTH['gateway']}" in " ".join(gateway["healthcheck"]["test"])
    assert gateway["build"] == {"context": "../..", "dockerfile": "stacks/compose/Dockerfile"}
    assert gateway["depends_on"] == {n: {"condition": "service_healthy"} for n in services if n != "gateway"}
    assert gateway["environment"]["GAMEDAY_ADMIN_TOKEN"].startswith("${GAMEDAY_ADMIN_TOKEN:?")


def test_gpu_stack_serves_tiny_from_vllm_with_the_calibrated_recipe() -> None:
    vllm = compose("gpu.yaml")["services"]["local-vllm"]
    assert vllm["image"].startswith("${VLLM_IMAGE:-vllm/vllm-openai:v")
    command = vllm["command"]
    assert flag(command, "--served-model-name") == ["tiny"]
    assert flag(command, "--port") == [str(local().service("local-vllm").port)]
    assert flag(command, "--max-model-len") == ["4096"]
    assert flag(command, "--gpu-memory-utilization") == ["0.5"]
    assert vllm["environment"]["VLLM_USE_FLASHINFER_SAMPLER"] == "0"
    assert vllm["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert "127.0.0.1:9103/health" in " ".join(vllm["healthcheck"]["test"])
    policy = yaml.safe_load((REPO / "stacks" / "policies" / "reference.yaml").read_text())
    served = {m["name"] for p in policy["providers"] if p["name"] == "local-vllm" for m in p["models"]}
    assert served == {"tiny"}  # the gateway asks local-vllm for the name vLLM serves


def test_dockerfile_builds_one_image_with_profiles_and_policies() -> None:
    text = (COMPOSE / "Dockerfile").read_text()
    for line in ("COPY src ./src", "COPY mocks ./mocks", "COPY stacks ./stacks", 'ENTRYPOINT ["gameday"]'):
        assert line in text


def test_attach_stack_is_the_compose_stack() -> None:
    attach, stack = load_model(COMPOSE / "stack.yaml", StackConfig), local()
    assert all(s.external for s in attach.services)
    assert {s.name: s.port for s in attach.services} == {s.name: s.port for s in stack.services}
    assert toxiproxy_config(attach) == toxiproxy_config(stack)
