"""Is a port free on loopback, and which one is: checked before anything starts, so a taken port
gets one clear error naming it and the service that wanted it, and nothing is left half-started."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from gameday.errors import StackError

__all__ = ["check_ports_free", "free_port", "port_is_free"]


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_is_free(host: str, port: int) -> bool:
    """True when a server could listen on host:port now. SO_REUSEADDR as our servers set it, so a port
    in TIME_WAIT after a previous stack counts as free, as it is for them."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now (for servers that cannot report the port they bound, like toxiproxy-server)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_ports_free(host: str, claims: Iterable[tuple[str, int]]) -> None:
    """`claims` pairs a description (`service premium`) with a port; port 0 is always fine."""
    taken = [(what, port) for what, port in claims if port and not port_is_free(host, port)]
    if not taken:
        return
    lines = [f"port {port} on {host} ({what}) is already in use" for what, port in taken]
    first_what, first_port = taken[0]
    name = first_what.split(" ", 1)[-1]
    flag = f"proxy.{name}" if first_what.startswith("proxy ") else name
    raise StackError(
        "; ".join(lines)
        + f". Nothing was started. Stop whatever holds it (`ss -ltnp 'sport = :{first_port}'` shows it), "
        f"or choose another port: `gameday up --port {flag}=PORT` (0 = any free)."
    )
