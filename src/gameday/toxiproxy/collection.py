"""All proxies of one server, by name: create, look up, delete, populate, reset.

Changes are serialised by one lock, since starting a listener awaits and two requests for the same
name must not both pass the duplicate check.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from gameday.toxiproxy import errors
from gameday.toxiproxy.addr import split_host_port
from gameday.toxiproxy.gojson import GoDecodeError, decode_fields, json_kind, parse
from gameday.toxiproxy.proxy import Proxy

__all__ = ["PROXY_FIELDS", "ProxyCollection"]

PROXY_FIELDS = {"name": "string", "listen": "string", "upstream": "string", "enabled": "bool"}

_LOCAL_NAMES = {"localhost": "127.0.0.1", "": "", "0.0.0.0": "", "::": ""}


def _same_address(a: str, b: str) -> bool:
    """Whether two listen addresses name the same place (`localhost:80` is `127.0.0.1:80`)."""
    if a == b:
        return True
    try:
        (ha, pa), (hb, pb) = split_host_port(a), split_host_port(b)
    except ValueError:
        return False
    return pa == pb and _LOCAL_NAMES.get(ha, ha) == _LOCAL_NAMES.get(hb, hb)


class ProxyCollection:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise errors.proxy_not_found() from None

    def sorted(self) -> list[Proxy]:
        return [self.proxies[name] for name in sorted(self.proxies)]

    async def create(self, body: bytes) -> Proxy:
        try:
            fields = decode_fields(parse(body), PROXY_FIELDS, struct="Proxy", value_type="toxiproxy.Proxy")
        except GoDecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
        if not fields.get("name"):
            raise errors.missing_field("name")
        if not fields.get("upstream"):
            raise errors.missing_field("upstream")
        if fields["name"] in self.proxies:
            raise errors.proxy_exists()
        proxy = Proxy(fields["name"], fields.get("listen", ""), fields["upstream"], self.rng)
        if fields.get("enabled", True):
            await proxy.start()
        self.proxies[proxy.name] = proxy
        return proxy

    async def update(self, name: str, body: bytes) -> Proxy:
        proxy = self.get(name)
        try:
            fields = decode_fields(parse(body), PROXY_FIELDS, struct="Proxy", value_type="toxiproxy.Proxy")
        except GoDecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
        await proxy.update(
            fields.get("listen", proxy.listen),
            fields.get("upstream", proxy.upstream),
            fields.get("enabled", proxy.enabled),
        )
        return proxy

    def delete(self, name: str) -> None:
        self.get(name).stop()
        del self.proxies[name]

    async def reset(self) -> None:
        """Re-enable every proxy and remove every toxic; proxies stay."""
        for proxy in list(self.proxies.values()):
            await proxy.start()
            proxy.toxics.reset()

    async def populate(self, body: bytes) -> tuple[list[Proxy], errors.ApiError | None]:
        """Apply a list of proxies; returns those applied and the error that stopped it, if any."""
        try:
            raw = parse(body)
            if raw is not None and not isinstance(raw, list):
                raise GoDecodeError(f"json: cannot unmarshal {json_kind(raw)} into Go value of type []toxiproxy.Proxy")
            entries = [
                decode_fields(item, PROXY_FIELDS, struct="Proxy", value_type="toxiproxy.Proxy") for item in raw or []
            ]
        except GoDecodeError as exc:
            return [], errors.bad_request_body(str(exc))
        for i, entry in enumerate(entries, start=1):  # everything is checked before anything changes
            if not entry.get("name"):
                return [], errors.missing_field(f"name at proxy {i}")
            if not entry.get("upstream"):
                return [], errors.missing_field(f"upstream at proxy {i}")
        applied: list[Proxy] = []
        for entry in entries:
            try:
                applied.append(await self._add_or_replace(entry))
            except errors.ApiError as exc:
                return applied, exc
        return applied, None

    async def _add_or_replace(self, entry: dict[str, Any]) -> Proxy:
        name, listen, upstream = entry["name"], entry.get("listen", ""), entry["upstream"]
        existing = self.proxies.get(name)
        if existing is not None:
            if existing.upstream == upstream and _same_address(existing.listen, listen):
                return existing  # left as it is: toxics kept, `enabled` not applied
            existing.stop()  # on a failed start below it stays, stopped, as in Toxiproxy
        proxy = Proxy(name, listen, upstream, self.rng)
        if entry.get("enabled", True):
            await proxy.start()
        self.proxies[name] = proxy
        return proxy

    def close_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
