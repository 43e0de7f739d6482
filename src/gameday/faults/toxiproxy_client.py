"""A small typed, synchronous client for Toxiproxy's HTTP API (the real server or the embedded one).

Synchronous on purpose: it runs inside the game-day runner next to Locust (gevent), where asyncio does
not belong. Only the documented API is used (PATCH for updates, as Toxiproxy 2.x documents), so it
works against a real `toxiproxy-server`. Every failure is a `ToxiproxyError` (a `FaultError`) whose
message carries the server's own words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests

from gameday.errors import FaultError

__all__ = ["STREAMS", "Proxy", "ProxySpec", "Toxic", "ToxiproxyClient", "ToxiproxyError"]

STREAMS = ("upstream", "downstream")
KNOWN_TOXICS = ("latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop")


class ToxiproxyError(FaultError):
    """Toxiproxy refused a request or could not be reached. `status` is 0 when no answer came."""

    def __init__(self, message: str, status: int = 0, server_message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


@dataclass(frozen=True)
class Toxic:
    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            stream=str(data.get("stream", "downstream")),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(frozen=True)
class Proxy:
    name: str
    listen: str
    upstream: str
    enabled: bool = True
    toxics: tuple[Toxic, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proxy:
        # Unknown keys (the real server also writes a stray "Logger") are ignored.
        return cls(
            name=str(data["name"]),
            listen=str(data.get("listen", "")),
            upstream=str(data.get("upstream", "")),
            enabled=bool(data.get("enabled", True)),
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
        )

    @property
    def port(self) -> int:
        """The port this proxy listens on (from `listen`)."""
        return int(self.listen.rsplit(":", 1)[1])


@dataclass(frozen=True)
class ProxySpec:
    """One entry of `populate`."""

    name: str
    upstream: str
    listen: str
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "upstream": self.upstream, "listen": self.listen, "enabled": self.enabled}


def _check_toxic_args(stream: str | None, toxicity: float | None) -> None:
    if stream is not None and stream.lower() not in STREAMS:
        raise ToxiproxyError(f"stream {stream!r} is not valid: use 'upstream' or 'downstream'.")
    if toxicity is not None and not 0.0 <= toxicity <= 1.0:
        raise ToxiproxyError(f"toxicity {toxicity} is out of range: use a probability from 0 to 1.")


class ToxiproxyClient:
    """Every endpoint of Toxiproxy's API. Use as a context manager, or call `close()`."""

    def __init__(self, base_url: str, timeout_s: float = 5.0, session: requests.Session | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ToxiproxyError(f"toxiproxy URL {base_url!r} must start with http:// (e.g. http://127.0.0.1:8474).")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = session or requests.Session()

    # -- transport -----------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200,)) -> Any:
        url = self.base_url + path
        try:
            response = self._session.request(method, url, json=body, timeout=self.timeout_s)
        except requests.Timeout:
            raise ToxiproxyError(
                f"toxiproxy at {self.base_url} did not answer {method} {path} within {self.timeout_s:g} s."
            ) from None
        except requests.RequestException as exc:
            raise ToxiproxyError(
                f"cannot reach toxiproxy at {self.base_url} ({type(exc).__name__}). "
                "Is it running? `gameday up` starts one, `gameday status` shows where."
            ) from None
        with response:
            if response.status_code not in ok:
                raise self._error(method, path, response)
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ToxiproxyError(
                    f"toxiproxy at {self.base_url}: {method} {path} answered {response.status_code} "
                    f"with a body that is not JSON: {response.text[:200]!r}",
                    response.status_code,
                ) from None

    def _error(self, method: str, path: str, response: requests.Response) -> ToxiproxyError:
        message = response.text.strip()
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            message = data["error"]
        hint = ""
        if message == "invalid toxic type":
            hint = f" (types Toxiproxy ships: {', '.join(KNOWN_TOXICS)})"
        text = f"toxiproxy: {method} {path} failed with {response.status_code}: {message or response.reason}{hint}"
        return ToxiproxyError(text, response.status_code, message)

    @staticmethod
    def _p(name: str) -> str:
        return quote(name, safe="")

    # -- server ---------------------------------------------------------------------------------------
    def version(self) -> str:
        data = self._call("GET", "/version")
        return str(data["version"]) if isinstance(data, dict) else str(data)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("POST", "/reset", ok=(204, 200))

    # -- proxies --------------------------------------------------------------------------------------
    def list_proxies(self) -> dict[str, Proxy]:
        data = self._call("GET", "/proxies") or {}
        return {name: Proxy.from_json(value) for name, value in data.items()}

    def get_proxy(self, name: str) -> Proxy:
        return Proxy.from_json(self._call("GET", f"/proxies/{self._p(name)}"))

    def create_proxy(self, name: str, upstream: str, listen: str | None = None, enabled: bool = True) -> Proxy:
        body: dict[str, Any] = {"name": name, "upstream": upstream, "enabled": enabled}
        if listen is not None:
            body["listen"] = listen
        return Proxy.from_json(self._call("POST", "/proxies", body, ok=(201,)))

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        body = {k: v for k, v in (("listen", listen), ("upstream", upstream), ("enabled", enabled)) if v is not None}
        return Proxy.from_json(self._call("PATCH", f"/proxies/{self._p(name)}", body))

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        """Enable, or disable (close its listener and every open connection), one proxy."""
        return self.update_proxy(name, enabled=enabled)

    def delete_proxy(self, name: str, missing_ok: bool = False) -> None:
        try:
            self._call("DELETE", f"/proxies/{self._p(name)}", ok=(204,))
        except ToxiproxyError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    def populate(self, proxies: Iterable[ProxySpec | Mapping[str, Any]]) -> list[Proxy]:
        """Create or replace several proxies in one call; the ones already as asked are left alone."""
        body = [p.to_json() if isinstance(p, ProxySpec) else dict(p) for p in proxies]
        data = self._call("POST", "/populate", body, ok=(201,))
        return [Proxy.from_json(p) for p in (data or {}).get("proxies") or ()]

    # -- toxics ---------------------------------------------------------------------------------------
    def list_toxics(self, proxy: str) -> list[Toxic]:
        return [Toxic.from_json(t) for t in self._call("GET", f"/proxies/{self._p(proxy)}/toxics") or ()]

    def get_toxic(self, proxy: str, name: str) -> Toxic:
        return Toxic.from_json(self._call("GET", f"/proxies/{self._p(proxy)}/toxics/{self._p(name)}"))

    def add_toxic(
        self,
        proxy: str,
        *,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Toxic:
        """Add a toxic (it applies at once to open connections). Toxiproxy answers 200 here, not 201."""
        _check_toxic_args(stream, toxicity)
        body: dict[str, Any] = {"type": type, "stream": stream, "toxicity": toxicity}
        body["attributes"] = dict(attributes or {})
        if name is not None:
            body["name"] = name
        return Toxic.from_json(self._call("POST", f"/proxies/{self._p(proxy)}/toxics", body, ok=(200, 201)))

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Change attributes (merged into the current ones) and/or toxicity."""
        _check_toxic_args(None, toxicity)
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return Toxic.from_json(self._call("PATCH", f"/proxies/{self._p(proxy)}/toxics/{self._p(name)}", body))

    def remove_toxic(self, proxy: str, name: str, missing_ok: bool = False) -> None:
        """Remove a toxic; with `missing_ok`, a toxic (or proxy) already gone counts as removed."""
        try:
            self._call("DELETE", f"/proxies/{self._p(proxy)}/toxics/{self._p(name)}", ok=(204,))
        except ToxiproxyError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    # -- lifecycle ------------------------------------------------------------------------------------
    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
