"""The shared half of the network faults: add named toxics to a provider's proxy, delete them on remove.

Every toxic gets a fresh name (`gameday-<kind>-<stream>-<token>`), so faults never collide with one
another or with toxics a person added by hand, and removing a fault deletes exactly its own toxics.
A toxic already gone (removed twice, or cleared by `gameday reset`) counts as removed.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, TypeVar

from gameday.faults.base import Fault, ProviderFaultSpec

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = ["ToxicFault", "ToxicPlan"]

ToxicPlan = tuple[str, str, float, dict[str, int]]
"""One toxic to add: (type, stream, toxicity, attributes)."""

SpecT = TypeVar("SpecT", bound=ProviderFaultSpec)


class ToxicFault(Fault[SpecT]):
    """A fault made of Toxiproxy toxics on the target provider's proxy."""

    def __init__(self, spec: SpecT) -> None:
        super().__init__(spec)
        self.proxy: str | None = None
        self.toxic_names: list[str] = []
        self._live: list[str] = []

    @abstractmethod
    def toxics(self) -> list[ToxicPlan]:
        """The toxics that make up this fault."""

    def inject(self, ctx: FaultContext) -> None:
        self.proxy = ctx.proxy_for(self.spec.provider)
        client = ctx.proxies
        for toxic_type, stream, toxicity, attributes in self.toxics():
            name = f"gameday-{self.kind}-{stream}-{uuid.uuid4().hex[:8]}"
            # Remembered before the call: if the reply is lost, remove still deletes it by name.
            self.toxic_names.append(name)
            self._live.append(name)
            self.touched = True
            client.add_toxic(
                self.proxy, type=toxic_type, stream=stream, toxicity=toxicity, attributes=attributes, name=name
            )

    def remove(self, ctx: FaultContext) -> None:
        if self.proxy is None:
            return
        client = ctx.proxies
        for name in list(self._live):
            client.remove_toxic(self.proxy, name, missing_ok=True)
            self._live.remove(name)

    def handles(self) -> dict[str, Any]:
        return {"proxy": self.proxy, "toxics": list(self.toxic_names)} if self.proxy else {}
