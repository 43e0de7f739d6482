"""The stack file (`kind: stack`): which services run, on which loopback ports, and the proxies between them.

Every provider is reached through a Toxiproxy proxy named after it, so network faults land between
the gateway and the provider. Paths (profiles, policies) are relative to the stack file and are
stored resolved. Port 0 means "any free port", which tests use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from gameday.config.base import StrictModel, relative_to_file

__all__ = [
    "GatewayService",
    "MockService",
    "ProxyConfig",
    "ServiceConfig",
    "StackConfig",
    "ToxiproxyService",
]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Port = Annotated[int, Field(ge=0, le=65535, description="TCP port on loopback; 0 picks a free one")]


def _resolve_path(value: str, info: ValidationInfo) -> str:
    """Paths in a stack file are relative to the file, as its reader expects."""
    base = (info.context or {}).get("base_dir")
    path = Path(relative_to_file(value, info))
    if base is not None and not path.is_file():
        raise ValueError(f"{path} does not exist; paths are relative to the stack file ({base})")
    return str(path.resolve()) if base is not None else str(path)


class _Service(StrictModel):
    name: Name
    port: Port
    seed: int | None = Field(default=None, ge=0, description="default: the stack's seed")
    external: bool = Field(
        default=False,
        description="already running (e.g. docker compose): checked, reset and recorded, never started or stopped",
    )

    @model_validator(mode="after")
    def _external_needs_a_port(self) -> _Service:
        if self.external and self.port == 0:
            raise ValueError(f"service {self.name!r} is external: give the port it listens on (0 is not allowed)")
        return self

    def _require(self, field: str, value: str | None) -> None:
        if value is None and not self.external:
            raise ValueError(f"service {self.name!r}: `{field}:` is required (unless `external: true`)")


class MockService(_Service):
    """A mock provider; it is named after the provider it imitates (premium, efficient, local-vllm)."""

    kind: Literal["mock"] = "mock"
    profile: str | None = Field(default=None, min_length=1, description="provider profile, e.g. ../mocks/premium.yaml")

    @field_validator("profile")
    @classmethod
    def _profile_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _resolve_path(value, info)

    @model_validator(mode="after")
    def _has_profile(self) -> MockService:
        self._require("profile", self.profile)
        return self


class GatewayService(_Service):
    """The reference gateway; `upstreams` maps each provider of its policy to the proxy it goes through."""

    kind: Literal["gateway"] = "gateway"
    policy: str | None = Field(default=None, min_length=1, description="gateway policy, e.g. policies/reference.yaml")
    upstreams: dict[Name, Name] = Field(default_factory=dict, description="provider -> proxy name")

    @field_validator("policy")
    @classmethod
    def _policy_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _resolve_path(value, info)

    @model_validator(mode="after")
    def _has_policy(self) -> GatewayService:
        self._require("policy", self.policy)
        return self


class ToxiproxyService(_Service):
    """The fault proxy: a real `toxiproxy-server` from PATH when `prefer_real`, else the embedded one."""

    kind: Literal["toxiproxy"] = "toxiproxy"
    prefer_real: bool = True


ServiceConfig = Annotated[MockService | GatewayService | ToxiproxyService, Field(discriminator="kind")]


class ProxyConfig(StrictModel):
    """A Toxiproxy proxy named after the provider behind it: listens on `port`, forwards to `upstream`."""

    name: Name
    port: Port
    upstream: Name = Field(description="name of the mock service it forwards to")


class StackConfig(StrictModel):
    kind: Literal["stack"] = "stack"
    kind_label: ClassVar[str] = "stack"
    name: Name = "local"
    description: str = ""
    host: Literal["127.0.0.1", "localhost", "::1"] = Field(
        default="127.0.0.1", description="services listen on loopback only: faults and admin APIs stay local"
    )
    seed: int = Field(default=0, ge=0)
    startup_timeout_s: float = Field(default=30.0, gt=0, le=600)
    stop_timeout_s: float = Field(default=5.0, gt=0, le=120)
    services: list[ServiceConfig] = Field(min_length=1)
    proxies: list[ProxyConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> StackConfig:
        names = [s.name for s in self.services]
        _no_repeats("service names", names)
        _no_repeats("proxy names", [p.name for p in self.proxies])
        ports = [s.port for s in self.services] + [p.port for p in self.proxies]
        _no_repeats("ports (services and proxies together)", [p for p in ports if p != 0])
        kinds = [s.kind for s in self.services]
        for kind in ("toxiproxy", "gateway"):
            if kinds.count(kind) > 1:
                raise ValueError(f"a stack has at most one {kind} service; found {kinds.count(kind)}")
        if self.proxies and "toxiproxy" not in kinds:
            raise ValueError("proxies need a service of kind toxiproxy; add one (e.g. `kind: toxiproxy, port: 8474`)")
        by_name = {s.name: s for s in self.services}
        for proxy in self.proxies:
            target = by_name.get(proxy.upstream)
            if target is None or target.kind != "mock":
                valid = ", ".join(s.name for s in self.mocks) or "none"
                raise ValueError(
                    f"proxy {proxy.name!r}: upstream {proxy.upstream!r} is not a mock service of this stack; "
                    f"valid: {valid}"
                )
            if proxy.name != target.name:
                raise ValueError(
                    f"proxy {proxy.name!r} forwards to mock {target.name!r} but must be named after it "
                    f"(faults find a provider's proxy by the provider's name): rename it to {target.name!r}"
                )
        proxies = {p.name for p in self.proxies}
        for gateway in (s for s in self.services if isinstance(s, GatewayService)):
            for provider, proxy_name in gateway.upstreams.items():
                if proxy_name not in proxies:
                    raise ValueError(
                        f"gateway {gateway.name!r}: upstream {provider!r} goes through proxy {proxy_name!r}, "
                        f"which this stack does not define; proxies: {', '.join(sorted(proxies)) or 'none'}"
                    )
        return self

    def service(self, name: str) -> ServiceConfig:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    @property
    def toxiproxy(self) -> ToxiproxyService | None:
        return next((s for s in self.services if isinstance(s, ToxiproxyService)), None)

    @property
    def gateway(self) -> GatewayService | None:
        return next((s for s in self.services if isinstance(s, GatewayService)), None)

    @property
    def mocks(self) -> list[MockService]:
        return [s for s in self.services if isinstance(s, MockService)]


def _no_repeats(what: str, values: Sequence[object]) -> None:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(repeated)}")
