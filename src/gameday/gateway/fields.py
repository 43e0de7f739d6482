"""One check per optional field of a chat-completion body, keyed by the field's name (OpenAI's ranges).

A check takes the field's name and value and raises `InvalidRequest` naming it; `CHECKS` is also the
list of fields this gateway accepts (anything else is an unrecognized argument).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gameday.gateway.errors import InvalidRequest

__all__ = ["CHECKS", "Check", "kind_of"]

Check = Callable[[str, Any], None]


def kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _number(low: float, high: float) -> Check:
    def check(key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidRequest(f"{key}: must be a number, not {kind_of(value)}", key, "invalid_type")
        if not low <= value <= high:
            raise InvalidRequest(f"{key}: {value!r} is out of range; use {low:g} to {high:g}", key, "invalid_value")

    return check


def _integer(low: int, high: int) -> Check:
    def check(key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(f"{key}: must be a whole number, not {kind_of(value)}", key, "invalid_type")
        if not low <= value <= high:
            raise InvalidRequest(f"{key}: {value} is out of range; use {low} to {high}", key, "invalid_value")

    return check


def _of_type(kind: type, name: str) -> Check:
    def check(key: str, value: Any) -> None:
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
            raise InvalidRequest(f"{key}: must be {name}, not {kind_of(value)}", key, "invalid_type")

    return check


def _stop(key: str, value: Any) -> None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise InvalidRequest(f"{key}: must be a string or a list of strings", key, "invalid_type")
    if len(items) > 4:
        raise InvalidRequest(f"{key}: at most 4 stop sequences, got {len(items)}", key, "invalid_value")


def _logit_bias(key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{key}: must be an object of token id -> bias", key, "invalid_type")
    check = _number(-100, 100)
    for token, bias in value.items():
        if not token.isdigit():
            raise InvalidRequest(f"{key}: {token[:40]!r} is not a token id", key, "invalid_value")
        check(f"{key}.{token}", bias)


def _stream_options(key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{key}: must be an object like {{include_usage: true}}", key, "invalid_type")
    usage = value.get("include_usage")
    if usage is not None and not isinstance(usage, bool):
        raise InvalidRequest(f"{key}.include_usage: must be a boolean", f"{key}.include_usage", "invalid_type")


def _n(key: str, value: Any) -> None:
    _integer(1, 128)(key, value)
    if value != 1:
        raise InvalidRequest(f"{key}: only 1 choice per request is supported here, got {value}", key, "unsupported")


def _passthrough(key: str, value: Any) -> None:
    return None


CHECKS: dict[str, Check] = {
    "model": _passthrough,
    "messages": _passthrough,
    "max_tokens": _integer(1, 2**53),
    "max_completion_tokens": _integer(1, 2**53),
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "n": _n,
    "stream": _of_type(bool, "a boolean"),
    "stream_options": _stream_options,
    "stop": _stop,
    "presence_penalty": _number(-2, 2),
    "frequency_penalty": _number(-2, 2),
    "logit_bias": _logit_bias,
    "logprobs": _of_type(bool, "a boolean"),
    "top_logprobs": _integer(0, 20),
    "user": _of_type(str, "a string"),
    "seed": _integer(-(2**63), 2**63 - 1),
    "response_format": _of_type(dict, "an object"),
    "tools": _of_type(list, "a list"),
    "tool_choice": _passthrough,
    "parallel_tool_calls": _of_type(bool, "a boolean"),
    "metadata": _of_type(dict, "an object"),
    "store": _of_type(bool, "a boolean"),
    "service_tier": _of_type(str, "a string"),
}
