"""A runner stand-in: brings the stack up through the library, dirties it with faults, then waits to be killed.

Prints `started True` / `again False` (ensure_up's second call finds the stack up) and `dirty` once every
fault is in place.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

from gameday.stack.api import ensure_up


def main() -> None:
    stack, root = Path(sys.argv[1]), Path(sys.argv[2])
    state, started = ensure_up(stack, root=root)
    print(f"started {started}", flush=True)
    _, again = ensure_up(stack, root=root)
    print(f"again {again}", flush=True)
    toxiproxy = state["toxiproxy_url"]
    requests.post(
        f"{toxiproxy}/proxies/premium/toxics",
        json={"type": "latency", "attributes": {"latency": 500}},
        timeout=5,
    ).raise_for_status()
    mock = state["services"]["premium"]["url"]
    headers = {"Authorization": f"Bearer {state['admin_token']}"}
    requests.post(
        f"{mock}/admin/errors", json={"status": 503, "rate": 0.5}, headers=headers, timeout=5
    ).raise_for_status()
    print("dirty", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
