"""The shipped stacks/local.yaml, whole (three mocks behind their proxies, the gateway through them), on
ports moved to 0 with `--port`: up, one request through the gateway, status, down."""

from __future__ import annotations

import psutil
import requests
from stack_support import REPO, TOKEN, StackDir, pid_alive, processes_under

SERVICES = ("toxiproxy", "premium", "efficient", "local-vllm", "gateway")
PROXIES = ("premium", "efficient", "local-vllm")


def test_local_stack_up_request_through_the_gateway_and_down(stack_dir: StackDir) -> None:
    ports = [f"{name}=0" for name in SERVICES] + [f"proxy.{name}=0" for name in PROXIES]
    flags = [arg for item in ports for arg in ("--port", item)]
    up = stack_dir.gameday("up", "--stack", str(REPO / "stacks" / "local.yaml"), *flags)
    assert up.returncode == 0, up.stderr
    state = stack_dir.state()
    assert list(state["services"]) == list(SERVICES)
    assert set(state["proxies"]) == set(PROXIES)

    # The gateway reaches every provider through the proxy named after it.
    gateway_cmd = " ".join(psutil.Process(state["services"]["gateway"]["pid"]).cmdline())
    for provider in PROXIES:
        assert f"--upstream {provider}=http://{state['proxies'][provider]['listen']}" in gateway_cmd

    reply = requests.post(
        f"{state['gateway_url']}/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 4},
        headers={"x-gameday-tier": "high", "x-gameday-task": "chat"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-gameday-provider"] == "premium"
    bill = requests.get(
        f"{state['services']['premium']['url']}/admin/bill", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    ).json()
    assert sum(m["requests"] for m in bill["models"].values()) == 1

    status = stack_dir.gameday("status")
    assert status.returncode == 0, status.stdout
    assert status.stdout.count(" alive ") == len(SERVICES)

    pids = stack_dir.pids()
    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(pid) for pid in pids.values())
    assert processes_under(stack_dir.root) == []
