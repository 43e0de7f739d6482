"""Policy reload through the admin API (the live state stays), and the command line's refusals of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gw_support import FakeUpstream, all_to, make_policy, run, running_gateway

from support.procs import run_cli

AUTH = {"Authorization": "Bearer reload-token"}


def test_reload_applies_a_new_policy_keeps_breakers_and_refuses_a_bad_file(tmp_path: Path) -> None:
    policy = make_policy()
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False))

    async def main() -> None:
        fake = FakeUpstream()
        await fake.start()
        try:
            async with running_gateway(policy, all_to(fake.url), "reload-token", policy_path=path) as gw:
                breaker = gw.gateway.breakers["frontier-large"]
                _, headers, _ = await gw.chat("high")
                assert headers["x-gameday-model"] == "frontier-large"
                data = yaml.safe_load(path.read_text())
                data["routes"][0]["primary"], data["routes"][0]["fallbacks"] = "frontier-alt", ["frontier-large"]
                path.write_text(yaml.safe_dump(data, sort_keys=False))
                async with gw.session.post(f"{gw.url}/admin/policy/reload", headers=AUTH) as reply:
                    assert reply.status == 200
                    assert (await reply.json())["reloaded"] is True
                _, headers, _ = await gw.chat("high")
                assert headers["x-gameday-model"] == "frontier-alt"
                assert "x-gameday-fallback" not in headers
                assert gw.gateway.breakers["frontier-large"] is breaker  # live state survives the reload
                path.write_text(path.read_text().replace("primary: frontier-alt", "primary: gpt-9", 1))
                async with gw.session.post(f"{gw.url}/admin/policy/reload", headers=AUTH) as reply:
                    assert reply.status == 422
                    assert "gpt-9" in (await reply.json())["error"]["message"]
                _, headers, _ = await gw.chat("high")
                assert headers["x-gameday-model"] == "frontier-alt"  # the running policy stayed
        finally:
            await fake.stop()

    run(main)


def test_kill_switch_and_overrides_refuse_unknown_names() -> None:
    async def main() -> None:
        async with running_gateway(make_policy(), {}) as gw:
            with pytest.raises(KeyError, match="unknown model 'gpt-9'"):
                gw.gateway.set_kill_switch("gpt-9")
            with pytest.raises(KeyError):
                gw.gateway.set_route_override("nowhere", "tiny")
            with pytest.raises(KeyError, match="unknown model"):
                gw.gateway.set_route_override("low", "gpt-9")

    run(main)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "no/such/policy.yaml"], "no such file"),
        (["--upstream", "nobody=http://127.0.0.1:1"], "--upstream names nobody, not a provider of the policy"),
        (["--upstream", "premium"], "expected PROVIDER=URL"),
        (["--upstream", "premium=ftp://x"], "expected PROVIDER=URL"),
    ],
)
def test_cli_refuses_bad_flags_with_exit_code_2(args: list[str], message: str) -> None:
    done = run_cli("gateway", *args, "--port", "0", timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
