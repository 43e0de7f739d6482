"""A small synchronous client for a mock provider's admin API (`/admin/...`) and its `/pricing` feed.

Synchronous on purpose: it runs inside the game-day runner next to Locust's gevent. Every call has
a timeout, and every failure (unreachable, refused token, bad body, unexpected answer) is a
`FaultError` whose message says which mock, what was asked and what to do about it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from gameday.errors import FaultError

__all__ = ["Bill", "MockAdminClient", "ModelBill", "ModelPrice"]

ERROR_STATUSES = (429, 500, 502, 503, 529)


class _Reply(BaseModel):
    """Replies are read leniently (new fields are fine), but the fields we use must be right."""

    model_config = ConfigDict(extra="ignore", frozen=True)


_ReplyT = TypeVar("_ReplyT", bound=_Reply)


class ModelPrice(_Reply):
    input: float
    output: float


class _Pricing(_Reply):
    provider: str | None = None
    models: dict[str, ModelPrice]


class ModelBill(_Reply):
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class Bill(_Reply):
    provider: str | None = None
    models: dict[str, ModelBill] = {}
    total_usd: float = 0.0
    since: float | None = None


class _FaultId(_Reply):
    id: str


class MockAdminClient:
    """`MockAdminClient("http://127.0.0.1:9101", token)`; close it (or use `with`) when done."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_s, timeout_s)
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._session.headers["Authorization"] = f"Bearer {token}"

    # -- reads -----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """`GET /admin/state`: the mock's current error rates, faults, prices and capacity, as it says them."""
        return self._json("GET", "/admin/state")

    def prices(self) -> dict[str, ModelPrice]:
        """The prices in effect now, per model, from the public `/pricing` feed (USD per Mtok)."""
        return self._parse(_Pricing, self._json("GET", "/pricing"), "/pricing").models

    def bill(self) -> Bill:
        return self._parse(Bill, self._json("GET", "/admin/bill"), "/admin/bill")

    def reset_bill(self) -> Bill:
        """Zero the bill; returns what it held."""
        return self._parse(Bill, self._json("POST", "/admin/bill/reset"), "/admin/bill/reset")

    # -- changes ---------------------------------------------------------------------------------
    def set_errors(
        self, status: int, rate: float, retry_after_s: float | None = None, model: str | None = None
    ) -> None:
        body: dict[str, Any] = {"status": status, "rate": rate}
        if retry_after_s is not None:
            body["retry_after_s"] = retry_after_s
        if model is not None:
            body["model"] = model
        self._json("POST", "/admin/errors", body)

    def clear_errors(self) -> None:
        self._json("DELETE", "/admin/errors")

    def set_price(self, model: str, input: float, output: float) -> None:
        self._json("POST", "/admin/prices", {"model": model, "input": input, "output": output})

    def restore_prices(self) -> None:
        """Back to the profile's prices for every model."""
        self._json("DELETE", "/admin/prices")

    def set_capacity(self, model: str, max_concurrency: int | None = None, max_queue: int | None = None) -> None:
        body: dict[str, Any] = {"model": model}
        if max_concurrency is not None:
            body["max_concurrency"] = max_concurrency
        if max_queue is not None:
            body["max_queue"] = max_queue
        self._json("POST", "/admin/capacity", body)

    def restore_capacity(self) -> None:
        self._json("DELETE", "/admin/capacity")

    def add_fault(self, kind: str, rate: float, model: str | None = None, **params: Any) -> str:
        """`POST /admin/faults`; returns the id that `remove_fault` takes."""
        body: dict[str, Any] = {"kind": kind, "rate": rate, **params}
        if model is not None:
            body["model"] = model
        return self._parse(_FaultId, self._json("POST", "/admin/faults", body), "/admin/faults").id

    def remove_fault(self, fault_id: str) -> bool:
        """`DELETE /admin/faults/{id}`; False when the mock no longer has it (already removed or reset)."""
        reply = self._request("DELETE", f"/admin/faults/{fault_id}", allow_404=True)
        return reply.status_code != 404

    def clear_faults(self) -> None:
        self._json("DELETE", "/admin/faults")

    def reset(self) -> None:
        """`POST /admin/reset`: error rates, faults, price and capacity overrides cleared (not the bill)."""
        self._json("POST", "/admin/reset")

    # -- plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> MockAdminClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MockAdminClient({self.base_url!r})"

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = self._request(method, path, body)
        if not reply.content:
            return {}
        try:
            return reply.json()
        except ValueError:
            raise FaultError(
                f"mock at {self.base_url}: {method} {path} answered {reply.status_code} with a body that is not JSON: "
                f"{reply.text[:200]!r}"
            ) from None

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, allow_404: bool = False
    ) -> requests.Response:
        url = self.base_url + path
        try:
            reply = self._session.request(method, url, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise FaultError(
                f"mock at {self.base_url}: {method} {path} timed out after {self.timeout[1]:g} s. "
                "Is the mock overloaded or stopped? `gameday status` shows the stack."
            ) from None
        except requests.RequestException as exc:
            raise FaultError(
                f"mock at {self.base_url}: {method} {path} failed: {_short(exc)}. "
                "Is the stack up? Start it with `gameday up`."
            ) from None
        if reply.ok or (allow_404 and reply.status_code == 404):
            return reply
        raise FaultError(self._explain(method, path, reply))

    def _explain(self, method: str, path: str, reply: requests.Response) -> str:
        where = f"mock at {self.base_url}: {method} {path}"
        if reply.status_code == 401:
            return (
                f"{where}: admin token refused (401). Use the stack's token: `admin_token` in .gameday/state.json, "
                "or the GAMEDAY_ADMIN_TOKEN the mock was started with."
            )
        if reply.status_code == 403:
            return f"{where}: refused (403); the admin API answers loopback peers only. Reach it via 127.0.0.1."
        if reply.status_code == 404:
            return f"{where}: not found (404). Is {self.base_url} a gameday mock provider?"
        return f"{where}: answered {reply.status_code}: {_error_message(reply)}"

    def _parse(self, model: type[_ReplyT], data: Any, path: str) -> _ReplyT:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "(body)"
            raise FaultError(
                f"mock at {self.base_url}: {path} answered an unexpected body ({field}: {first['msg']})."
            ) from None


def _error_message(reply: requests.Response) -> str:
    """The message of an OpenAI-shaped error body, else the start of the body."""
    try:
        data = reply.json()
    except ValueError:
        return reply.text[:200] or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return str(data)[:200]


def _short(exc: Exception) -> str:
    """requests nests the useful part (`Connection refused`) deep inside urllib3's wrapping."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known", "timed out"):
        if marker in text:
            return marker.lower()
    return text[:200]
