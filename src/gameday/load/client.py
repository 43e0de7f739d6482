"""The real transport: HTTP/1.1 over gevent sockets, geventhttpclient's pool and C parser.

We drive the pool and the parser ourselves, rather than a ready-made client, for two reasons:
a streamed body must be read line by line as it arrives (TTFT is the first content line, not
the first 4 KB), and every failure must be told apart by where it happened (connecting,
sending, waiting for the head, reading the body), which is what the record's error kind says.

A reused keep-alive connection that turns out dead before any byte of response is retried once
on a fresh connection (the server closed it while idle); a fresh one that breaks is reported.
"""

from __future__ import annotations

import errno
import socket
import weakref
from collections.abc import Sequence
from urllib.parse import urlsplit

from geventhttpclient._parser import HTTPParseError
from geventhttpclient.connectionpool import ConnectionPool, SSLConnectionPool
from geventhttpclient.response import HTTPConnectionClosed, HTTPSocketResponse

from gameday.errors import ConfigError
from gameday.load.wire import TransportError

__all__ = ["GeventResponse", "GeventTransport"]

BLOCK = 16 * 1024
_BROKEN = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ENOTCONN}


class _Pool(ConnectionPool):
    """Remembers which sockets were just created, to know which failures deserve a retry."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.fresh: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def _create_socket(self) -> socket.socket:
        sock = super()._create_socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.fresh.add(sock)
        return sock


class _SSLPool(SSLConnectionPool, _Pool):
    pass


class GeventResponse:
    """A response in progress. Holds its socket until the body ends or `close()` is called."""

    def __init__(self, raw: HTTPSocketResponse, sock: socket.socket, pool: ConnectionPool) -> None:
        self._raw = raw
        self._sock: socket.socket | None = sock
        self._pool = pool
        self.status = int(raw.status_code)
        self.headers = {str(k).lower(): str(v) for k, v in raw.items()}
        if raw.message_complete:
            self._finish()

    def _finish(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._raw.message_complete and not self._raw.should_close():
            self._pool.return_socket(sock)
        else:
            self._pool.release_socket(sock)

    def _guard(self, call: str, *args: object) -> bytes:
        try:
            data: bytes = getattr(self._raw, call)(*args)
        except TimeoutError:
            self.close()
            raise TransportError("timeout", "no data within the network timeout") from None
        except (HTTPConnectionClosed, HTTPParseError) as exc:
            self.close()
            raise TransportError("cut", str(exc)) from None
        except OSError as exc:
            self.close()
            raise TransportError("cut", exc.strerror or str(exc)) from None
        if not data:
            if not self._raw.message_complete:
                self.close()
                raise TransportError("cut", "the connection closed in the middle of the body")
            self._finish()  # the body has ended: the connection goes back to the pool
        return data

    def readline(self) -> bytes:
        return self._guard("readline", b"\n")

    def read_all(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        for _ in range(limit // BLOCK + 2):  # bounded: each turn reads a block or ends
            chunk = self._guard("read", BLOCK)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                break
        self.close()
        raise TransportError("protocol", f"body larger than {limit} bytes")

    def close(self) -> None:
        self._finish()


class GeventTransport:
    """POSTs to one origin (`http://host:port[/prefix]`) over a bounded pool of keep-alive connections."""

    def __init__(self, base_url: str, *, size: int, connect_timeout: float, network_timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"target {base_url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8080")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        host_header = self.host if ":" not in self.host else f"[{self.host}]"
        self.host_header = host_header if default_port else f"{host_header}:{self.port}"
        pool_cls = _SSLPool if parts.scheme == "https" else _Pool
        self.pool: _Pool = pool_cls(
            self.host,
            self.port,
            self.host,
            self.port,
            size=size,
            connection_timeout=connect_timeout,
            network_timeout=network_timeout,
        )

    def _head(self, path: str, headers: Sequence[tuple[str, str]], length: int) -> bytes:
        lines = [f"POST {self.prefix}{path} HTTP/1.1", f"Host: {self.host_header}", f"Content-Length: {length}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")

    def open(self, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> GeventResponse:
        request = self._head(path, headers, len(body)) + body
        for attempt in range(2):
            sock = self._connect()
            reused = sock not in self.pool.fresh
            self.pool.fresh.discard(sock)
            try:
                sock.sendall(request)
                raw = HTTPSocketResponse(sock, block_size=BLOCK, method="POST")
                return GeventResponse(raw, sock, self.pool)
            except TimeoutError:
                self.pool.release_socket(sock)
                raise TransportError("timeout", "no response head within the network timeout") from None
            except HTTPConnectionClosed as exc:
                self.pool.release_socket(sock)
                if reused and attempt == 0:
                    continue
                raise TransportError("reset", str(exc)) from None
            except HTTPParseError as exc:
                self.pool.release_socket(sock)
                raise TransportError("protocol", f"not an HTTP response: {exc}") from None
            except OSError as exc:
                self.pool.release_socket(sock)
                if exc.errno in _BROKEN and reused and attempt == 0:
                    continue
                raise TransportError("reset", exc.strerror or str(exc)) from None
            except BaseException:
                self.pool.release_socket(sock)
                raise
        raise TransportError("reset", "the connection broke twice")  # pragma: no cover - loop returns or raises

    def _connect(self) -> socket.socket:
        try:
            sock: socket.socket = self.pool.get_socket()
        except TimeoutError:
            raise TransportError("connect", f"no connection to {self.host}:{self.port} within the timeout") from None
        except OSError as exc:
            raise TransportError("connect", f"{self.host}:{self.port}: {exc.strerror or exc}") from None
        except RuntimeError as exc:  # geventhttpclient: cannot resolve, or the pool is closed
            raise TransportError("connect", str(exc)) from None
        return sock

    def close(self) -> None:
        self.pool.close()
