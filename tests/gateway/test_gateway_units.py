"""The gateway's small pieces, each alone: policy validation, classifier, router, breaker, retry, request parsing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from gw_support import REFERENCE, make_policy, policy_data
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.config.kinds import load_any
from gameday.config.policy import BreakerSettings, Policy, RetrySettings
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.gateway.breaker import Breaker
from gameday.gateway.classify import Classifier
from gameday.gateway.errors import InvalidRequest
from gameday.gateway.request import ChatRequest, estimate_tokens, parse_body, parse_hints
from gameday.gateway.retry import Cooldowns, RetryPolicy, parse_retry_after
from gameday.gateway.router import KILL_SWITCH_ROUTE, RouteFacts, Router
from gameday.load.prompts import PromptFactory
from gameday.mocks.tokens import count_messages


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- policy -------------------------------------------------------------------------------------------------------
def test_reference_policy_loads_by_kind() -> None:
    policy = load_any(REFERENCE)
    assert isinstance(policy, Policy)
    assert policy.model_names == ["frontier-large", "frontier-alt", "swift-mini", "tiny"]
    assert policy.route("high").models == ["frontier-large", "frontier-alt"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default_route": "nowhere"}, "default_route 'nowhere' is not a route"),
        ({"baseline_model": "gpt-9"}, "baseline_model 'gpt-9' is not a model"),
        ({"routes": [{"name": "x", "primary": "gpt-9"}]}, "route 'x': model 'gpt-9' is not a model of any provider"),
        ({"routes": [{"name": "medium", "primary": "tiny", "fallbacks": ["tiny"]}]}, "repeated: tiny"),
        ({"guardrails": {"default_max_tokens": 9000, "clamp_max_tokens": 10}}, "default_max_tokens must not exceed"),
        ({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
    ],
)
def test_policy_errors_name_the_field_and_line(tmp_path: Path, change: dict[str, object], message: str) -> None:
    import yaml

    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy_data(**change), sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load_model(path, Policy)
    assert message in str(info.value)
    assert f"{path}:" in str(info.value)


def test_policy_unknown_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(REFERENCE.read_text().replace("  ttft_s: 5.0", "  ttft_seconds: 5.0"))
    with pytest.raises(ConfigError, match=r"timeouts.ttft_seconds: unknown field. Allowed here: connect_s, ttft_s"):
        load_model(path, Policy)


# -- classifier ---------------------------------------------------------------------------------------------------
def test_classifier_recognises_the_load_generators_styles() -> None:
    classifier = Classifier(make_policy().classifier)
    factory = PromptFactory(seed=3)
    for style in ("code", "summarize", "extract", "reasoning", "chat"):
        for _ in range(5):
            assert classifier.task_of(factory.make(style, 200)) == style, style


def test_classifier_headers_win_and_tier_follows_task() -> None:
    classifier = Classifier(make_policy().classifier)
    found = classifier.classify("Summarize this report in bullet points", None, None)
    assert (found.task, found.tier, found.task_from) == ("summarize", "low", "classifier")
    found = classifier.classify("Summarize this report", "code", "high")
    assert (found.task, found.tier, found.task_from, found.tier_from) == ("code", "high", "header", "header")
    assert classifier.classify("Solve step by step: how many apples?").tier == "high"
    assert classifier.classify("nice weather today").task == "chat"


# -- router -------------------------------------------------------------------------------------------------------
def facts(task: str = "chat", tier: str = "high", tokens: int = 100, **kw: object) -> RouteFacts:
    return RouteFacts(task, tier, tokens, kw.pop("max_tokens", 64), **kw)  # type: ignore[arg-type]


def test_router_high_tier_keeps_to_models_allowed_for_high() -> None:
    router = Router(make_policy())
    plan = router.plan(facts("code", "high"))
    assert plan.route == "high"
    assert [c.model for c in plan.candidates] == ["frontier-large", "frontier-alt"]
    plan = router.plan(facts("summarize", "low"))
    assert (plan.route, [c.model for c in plan.candidates]) == ("bulk", ["swift-mini", "tiny", "frontier-alt"])
    plan = router.plan(facts("summarize", "medium"))
    assert [c.model for c in plan.candidates] == ["swift-mini", "frontier-alt"]
    assert plan.excluded == [("tiny", "not allowed for tier medium")]


def test_router_matches_input_size_latency_budget_and_default() -> None:
    router = Router(make_policy())
    assert router.plan(facts("chat", "medium", tokens=30_000)).route == "long-context"
    assert router.plan(facts("chat", "medium", latency_budget_ms=800)).route == "interactive"
    assert router.plan(facts("chat", "medium", latency_budget_ms=5000)).route == "medium"
    assert router.plan(facts("chat", "high", latency_budget_ms=800)).route == "high"
    assert router.plan(facts("poetry", "low")).route == "low"
    policy = make_policy(routes=[{"name": "only-code", "match": {"tasks": ["code"]}, "primary": "tiny"}],
                         default_route="only-code")  # fmt: skip
    assert Router(policy).plan(facts("chat", "low")).route == "only-code"


def test_router_context_window_pins_overrides_and_kill_switch() -> None:
    router = Router(make_policy())
    plan = router.plan(facts("summarize", "low", tokens=8000, max_tokens=500))
    assert [c.model for c in plan.candidates] == ["swift-mini", "frontier-alt"]
    assert plan.excluded[0][0] == "tiny"
    assert "context window 4096" in plan.excluded[0][1]
    plan = router.plan(facts("chat", "high", model="frontier-alt"))
    assert ([c.model for c in plan.candidates], plan.steered) == (["frontier-alt", "frontier-large"], "pinned")
    with pytest.raises(InvalidRequest, match="swift-mini may not serve tier high") as info:
        router.plan(facts("chat", "high", model="swift-mini"))
    assert info.value.param == "model"
    plan = router.plan(facts("chat", "low"), overrides={"low": "tiny"})
    assert ([c.model for c in plan.candidates], plan.steered) == (["tiny"], "route_override")
    plan = router.plan(facts("chat", "high"), overrides={"high": "tiny"})
    assert plan.candidates == []
    assert plan.excluded == [("tiny", "not allowed for tier high")]
    plan = router.plan(facts("chat", "high"), kill_switch="swift-mini")
    assert (plan.route, [c.model for c in plan.candidates]) == (KILL_SWITCH_ROUTE, ["swift-mini"])


# -- breaker ------------------------------------------------------------------------------------------------------
def test_breaker_opens_on_failure_rate_after_min_requests_then_half_opens_and_closes() -> None:
    clock = Clock()
    breaker = Breaker("m", BreakerSettings(window_s=10, min_requests=4, failure_rate=0.5, open_s=5), clock)
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state == "closed"  # under the minimum volume
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.snapshot()["requests_in_window"] == 0


def test_breaker_failed_probe_reopens_and_old_failures_roll_out() -> None:
    clock = Clock()
    breaker = Breaker("m", BreakerSettings(window_s=10, min_requests=4, failure_rate=0.5, open_s=5), clock)
    for _ in range(4):
        breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 5
    assert breaker.allow()
    breaker.release()  # a probe without a verdict gives its slot back
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    for _ in range(3):
        breaker.record_failure()
    clock.now += 11  # those three roll out of the window
    breaker.record_failure()
    for _ in range(3):
        breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.snapshot()["failure_rate"] == 0.25


def test_breaker_lost_probe_does_not_wedge_it() -> None:
    clock = Clock()
    breaker = Breaker("m", BreakerSettings(window_s=10, min_requests=1, failure_rate=0.5, open_s=2), clock)
    breaker.record_failure()
    clock.now += 2
    assert breaker.allow()
    assert not breaker.allow()
    clock.now += 2.5  # the probe never reported
    assert breaker.allow()


# -- retry --------------------------------------------------------------------------------------------------------
def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(RetrySettings(backoff_base_s=0.1, backoff_cap_s=1.0), random.Random(1))
    for pass_no, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (40, 1.0)]:
        draws = [policy.backoff_s(pass_no) for _ in range(300)]
        assert min(draws) >= 0
        assert max(draws) <= ceiling
        assert max(draws) > 0.8 * ceiling  # spread over the whole range, not a fixed delay
    assert policy.retryable(503)
    assert policy.retryable(429)
    assert not policy.retryable(400)
    assert policy.retryable(None, connect_error=True)
    assert policy.honours(2.0)
    assert not policy.honours(2.01)


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 12:00:05 GMT"}, lambda: now) == 5.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after({}) is None


def test_cooldowns_hold_a_model_until_its_retry_after() -> None:
    clock = Clock()
    cooldowns = Cooldowns(clock)
    cooldowns.hold("m", 1.5)
    cooldowns.hold("m", 0.5)  # a shorter one does not shorten it
    assert cooldowns.wait_s("m") == pytest.approx(1.5)
    clock.now += 1.5
    assert cooldowns.wait_s("m") == 0.0
    assert cooldowns.snapshot() == {}


# -- request parsing ----------------------------------------------------------------------------------------------
def test_parse_body_settles_max_tokens_and_asks_for_usage_on_streams() -> None:
    g = make_policy().guardrails
    models = frozenset({"tiny"})
    req = parse_body(b'{"model":"auto","messages":[{"role":"user","content":"hi"}],"stream":true}', g, models)
    assert req.max_tokens == g.default_max_tokens
    assert req.body["max_tokens"] == g.default_max_tokens
    assert req.body["stream_options"] == {"include_usage": True}
    assert not req.wants_usage
    req = parse_body(b'{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":99999}',
                     g, models)  # fmt: skip
    assert (req.model, req.max_tokens, "max_completion_tokens" in req.body) == ("tiny", g.clamp_max_tokens, False)


def test_token_estimate_never_undercounts_the_mocks_bill() -> None:
    rng = random.Random(5)
    guardrails = make_policy().guardrails
    for _ in range(500):
        texts = ["x" * rng.randrange(0, 400) for _ in range(rng.randrange(1, 6))]
        texts = [t or "y" for t in texts]
        body = {"model": "auto", "messages": [{"role": "user", "content": t} for t in texts]}
        req = parse_body(orjson.dumps(body), guardrails, frozenset())
        assert req.input_tokens >= count_messages(texts)
    assert estimate_tokens(3) == 1


def test_hints_from_headers() -> None:
    assert parse_hints({"x-gameday-tier": " High ", "x-gameday-task": "code"}).tier == "high"
    with pytest.raises(InvalidRequest, match="x-gameday-tier") as info:
        parse_hints({"x-gameday-tier": "urgent"})
    assert info.value.param == "x-gameday-tier"
    with pytest.raises(InvalidRequest, match="x-gameday-task"):
        parse_hints({"x-gameday-task": "has spaces"})
    with pytest.raises(InvalidRequest, match="latency-budget"):
        parse_hints({"x-gameday-latency-budget-ms": "-4"})
    assert parse_hints({"x-gameday-latency-budget-ms": "800"}).latency_budget_ms == 800


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["model", "messages", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop",
     "logit_bias", "presence_penalty", "top_logprobs", "user", "seed", "tools", "extra"]
)  # fmt: skip


def _parse_or_error(raw: bytes) -> object:
    try:
        return parse_body(raw, GUARDRAILS, frozenset({"tiny"}))
    except InvalidRequest as exc:
        return exc


@given(changes=st.dictionaries(FIELDS, JSON_VALUES, max_size=4), raw=st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_any_body_is_either_a_request_or_an_invalid_request(changes: dict[str, object], raw: bytes) -> None:
    """Whatever arrives, parsing ends in a request or in InvalidRequest naming a field: never another error."""
    base = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    for candidate in (json.dumps({**base, **changes}).encode(), raw, json.dumps(changes).encode()):
        result = _parse_or_error(candidate)
        if isinstance(result, InvalidRequest):
            assert str(result)
            continue
        assert isinstance(result, ChatRequest)
        assert 1 <= result.max_tokens <= GUARDRAILS.clamp_max_tokens
        assert result.body["max_tokens"] == result.max_tokens


GUARDRAILS = make_policy().guardrails
