"""The toxics of one proxy, per direction, and the live links they apply to.

Adding, updating or removing a toxic applies at once to every open connection of the proxy. Names are
unique across both directions; the list is upstream toxics first, then downstream, each in order added.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gameday.toxiproxy import errors
from gameday.toxiproxy.gojson import GoDecodeError, decode_fields, parse
from gameday.toxiproxy.link import Link
from gameday.toxiproxy.toxics import TOXIC_TYPES, Toxic

__all__ = ["DIRECTIONS", "ToxicSet", "ToxicWrapper"]

DIRECTIONS = ("upstream", "downstream")  # upstream: client to server; downstream: server to client

_WRAPPER_FIELDS = {"name": "string", "type": "string", "stream": "string", "toxicity": "float32"}


@dataclass
class ToxicWrapper:
    """A toxic as the API knows it: name, type, stream (as sent), toxicity, and its attributes object."""

    name: str
    type: str
    stream: str
    direction: str
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }


def _decode_attributes(toxic: Toxic, raw: Any) -> Toxic:
    """A copy of `toxic` with the attributes in `raw` applied (unknown keys ignored, missing kept)."""
    cls = type(toxic)
    values = decode_fields(
        raw,
        cls.field_types(),
        struct=cls.go_struct,
        path="attributes",
        value_type=f"toxics.{cls.go_struct}",
    )
    updated = dataclasses.replace(toxic, **values)
    problem = updated.validate()
    if problem is not None:
        raise errors.bad_request_body(problem)
    return updated


class ToxicSet:
    """Toxics of one proxy and the links of its open connections."""

    def __init__(self) -> None:
        self.chains: dict[str, list[ToxicWrapper]] = {d: [] for d in DIRECTIONS}
        self.links: set[Link] = set()

    def all(self) -> list[ToxicWrapper]:
        return [w for d in DIRECTIONS for w in self.chains[d]]

    def find(self, name: str) -> ToxicWrapper | None:
        return next((w for w in self.all() if w.name == name), None)

    def get(self, name: str) -> ToxicWrapper:
        wrapper = self.find(name)
        if wrapper is None:
            raise errors.toxic_not_found()
        return wrapper

    # -- API operations -----------------------------------------------------------------------
    def add_json(self, body: bytes) -> ToxicWrapper:
        try:
            raw = parse(body)
            head = decode_fields(raw, _WRAPPER_FIELDS, struct="ToxicWrapper", value_type="toxics.ToxicWrapper")
            attributes = raw.get("attributes") if isinstance(raw, dict) else None
            if attributes is not None and not isinstance(attributes, dict):
                decode_fields(attributes, {}, struct="ToxicWrapper", path="attributes", value_type="toxics.NoopToxic")
        except GoDecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
        stream = head.get("stream", "downstream")
        direction = stream.lower()
        if direction not in DIRECTIONS:
            raise errors.invalid_stream()
        toxic_type = head.get("type", "")
        name = head.get("name") or f"{toxic_type}_{stream}"
        cls = TOXIC_TYPES.get(toxic_type)
        if cls is None:
            raise errors.invalid_toxic_type()
        if self.find(name) is not None:
            raise errors.toxic_exists()
        try:
            toxic = _decode_attributes(cls(), attributes)
        except GoDecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
        wrapper = ToxicWrapper(name, toxic_type, stream, direction, head.get("toxicity", 1.0), toxic)
        self.chains[direction].append(wrapper)
        for link in self._links(direction):
            link.add(wrapper)
        return wrapper

    def update_json(self, name: str, body: bytes) -> ToxicWrapper:
        wrapper = self.get(name)
        try:
            raw = parse(body)
            head = decode_fields(raw, {"toxicity": "float32"}, struct="", value_type="struct")
            attributes = raw.get("attributes") if isinstance(raw, dict) else None
            toxic = _decode_attributes(wrapper.toxic, attributes)
        except GoDecodeError as exc:
            raise errors.bad_request_body(str(exc)) from None
        wrapper.toxic = toxic
        wrapper.toxicity = head.get("toxicity", wrapper.toxicity)
        for link in self._links(wrapper.direction):
            link.update(wrapper)
        return wrapper

    def remove(self, name: str) -> None:
        wrapper = self.get(name)
        self.chains[wrapper.direction].remove(wrapper)
        for link in self._links(wrapper.direction):
            link.remove(wrapper)

    def reset(self) -> None:
        for wrapper in self.all():
            self.remove(wrapper.name)

    # -- links ----------------------------------------------------------------------------------
    def _links(self, direction: str) -> list[Link]:
        return [link for link in self.links if link.direction == direction and not link.done]

    def attach(self, link: Link) -> None:
        """Start a new connection's link with the toxics of its direction as they are now."""
        link.start(self.chains[link.direction])
        self.links.add(link)

    def detach(self, link: Link) -> None:
        self.links.discard(link)

    def resets_peer(self) -> bool:
        return any(w.toxic.resets_peer for w in self.all())
