"""Listen addresses as Go's `net` package reads and writes them (`host:port`, `[v6]:port`, `:port`).

Errors carry Go's wording (`listen tcp 127.0.0.1:80: bind: address already in use`), since the API
returns them verbatim with status 500.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket

__all__ = ["AddressError", "bind_listener", "format_addr", "split_host_port"]


class AddressError(Exception):
    """A listen address that cannot be used; the message is Go's."""


def split_host_port(address: str) -> tuple[str, str]:
    """Go's `net.SplitHostPort`: `[::1]:80` -> (`::1`, `80`); raises ValueError with Go's reason."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise ValueError("missing ']' in address")
        rest = address[end + 1 :]
        if not rest:
            raise ValueError("missing port in address")
        if not rest.startswith(":") or ":" in rest[1:]:
            raise ValueError("too many colons in address" if ":" in rest[1:] else "missing port in address")
        return address[1:end], rest[1:]
    colon = address.rfind(":")
    if colon < 0:
        raise ValueError("missing port in address")
    host = address[:colon]
    if ":" in host:
        raise ValueError("too many colons in address")
    return host, address[colon + 1 :]


def format_addr(sockaddr: tuple[object, ...]) -> str:
    host, port = str(sockaddr[0]), int(str(sockaddr[1]))
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _port_number(port: str) -> int:
    if port == "":
        return 0
    if port.isdigit():
        value = int(port)
        if value > 65535:
            raise AddressError(f"listen tcp: address {port}: invalid port")
        return value
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        raise AddressError(f"listen tcp: lookup tcp/{port}: unknown port") from None


def _dual_stack_socket() -> socket.socket:
    """A socket on every interface, IPv6 and IPv4 on one port where the host has IPv6 (Go's `:port`)."""
    if socket.has_ipv6:
        try:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        except OSError:
            pass
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            return sock
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


async def bind_listener(listen: str, backlog: int = 1024) -> tuple[socket.socket, str]:
    """Bind and listen on `listen`; returns the socket and the address as Go would print it."""
    try:
        # An empty address is every interface and a free port, as with Go's net.Listen.
        host, port_text = split_host_port(listen) if listen else ("", "0")
    except ValueError as exc:
        raise AddressError(f"listen tcp: address {listen}: {exc}") from None
    port = _port_number(port_text)
    if host == "":
        sock = _dual_stack_socket()
        target: tuple[object, ...] = ("::", port) if sock.family == socket.AF_INET6 else ("0.0.0.0", port)
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror:
            raise AddressError(f"listen tcp: lookup {host}: no such host") from None
        # Go listens on the first IPv4 address of a name when it has one.
        info = next((i for i in infos if i[0] == socket.AF_INET), infos[0])
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        target = info[4]
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go does on Unix
        sock.bind(target)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        reason = reason[:1].lower() + reason[1:]
        op = "bind" if exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES) else "listen"
        raise AddressError(f"listen tcp {format_addr(target)}: {op}: {reason}") from None
    return sock, format_addr(sock.getsockname())
