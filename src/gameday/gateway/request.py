"""Reading a chat-completion request: bytes and headers in, a `ChatRequest` out, or `InvalidRequest` naming the field.

Hand-written rather than a pydantic model: this runs on every request, and each refusal must say
in OpenAI's words which field is wrong and what is allowed (`messages[2].content`, `max_tokens`).
Prompt tokens are estimated (no tokenizer here) at `CHARS_PER_TOKEN` characters a token, on the
high side, because the estimate bounds the worst-case cost the budget reserves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gameday.config.policy import Guardrails
from gameday.gateway.errors import InvalidRequest
from gameday.gateway.fields import CHECKS, kind_of

__all__ = [
    "AUTO",
    "CHARS_PER_TOKEN",
    "ChatRequest",
    "Hints",
    "estimate_tokens",
    "parse_body",
    "parse_hints",
    "parse_leniently",
]

AUTO = "auto"
CHARS_PER_TOKEN = 3.0  # English runs ~4 characters a token; 3 errs towards reserving too much
TOKENS_PER_MESSAGE = 4  # framing per message, and REPLY_PRIMING once: above what providers count (3 and 3)
REPLY_PRIMING = 3
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
MUST_HAVE_TEXT = frozenset({"system", "developer", "user"})
MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "refusal"})
TIERS = ("low", "medium", "high")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# whitespace, soft hyphen, zero-width and bidi marks, BOM: text made only of these says nothing
_BLANK = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*")
_TASK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Hints:
    """What the caller's headers say: task class, tier, latency budget (None: not said)."""

    task: str | None = None
    tier: str | None = None
    latency_budget_ms: int | None = None


@dataclass(slots=True)
class ChatRequest:
    """A valid request. `body` is what goes upstream (max_tokens settled, usage asked for on streams)."""

    body: dict[str, Any]
    model: str  # `auto`, or the model the caller pinned
    stream: bool
    max_tokens: int
    input_tokens: int
    prompt: str  # the last user message's text, for the classifier
    wants_usage: bool  # the caller asked for the final usage chunk itself
    temperature: float | None


def estimate_tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def parse_hints(headers: Mapping[str, str]) -> Hints:
    task = headers.get("x-gameday-task")
    tier = headers.get("x-gameday-tier")
    budget = headers.get("x-gameday-latency-budget-ms")
    if task is not None:
        task = task.strip()
        if not _TASK.match(task):
            raise InvalidRequest(
                f"header x-gameday-task: {task[:80]!r} is not a task class name (letters, digits, `_.-`, at most 64)",
                "x-gameday-task",
            )
    if tier is not None:
        tier = tier.strip().lower()
        if tier not in TIERS:
            raise InvalidRequest(
                f"header x-gameday-tier: {tier[:40]!r} is not a tier; use low, medium or high", "x-gameday-tier"
            )
    budget_ms = None
    if budget is not None:
        try:
            budget_ms = int(budget.strip())
        except ValueError:
            budget_ms = 0
        if not 1 <= budget_ms <= 86_400_000:
            raise InvalidRequest(
                f"header x-gameday-latency-budget-ms: {budget[:40]!r} must be a whole number of milliseconds >= 1",
                "x-gameday-latency-budget-ms",
            )
    return Hints(task or None, tier or None, budget_ms)


def parse_body(raw: bytes, guardrails: Guardrails, models: frozenset[str]) -> ChatRequest:
    """Validate `raw`; raises `InvalidRequest` with the field at fault."""
    if not raw.strip():
        raise InvalidRequest("the body is empty; send a JSON object with `model` and `messages`", None, "invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"the body is not valid JSON in UTF-8 ({exc}); send a JSON object with `model` and `messages`",
            None,
            "invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest(f"the body must be a JSON object, not {kind_of(body)}", None, "invalid_type")
    for key in body:
        if key not in CHECKS:
            raise InvalidRequest(f"unrecognized request argument: {key[:80]!r}", key[:80], "unknown_parameter")
    model = _model(body, models)
    chars, messages, prompt = _messages(body.get("messages"))
    input_tokens = estimate_tokens(chars) + TOKENS_PER_MESSAGE * messages + REPLY_PRIMING
    if input_tokens > guardrails.max_input_tokens:
        raise InvalidRequest(
            f"messages: about {input_tokens} tokens, over this gateway's limit of {guardrails.max_input_tokens}; "
            "shorten the prompt",
            "messages",
            "context_length_exceeded",
        )
    for key, value in body.items():
        if value is not None and key not in ("model", "messages"):
            CHECKS[key](key, value)
    max_tokens = _max_tokens(body, guardrails)
    stream = body.get("stream") is True
    options = body.get("stream_options") or {}
    wants_usage = stream and options.get("include_usage") is True
    body.pop("max_completion_tokens", None)
    body["max_tokens"] = max_tokens
    if stream:
        body["stream_options"] = {**options, "include_usage": True}  # the cost is known only from usage
    else:
        body.pop("stream_options", None)
    temperature = body.get("temperature")
    return ChatRequest(body, model, stream, max_tokens, input_tokens, prompt, wants_usage, temperature)


def _model(body: dict[str, Any], models: frozenset[str]) -> str:
    model = body.get("model")
    if model is None:
        raise InvalidRequest(
            "model: required; use `auto` to let the gateway choose, or a model name", "model", "missing"
        )
    if not isinstance(model, str):
        raise InvalidRequest(f"model: must be a string, not {kind_of(model)}", "model", "invalid_type")
    if model in ("", AUTO):
        return AUTO
    if model not in models:
        raise InvalidRequest(
            f"model: {model[:80]!r} is not served here; use `auto` or one of: {', '.join(sorted(models))}",
            "model",
            "model_not_found",
        )
    return model


def _messages(messages: Any) -> tuple[int, int, str]:
    """(characters of text, number of messages, last user text); raises on any bad message."""
    if messages is None:
        raise InvalidRequest("messages: required; a list of {role, content} objects", "messages", "missing")
    if not isinstance(messages, list):
        raise InvalidRequest(f"messages: must be a list, not {kind_of(messages)}", "messages", "invalid_type")
    if not messages:
        raise InvalidRequest("messages: must hold at least one message", "messages", "empty")
    chars = 0
    prompt = ""
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise InvalidRequest(f"{where}: must be an object with role and content, not {kind_of(message)}", where)
        for key in message:
            if key not in MESSAGE_KEYS:
                raise InvalidRequest(f"{where}: unrecognized field {key[:80]!r}", f"{where}.{key[:80]}")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            shown = repr(role)[:40] if role is not None else "missing"
            raise InvalidRequest(
                f"{where}.role: {shown}; use one of {', '.join(sorted(ROLES))}", f"{where}.role", "invalid_value"
            )
        text = _content(message.get("content"), role, message, f"{where}.content")
        chars += len(text)
        if role == "user":
            prompt = text
    return chars, len(messages), prompt


def _content(content: Any, role: str, message: dict[str, Any], where: str) -> str:
    if content is None:
        if role in MUST_HAVE_TEXT or (role == "assistant" and not message.get("tool_calls")):
            raise InvalidRequest(f"{where}: required for a {role} message", where, "missing")
        return ""
    if isinstance(content, str):
        text = content
    elif isinstance(content, list) and content:
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
                raise InvalidRequest(f"{where}[{j}]: a part must be {{type: text, text}} or an image_url part", where)
            if part["type"] == "text":
                if not isinstance(part.get("text"), str):
                    raise InvalidRequest(f"{where}[{j}].text: must be a string", f"{where}[{j}].text", "invalid_type")
                parts.append(part["text"])
        text = "\n".join(parts)
    else:
        raise InvalidRequest(f"{where}: must be a string or a non-empty list of parts, not {kind_of(content)}", where)
    bad = _CONTROL.search(text)
    if bad:
        raise InvalidRequest(
            f"{where}: contains the control character U+{ord(bad.group()):04X}; remove it", where, "invalid_value"
        )
    if role in MUST_HAVE_TEXT and _BLANK.fullmatch(text):
        raise InvalidRequest(f"{where}: is empty (only spaces or invisible characters)", where, "empty")
    return text


def _max_tokens(body: dict[str, Any], guardrails: Guardrails) -> int:
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    value = body.get(key)
    if value is None:
        return guardrails.default_max_tokens
    if value > guardrails.max_tokens_limit:
        raise InvalidRequest(
            f"{key}: {value} is over this gateway's limit of {guardrails.max_tokens_limit}", key, "invalid_value"
        )
    return min(value, guardrails.clamp_max_tokens)


def parse_leniently(raw: bytes, guardrails: Guardrails, models: frozenset[str]) -> ChatRequest:
    """What a thin proxy reads of a body (`guardrails.validate_requests: false`): any JSON object goes
    upstream as it is; only what routing needs is read, with defaults where it is missing or odd."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):  # nothing to route or forward: even a thin proxy must refuse
        raise InvalidRequest("the body must be a JSON object", None, "invalid_json")
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    texts = [m.get("content") for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)]
    chars = sum(len(t) for t in texts)
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        max_tokens = guardrails.default_max_tokens
    stream = body.get("stream") is True
    wants_usage = (
        stream and isinstance(body.get("stream_options"), dict) and body["stream_options"].get("include_usage") is True
    )
    if stream:
        body["stream_options"] = {"include_usage": True}
    pinned = body.get("model")
    model = pinned if isinstance(pinned, str) and pinned in models else AUTO  # unknown: the policy chooses
    temperature = body.get("temperature") if isinstance(body.get("temperature"), int | float) else None
    input_tokens = estimate_tokens(chars) + TOKENS_PER_MESSAGE * len(messages) + REPLY_PRIMING
    return ChatRequest(body, model, stream, max_tokens, input_tokens,
                       texts[-1] if texts else "", wants_usage, temperature)  # fmt: skip
