"""Find a real `toxiproxy-server`, and the command line that runs it or, failing that, the embedded one."""

from __future__ import annotations

import shutil
import sys

__all__ = ["find_toxiproxy_server", "toxiproxy_command"]

SERVER_NAME = "toxiproxy-server"


def find_toxiproxy_server(path: str | None = None) -> str | None:
    """The path of `toxiproxy-server` on PATH (or on `path`, in PATH's format), else None."""
    return shutil.which(SERVER_NAME, path=path)


def toxiproxy_command(
    host: str,
    port: int,
    *,
    seed: int | None = None,
    ready_file: str | None = None,
    prefer_real: bool = True,
) -> list[str]:
    """Arguments that start a Toxiproxy on host:port: the real server when found and preferred, else ours.

    The real server has no ready file; wait for `GET /version` instead. `seed` and `ready_file` only
    apply to the embedded server (the real one's `-seed` flag does not seed its toxicity draws).
    """
    real = find_toxiproxy_server() if prefer_real else None
    if real is not None:
        return [real, "-host", host, "-port", str(port)]
    cmd = [sys.executable, "-m", "gameday", "toxiproxy", "--host", host, "--port", str(port)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if ready_file is not None:
        cmd += ["--ready-file", ready_file]
    return cmd
