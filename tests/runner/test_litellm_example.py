"""The LiteLLM example (stacks/litellm/) must agree with the local stack it is meant to sit on."""

from __future__ import annotations

from urllib.parse import urlsplit

import yaml

from gameday.config.load import Adapter
from gameday.config.profile import ProviderProfile
from gameday.config.scenario import Scenario
from gameday.config.stack import StackConfig
from gameday.config.yamlio import load_model
from support.procs import REPO

EXAMPLE = REPO / "stacks" / "litellm"


def _proxies_by_port() -> dict[int, str]:
    stack = load_model(REPO / "stacks" / "local.yaml", StackConfig)
    return {proxy.port: proxy.upstream for proxy in stack.proxies}


def test_every_litellm_deployment_goes_through_a_stack_proxy_to_a_model_that_provider_serves() -> None:
    config = yaml.safe_load((EXAMPLE / "config.yaml").read_text())
    proxies = _proxies_by_port()
    served = {
        name: set(load_model(REPO / "mocks" / f"{name}.yaml", ProviderProfile).models)
        for name in ("premium", "efficient", "local-vllm")
    }
    assert config["model_list"], "the example has no deployments"
    for deployment in config["model_list"]:
        params = deployment["litellm_params"]
        base = urlsplit(params["api_base"])
        assert base.hostname == "127.0.0.1"
        assert base.port in proxies, f"{params['api_base']} is not one of the stack's proxies {sorted(proxies)}"
        provider = proxies[base.port]
        model = params["model"].removeprefix("openai/")
        assert model in served[provider], f"{provider} does not serve {model}"


def test_every_fallback_names_a_deployment() -> None:
    config = yaml.safe_load((EXAMPLE / "config.yaml").read_text())
    names = {d["model_name"] for d in config["model_list"]}
    for rule in config["litellm_settings"]["fallbacks"]:
        for primary, fallbacks in rule.items():
            assert primary in names
            assert set(fallbacks) <= names


def test_the_litellm_scenario_validates_and_reads_litellm_headers() -> None:
    scenario = load_model(EXAMPLE / "scenario.yaml", Scenario)
    assert scenario.target.url == "http://127.0.0.1:4000"
    adapter = scenario.target.adapter
    assert isinstance(adapter, Adapter)
    assert adapter.cost_usd is not None
    assert adapter.cost_usd.header == "x-litellm-response-cost"
    faults = [fault for phase in scenario.phases for fault in phase.faults]
    assert [f.kind for f in faults] == ["outage"]
