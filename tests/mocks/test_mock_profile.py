"""Provider profiles: `gameday validate` errors naming file, line and field; the shipped profiles and
the calibration of `local-vllm` against the measured vLLM numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameday.config.kinds import load_any
from gameday.config.profile import ProviderProfile
from gameday.config.yamlio import load_model
from gameday.mocks.latency import LogNormal, first_token_s, per_token_factor
from support.procs import REPO, run_cli

BAD = """\
kind: provider-profile
provider: bad
flavor: tgi
models:
  m:
    price: {input: -1, output: 1}
    context_window: 1000
    ttft: {p50_s: 0.5, p95_s: 0.2}
    itl: {p50_s: 0.01, p95_s: 0.02}
    output_tokens: {mean: 10, max: 5}
    capacity: {max_concurrency: 4, knee: 8, overload_status: 500}
    rate_limits: {}
    colour: red
"""


def test_bad_profile_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    err = result.stderr
    assert f"{path}:3: flavor: Input should be 'openai' or 'vllm'" in err
    assert f"{path}:6: models.m.price.input: Input should be greater than or equal to 0" in err
    assert f"{path}:8: models.m.ttft: p95_s (0.2) must be at least p50_s (0.5)" in err
    assert f"{path}:10: models.m.output_tokens: mean (10) must lie between min (1) and max (5)" in err
    assert f"{path}:11: models.m.capacity.overload_status: Input should be 429, 503 or 529" in err
    assert f"{path}:12: models.m.rate_limits: give requests_per_minute and/or tokens_per_minute" in err
    assert f"{path}:13: models.m.colour: unknown field. Allowed here: price, context_window" in err
    assert "Traceback" not in err


def test_knee_beyond_the_slots_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "knee.yaml"
    path.write_text(BAD.replace("flavor: tgi", "flavor: vllm").replace(", overload_status: 500", ""))
    result = run_cli("mock", "--profile", str(path), "--port", "0")
    assert result.returncode == 2
    assert f"{path}:11: models.m.capacity: knee (8) must not exceed max_concurrency (4)" in result.stderr


@pytest.mark.parametrize("name", ["premium", "efficient", "local-vllm"])
def test_shipped_profiles_load_by_kind(name: str) -> None:
    profile = load_any(REPO / "mocks" / f"{name}.yaml")
    assert isinstance(profile, ProviderProfile)
    assert profile.provider == name


def test_shipped_prices_and_models_match_the_brief() -> None:
    prices = {}
    for name in ("premium", "efficient", "local-vllm"):
        profile = load_model(REPO / "mocks" / f"{name}.yaml", ProviderProfile)
        prices.update({m: (p.price.input, p.price.output) for m, p in profile.models.items()})
    assert prices == {
        "frontier-large": (3.0, 15.0),
        "frontier-alt": (2.5, 10.0),
        "swift-mini": (0.15, 0.60),
        "tiny": (0.02, 0.05),
    }
    vllm = load_model(REPO / "mocks" / "local-vllm.yaml", ProviderProfile)
    assert vllm.flavor == "vllm"
    assert vllm.models["tiny"].context_window == 4096


def test_local_vllm_reproduces_the_h100_measurements() -> None:
    """Closed loop, 128-token answers: the model's TTFT, ITL and throughput per level vs the README table."""
    tiny = load_model(REPO / "mocks" / "local-vllm.yaml", ProviderProfile).models["tiny"]
    ttft, itl = LogNormal.from_quantiles(tiny.ttft), LogNormal.from_quantiles(tiny.itl)

    def level(n: int) -> tuple[float, float, float]:
        first = first_token_s(ttft.quantile(0), tiny.capacity, n, 205)
        gap = itl.quantile(0) * per_token_factor(tiny.capacity, n)
        return first, gap, n / (first + 127 * gap)

    measured = {  # in flight: (TTFT p50 range s, ITL range s, completions/s range) from the README, widened 15%
        1: ((0.014, 0.018), (0.002, 0.0027), (2.8, 3.7)),
        64: ((0.15, 0.25), (0.0037, 0.0056), (67, 102)),
        128: ((0.23, 0.38), (0.0054, 0.0091), (83, 131)),
        256: ((0.40, 0.76), (0.016, 0.032), (50, 98)),
    }
    for n, ((t_lo, t_hi), (i_lo, i_hi), (c_lo, c_hi)) in measured.items():
        first, gap, rate = level(n)
        assert t_lo <= first <= t_hi, (n, first)
        assert i_lo <= gap <= i_hi, (n, gap)
        assert c_lo <= rate <= c_hi, (n, rate)
    rates = {n: level(n)[2] for n in (32, 64, 96, 128, 160, 192, 256, 384)}
    assert max(rates, key=rates.__getitem__) == 128  # throughput peaks near 128 in flight, then falls
    assert level(256)[1] / level(128)[1] >= 2.5  # per-token time jumps past the knee


def test_premium_and_efficient_latencies_are_as_specified() -> None:
    premium = load_model(REPO / "mocks" / "premium.yaml", ProviderProfile).models
    efficient = load_model(REPO / "mocks" / "efficient.yaml", ProviderProfile).models
    large = premium["frontier-large"]
    assert (large.ttft.p50_s, large.ttft.p95_s, large.itl.p50_s) == (0.6, 1.5, 0.025)
    assert (large.context_window, large.capacity.max_concurrency) == (200_000, 64)
    alt = premium["frontier-alt"]
    assert alt.ttft.p50_s < large.ttft.p50_s
    assert alt.itl.p50_s < large.itl.p50_s
    assert alt.context_window == 128_000
    mini = efficient["swift-mini"]
    assert (mini.ttft.p50_s, mini.itl.p50_s, mini.context_window, mini.capacity.max_concurrency) == (
        0.25,
        0.008,
        128_000,
        128,
    )
