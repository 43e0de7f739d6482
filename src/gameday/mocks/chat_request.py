"""Reading a `POST /v1/chat/completions` body, with OpenAI's 400s naming the parameter at fault.

Only what the mock acts on is checked strictly (model, messages, max_tokens, stream, stream_options,
temperature, top_p, n); other OpenAI parameters (tools, seed, user...) are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gameday.mocks.wire import ApiError

__all__ = ["ROLES", "ChatRequest", "parse_chat_request"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}  # fmt: skip


@dataclass(frozen=True)
class ChatRequest:
    model: str
    contents: list[str]  # the text of each message, for token counting
    stream: bool
    include_usage: bool
    max_tokens: int | None


def _type_name(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _invalid_type(param: str, expected: str, value: Any) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def _message_text(index: int, message: Any) -> str:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _invalid_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        raise _missing(f"{where}.role")
    if role not in ROLES:
        allowed = ", ".join(f"'{r}'" for r in ROLES)
        raise ApiError(
            400,
            f"Invalid value for '{where}.role': {role!r}. Supported values are: {allowed}.",
            param=f"{where}.role",
            code="invalid_value",
        )
    content = message.get("content")
    if content is None:
        if role == "assistant":  # an assistant turn may carry only tool calls
            return ""
        raise _missing(f"{where}.content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _invalid_type(f"{where}.content", "a string or an array of content parts", content)
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise _invalid_type(f"{where}.content[{j}]", "an object with a 'type'", part)
        if part["type"] == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise _invalid_type(f"{where}.content[{j}].text", "a string", text)
            texts.append(text)
    return "\n".join(texts)


def _optional_int(body: dict[str, Any], param: str, minimum: int) -> int | None:
    value = body.get(param)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_type(param, "an integer", value)
    if value < minimum:
        raise ApiError(
            400,
            f"Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, but got {value} instead.",
            param=param,
            code="integer_below_min_value",
        )
    return value


def _optional_number(body: dict[str, Any], param: str, low: float, high: float) -> None:
    value = body.get(param)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid_type(param, "a number", value)
    if not low <= value <= high:
        raise ApiError(
            400,
            f"Invalid '{param}': expected a value between {low:g} and {high:g}, but got {value} instead.",
            param=param,
            code="invalid_value",
        )


def parse_chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise ApiError(400, f"The request body must be a JSON object, not {_type_name(body)}.", code="invalid_json")
    model = body.get("model")
    if model is None:
        raise _missing("model")
    if not isinstance(model, str) or not model:
        raise _invalid_type("model", "a non-empty string", model)
    messages = body.get("messages")
    if messages is None:
        raise _missing("messages")
    if not isinstance(messages, list):
        raise _invalid_type("messages", "an array", messages)
    if not messages:
        raise ApiError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    contents = [_message_text(i, m) for i, m in enumerate(messages)]
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise _invalid_type("stream", "a boolean", stream)
    include_usage = _include_usage(body.get("stream_options"), stream)
    max_tokens = _optional_int(body, "max_tokens", 1)
    max_completion = _optional_int(body, "max_completion_tokens", 1)
    if max_completion is not None:
        max_tokens = max_completion if max_tokens is None else min(max_tokens, max_completion)
    _optional_number(body, "temperature", 0, 2)
    _optional_number(body, "top_p", 0, 1)
    n = _optional_int(body, "n", 1)
    if n is not None and n != 1:
        raise ApiError(
            400, f"Invalid 'n': this mock provider answers n=1 only, got {n}.", param="n", code="invalid_value"
        )
    return ChatRequest(model, contents, stream, include_usage, max_tokens)


def _include_usage(options: Any, stream: bool) -> bool:
    if options is None:
        return False
    if not isinstance(options, dict):
        raise _invalid_type("stream_options", "an object", options)
    if not stream:
        raise ApiError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise _invalid_type("stream_options.include_usage", "a boolean", include)
    return include
