"""`gameday up`/`status`/`down` driven as subprocesses on a Toxiproxy-only stack (port 0 everywhere)."""

from __future__ import annotations

import os
import signal
import socket

from stack_support import StackDir, fake_toxiproxy_server, pid_alive, processes_under

from support.procs import run_cli

TOXIPROXY = {"name": "toxiproxy", "kind": "toxiproxy", "port": 0, "prefer_real": False}


def test_up_status_down_round_trip_leaves_no_process(stack_dir: StackDir) -> None:
    stack_dir.write_stack([TOXIPROXY])
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 0, up.stderr
    state = stack_dir.state()
    service = state["services"]["toxiproxy"]
    assert service["impl"] == "embedded"
    assert service["port"] > 0
    assert state["toxiproxy_url"] == f"http://127.0.0.1:{service['port']}"
    assert state["admin_token"] == "stack-tests-token"  # GAMEDAY_ADMIN_TOKEN, when set, is the stack's token
    assert (stack_dir.root / ".gameday" / "logs" / "toxiproxy.log").read_text().startswith("toxiproxy listening")
    assert pid_alive(service["pid"])
    assert "toxiproxy" in up.stdout
    assert "alive" in up.stdout

    status = stack_dir.gameday("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert service["url"] in status.stdout

    again = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert again.returncode == 2
    assert "already up" in again.stderr
    assert "gameday down" in again.stderr

    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "stopped: toxiproxy" in down.stdout
    assert not pid_alive(service["pid"])
    assert not stack_dir.state_path.exists()

    assert stack_dir.gameday("down").returncode == 0  # idempotent
    assert stack_dir.gameday("status").returncode == 2


def test_generated_admin_token_when_none_is_set(stack_dir: StackDir) -> None:
    stack_dir.write_stack([TOXIPROXY])
    up = stack_dir.gameday("up", "--stack", "stack.yaml", env={"GAMEDAY_ADMIN_TOKEN": ""})
    assert up.returncode == 0, up.stderr
    token = stack_dir.state()["admin_token"]
    assert len(token) >= 24
    assert token != "stack-tests-token"


def test_taken_port_is_named_with_its_service_and_nothing_starts(stack_dir: StackDir) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        stack_dir.write_stack([{**TOXIPROXY, "port": port}])
        up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 2
    assert f"port {port} on 127.0.0.1 (service toxiproxy) is already in use" in up.stderr
    assert "--port toxiproxy=PORT" in up.stderr
    assert "Traceback" not in up.stderr
    assert not stack_dir.state_path.exists()
    assert not (stack_dir.root / ".gameday" / "logs").exists()  # nothing was started


def test_port_override_flag(stack_dir: StackDir) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stack_dir.write_stack([{**TOXIPROXY, "port": 1}])  # port 1 would need root: the override must win
    up = stack_dir.gameday("up", "--stack", "stack.yaml", "--port", f"toxiproxy={port}")
    assert up.returncode == 0, up.stderr
    assert stack_dir.state()["services"]["toxiproxy"]["port"] == port

    bad = stack_dir.gameday("up", "--stack", "stack.yaml", "--port", "nosuch=1")
    assert bad.returncode == 2
    assert "nosuch is not in this stack. Valid names: toxiproxy" in bad.stderr


def test_real_toxiproxy_server_on_path_is_preferred(stack_dir: StackDir) -> None:
    env = fake_toxiproxy_server(stack_dir.root.parent / "bin")
    stack_dir.write_stack([{**TOXIPROXY, "prefer_real": True}])
    up = stack_dir.gameday("up", "--stack", "stack.yaml", env=env)
    assert up.returncode == 0, up.stderr
    service = stack_dir.state()["services"]["toxiproxy"]
    assert service["impl"] == "real"
    assert service["port"] > 0  # chosen for it: the real server cannot report a port it picked
    assert stack_dir.gameday("status").returncode == 0


def test_service_dying_at_startup_is_reported_with_its_log_tail(stack_dir: StackDir) -> None:
    env = fake_toxiproxy_server(stack_dir.root.parent / "bin", fail_lines=30)
    stack_dir.write_stack([{**TOXIPROXY, "prefer_real": True}])
    up = stack_dir.gameday("up", "--stack", "stack.yaml", env=env)
    assert up.returncode == 2
    assert "toxiproxy (toxiproxy) exited during start-up" in up.stderr
    assert "startup line 30" in up.stderr
    assert "startup line 11" in up.stderr
    assert "startup line 10\n" not in up.stderr  # the last 20 lines, not the whole log
    assert not stack_dir.state_path.exists()


def test_service_dead_later_shows_in_status_and_down_still_works(stack_dir: StackDir) -> None:
    stack_dir.write_stack([TOXIPROXY])
    assert stack_dir.gameday("up", "--stack", "stack.yaml").returncode == 0
    pid = stack_dir.pids()["toxiproxy"]
    os.kill(pid, signal.SIGKILL)
    status = stack_dir.gameday("status")
    assert status.returncode == 1
    assert "dead" in status.stdout
    assert "toxiproxy is not running. Last lines of" in status.stdout
    assert "toxiproxy listening on" in status.stdout  # its log tail

    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "already stopped: toxiproxy" in down.stdout
    assert not stack_dir.state_path.exists()


def test_down_kills_a_service_that_ignores_sigterm(stack_dir: StackDir) -> None:
    env = fake_toxiproxy_server(stack_dir.root.parent / "bin", stubborn=True)
    stack_dir.write_stack([{**TOXIPROXY, "prefer_real": True}], stop_timeout_s=0.5)
    assert stack_dir.gameday("up", "--stack", "stack.yaml", env=env).returncode == 0
    pid = stack_dir.pids()["toxiproxy"]
    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "stopped: toxiproxy" in down.stdout
    assert not pid_alive(pid)
    assert processes_under(stack_dir.root.parent / "bin") == []  # its whole process group went with it


def test_stale_state_is_replaced_and_workdir_flag_points_at_the_stack(stack_dir: StackDir) -> None:
    stack_dir.write_stack([TOXIPROXY])
    assert stack_dir.gameday("up", "--stack", "stack.yaml").returncode == 0
    os.kill(stack_dir.pids()["toxiproxy"], signal.SIGKILL)
    up = stack_dir.gameday("up", "--stack", "stack.yaml")  # every process of the old state is dead
    assert up.returncode == 0, up.stderr
    assert "none of its processes runs: replacing it" in up.stderr
    elsewhere = run_cli("status", "--workdir", str(stack_dir.root), cwd=stack_dir.root.parent)
    assert elsewhere.returncode == 0, elsewhere.stdout
    assert stack_dir.state()["services"]["toxiproxy"]["url"] in elsewhere.stdout
