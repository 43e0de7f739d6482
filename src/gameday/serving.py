"""Run one aiohttp service in the foreground: uvloop, a readiness line, clean shutdown on signals.

Every service (`gameday mock`, `gameday gateway`, `gameday toxiproxy`) starts through `serve`, so the
stack and the tests can rely on one readiness contract: once the socket is bound, a line
`<name> listening on http://HOST:PORT` goes to stdout, and the port is written to `--ready-file`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from gameday.errors import StackError

__all__ = ["install_event_loop_policy", "serve"]


def install_event_loop_policy() -> None:
    """Use uvloop where available: it halves per-request overhead on these small services."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on every supported platform
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _write_ready_file(path: str, port: int) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(str(port))
    os.replace(tmp, path)  # atomic: a reader never sees a half-written port


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    name: str,
    ready_file: str | None,
    on_ready: Callable[[int], Awaitable[None]] | None,
) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StackError(
            f"{name}: cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another port with --port."
        ) from None
    server = site._server  # aiohttp exposes the bound port only through the asyncio server
    bound = server.sockets[0].getsockname()[1] if server and server.sockets else port
    if on_ready is not None:
        await on_ready(bound)
    if ready_file:
        await asyncio.to_thread(_write_ready_file, ready_file, bound)
    print(f"{name} listening on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(
    app: web.Application,
    host: str,
    port: int,
    name: str,
    ready_file: str | None = None,
    on_ready: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Serve `app` until SIGINT or SIGTERM; returns the process exit code."""
    install_event_loop_policy()
    try:
        asyncio.run(_serve(app, host, port, name, ready_file, on_ready))
    except StackError as exc:
        print(f"gameday: {exc}", file=sys.stderr)
        return 2
    return 0
