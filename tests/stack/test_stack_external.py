"""Services the stack does not own: a Toxiproxy given by `--toxiproxy URL`, and `external: true` services
(a compose stack attached): used, reset and recorded, never started or stopped."""

from __future__ import annotations

from collections.abc import Callable

import requests
from stack_support import TOKEN, StackDir, mock_service, pid_alive, provider_stack

from support.procs import Service


def test_toxiproxy_url_is_used_not_started_and_keeps_running(
    stack_dir: StackDir, service_factory: Callable[..., Service]
) -> None:
    toxiproxy = service_factory(["toxiproxy"], name="toxiproxy")
    provider_stack(stack_dir)
    up = stack_dir.gameday("up", "--stack", "stack.yaml", "--toxiproxy", toxiproxy.url)
    assert up.returncode == 0, up.stderr
    state = stack_dir.state()
    assert state["toxiproxy_url"] == toxiproxy.url
    assert state["services"]["toxiproxy"]["impl"] == "external"
    assert state["services"]["toxiproxy"]["pid"] is None
    assert "starting toxiproxy" not in up.stderr
    proxies = requests.get(f"{toxiproxy.url}/proxies", timeout=5).json()
    assert proxies["premium"]["upstream"] == f"127.0.0.1:{state['services']['premium']['port']}"

    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "stopped: premium" in down.stdout
    assert toxiproxy.proc.poll() is None  # not ours to stop
    assert requests.get(f"{toxiproxy.url}/proxies", timeout=5).json() == {}  # the proxy we made is gone


def test_unreachable_toxiproxy_url_is_a_clear_error(stack_dir: StackDir) -> None:
    provider_stack(stack_dir)
    up = stack_dir.gameday("up", "--stack", "stack.yaml", "--toxiproxy", "http://127.0.0.1:9")
    assert up.returncode == 2
    assert "the stack's Toxiproxy at http://127.0.0.1:9: cannot reach toxiproxy" in up.stderr
    assert not stack_dir.state_path.exists()


def test_external_services_are_attached_reset_and_left_running(
    stack_dir: StackDir, service_factory: Callable[..., Service]
) -> None:
    toxiproxy = service_factory(["toxiproxy"], name="toxiproxy")
    mock = service_factory(
        ["mock", "--profile", mock_service("premium")["profile"]], name="premium", env={"GAMEDAY_ADMIN_TOKEN": TOKEN}
    )
    # A proxy already there, as compose's toxiproxy.json makes it: found and kept, not deleted on down.
    requests.post(
        f"{toxiproxy.url}/populate",
        json=[{"name": "premium", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{mock.port}"}],
        timeout=5,
    ).raise_for_status()
    listen = requests.get(f"{toxiproxy.url}/proxies/premium", timeout=5).json()["listen"]
    stack_dir.write_stack(
        [
            {"name": "toxiproxy", "kind": "toxiproxy", "port": toxiproxy.port, "external": True},
            {"name": "premium", "kind": "mock", "port": mock.port, "external": True},
        ],
        [{"name": "premium", "port": int(listen.rsplit(":", 1)[1]), "upstream": "premium"}],
    )
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 0, up.stderr
    state = stack_dir.state()
    assert all(s["pid"] is None for s in state["services"].values())
    assert state["proxies"]["premium"] == {"listen": listen, "upstream": f"127.0.0.1:{mock.port}", "created": False}

    headers = {"Authorization": f"Bearer {TOKEN}"}
    requests.post(f"{mock.url}/admin/errors", json={"status": 500, "rate": 1.0}, headers=headers, timeout=5)
    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert requests.get(f"{mock.url}/admin/state", headers=headers, timeout=5).json()["errors"] == []
    assert pid_alive(mock.proc.pid)
    assert pid_alive(toxiproxy.proc.pid)
    assert "premium" in requests.get(f"{toxiproxy.url}/proxies", timeout=5).json()  # found there, left there


def test_external_service_not_running_is_named(stack_dir: StackDir) -> None:
    stack_dir.write_stack([{"name": "toxiproxy", "kind": "toxiproxy", "port": 9, "external": True}])
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 2
    assert "cannot reach toxiproxy" in up.stderr


def test_external_mock_not_running_is_named_after_the_timeout(stack_dir: StackDir) -> None:
    stack_dir.write_stack([{"name": "premium", "kind": "mock", "port": 9, "external": True}], startup_timeout_s=0.5)
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 2
    assert "premium (mock, external) is not healthy at port 9 after 0.5 s (connection refused)" in up.stderr
    assert "docker compose" in up.stderr
