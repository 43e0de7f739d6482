"""What a fault needs to act: where each provider's proxy and mock are, the clients, the load, the journal.

Built from the stack state (`.gameday/state.json`, written by `gameday up` or by the runner's own
stack): a provider named in a scenario resolves to its Toxiproxy proxy (named after the provider)
and to its mock's admin URL. A name the stack lacks is an error that lists the names it has.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from gameday.errors import FaultError
from gameday.faults.base import LoadControl
from gameday.faults.journal import EventJournal
from gameday.faults.mock_admin import MockAdminClient

if TYPE_CHECKING:
    from gameday.faults.toxiproxy_client import ToxiproxyClient

__all__ = ["DEFAULT_STATE_FILE", "FaultContext", "ProviderEndpoints", "read_state"]

DEFAULT_STATE_FILE = Path(".gameday/state.json")


@dataclass(frozen=True)
class ProviderEndpoints:
    """Where one provider can be hurt: its proxy (network faults) and its mock's admin API (the rest)."""

    name: str
    proxy: str | None = None
    admin_url: str | None = None


def read_state(path: Path | str = DEFAULT_STATE_FILE) -> dict[str, Any]:
    """Read a stack state file; a missing or broken one is a `FaultError` that says how to get one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FaultError(f"{path}: no stack state here. Bring a stack up first with `gameday up`.") from None
    except (OSError, ValueError) as exc:
        raise FaultError(f"{path}: cannot read the stack state ({exc}). `gameday down` then `gameday up`.") from None
    if not isinstance(data, dict):
        raise FaultError(f"{path}: the stack state is not a JSON object. `gameday down` then `gameday up`.")
    return data


def providers_from_state(state: Mapping[str, Any]) -> dict[str, ProviderEndpoints]:
    """Providers of a state: every Toxiproxy proxy (named after its provider) and every mock service."""
    proxies = state.get("proxies") or {}
    services = state.get("services") or {}
    names: dict[str, ProviderEndpoints] = {}
    mock_urls: dict[str, str] = {}
    for service_name, service in services.items():
        if isinstance(service, Mapping) and service.get("kind") == "mock" and service.get("url"):
            mock_urls[str(service.get("provider") or service_name)] = str(service["url"])
    for name in sorted({*proxies, *mock_urls}):
        names[name] = ProviderEndpoints(name, proxy=name if name in proxies else None, admin_url=mock_urls.get(name))
    return names


class FaultContext:
    """Everything `Fault.inject`/`remove` may touch. Close it (or use `with`) to close its HTTP sessions."""

    def __init__(
        self,
        *,
        toxiproxy: ToxiproxyClient | None,
        providers: Mapping[str, ProviderEndpoints] | Iterable[ProviderEndpoints],
        admin_token: str | None = None,
        load: LoadControl | None = None,
        journal: EventJournal | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        admin_timeout_s: float = 5.0,
    ) -> None:
        self.toxiproxy = toxiproxy
        if isinstance(providers, Mapping):
            self.providers = dict(providers)
        else:
            self.providers = {p.name: p for p in providers}
        self.admin_token = admin_token
        self.load = load
        self.journal = journal if journal is not None else EventJournal(None, clock=clock or time.monotonic)
        self.clock = clock or self.journal.clock
        self.sleep = sleep
        self.admin_timeout_s = admin_timeout_s
        self._admins: dict[str, MockAdminClient] = {}

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any] | Path | str = DEFAULT_STATE_FILE,
        *,
        load: LoadControl | None = None,
        journal: EventJournal | None = None,
        clock: Callable[[], float] | None = None,
        admin_token: str | None = None,
        timeout_s: float = 5.0,
    ) -> FaultContext:
        """The context of a running stack, from its state file (or the state already read)."""
        from gameday.faults.toxiproxy_client import ToxiproxyClient

        data = read_state(state) if isinstance(state, Path | str) else state
        if hasattr(data, "model_dump"):  # the stack's own typed state model
            data = data.model_dump()
        toxiproxy_url = data.get("toxiproxy_url")
        return cls(
            toxiproxy=ToxiproxyClient(str(toxiproxy_url), timeout_s=timeout_s) if toxiproxy_url else None,
            providers=providers_from_state(data),
            admin_token=admin_token if admin_token is not None else data.get("admin_token"),
            load=load,
            journal=journal,
            clock=clock,
            admin_timeout_s=timeout_s,
        )

    # -- resolution ------------------------------------------------------------------------------
    def provider(self, name: str) -> ProviderEndpoints:
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers)) or "none"
            raise FaultError(f"provider {name!r} is not in this stack. Providers it has: {known}.") from None

    def proxy_for(self, provider: str) -> str:
        """The Toxiproxy proxy in front of `provider`."""
        endpoints = self.provider(provider)
        if endpoints.proxy is None or self.toxiproxy is None:
            raise FaultError(
                f"provider {provider!r} has no Toxiproxy proxy in this stack, so network faults cannot reach it. "
                "Use a stack that routes providers through Toxiproxy (stacks/local.yaml does)."
            )
        return endpoints.proxy

    @property
    def proxies(self) -> ToxiproxyClient:
        if self.toxiproxy is None:
            raise FaultError("this stack has no Toxiproxy, so network faults are not available.")
        return self.toxiproxy

    def admin_for(self, provider: str) -> MockAdminClient:
        """The admin client of `provider`'s mock (one per provider, reused)."""
        if provider in self._admins:
            return self._admins[provider]
        endpoints = self.provider(provider)
        if endpoints.admin_url is None:
            raise FaultError(
                f"provider {provider!r} is not a gameday mock in this stack, so HTTP, protocol and price faults "
                "cannot reach it. They need the mock's admin API."
            )
        if not self.admin_token:
            raise FaultError(
                "no admin token: the stack state has no `admin_token` and GAMEDAY_ADMIN_TOKEN is unset. "
                "Restart the stack with `gameday down` and `gameday up`."
            )
        client = MockAdminClient(endpoints.admin_url, self.admin_token, timeout_s=self.admin_timeout_s)
        self._admins[provider] = client
        return client

    def require_load(self, kind: str) -> LoadControl:
        """The load engine's controls; faults on the load refuse to run without one."""
        if self.load is None:
            raise FaultError(
                f"fault {kind!r} acts on the load, but no load engine is attached to this run. "
                "It works only inside `gameday run`."
            )
        return self.load

    def check_targets(self, targets: Iterable[tuple[str, str | None]]) -> None:
        """Fail before anything starts when a fault names a provider the stack lacks (pairs of kind, provider)."""
        problems = []
        for kind, provider in targets:
            if provider is not None and provider not in self.providers:
                problems.append(f"fault {kind!r} targets provider {provider!r}")
        if problems:
            known = ", ".join(sorted(self.providers)) or "none"
            raise FaultError(f"{'; '.join(problems)}, which this stack does not have. Providers it has: {known}.")

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        for client in self._admins.values():
            client.close()
        self._admins.clear()
        close = getattr(self.toxiproxy, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> FaultContext:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
