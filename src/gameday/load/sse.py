"""Reading an OpenAI chat completion: the server-sent events of a stream, or a whole JSON body.

Pure: lines in, facts out (first content instant, chunks, usage, finish, errors). A malformed
JSON chunk makes the response `bad_body`; an SSE `error` event, or a chunk carrying `error`,
makes it `stream_cut` (the server gave up mid-stream); the first error found is the one kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["CompletionFacts", "SseDecoder", "SseEvent", "read_body", "read_chunk"]


@dataclass(frozen=True, slots=True)
class SseEvent:
    name: str
    data: str


class SseDecoder:
    """Incremental SSE decoding (WHATWG rules that matter here): `data:` lines joined by newlines,
    `event:` names the event, a blank line dispatches it, `:` lines are comments."""

    def __init__(self) -> None:
        self._name = ""
        self._data: list[str] = []

    def feed(self, raw: bytes) -> SseEvent | None:
        line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        key, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if key == "data":
            self._data.append(value)
        elif key == "event":
            self._name = value
        return None

    def flush(self) -> SseEvent | None:
        """The event in progress, if any (also called at the end of the body)."""
        if not self._data and not self._name:
            return None
        event = SseEvent(self._name or "message", "\n".join(self._data))
        self._name, self._data = "", []
        return event


@dataclass
class CompletionFacts:
    """What the reader learned from a response body, stream or not."""

    first_content_at: float | None = None
    content_chunks: int = 0
    content_chars: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finished: bool = False
    done: bool = False
    error: str | None = None

    def fail(self, kind: str) -> None:
        if self.error is None:
            self.error = kind

    def out_tokens(self, chars_per_token: float = 4.0) -> int:
        """Tokens received: the server's count when it gave one; 0 whenever the content was empty."""
        if self.content_chars == 0:
            return 0
        if self.completion_tokens is not None:
            return self.completion_tokens
        return max(self.content_chunks, round(self.content_chars / chars_per_token))


def _usage(facts: CompletionFacts, obj: dict[str, Any]) -> None:
    usage = obj.get("usage")
    if isinstance(usage, dict):
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and prompt >= 0:
            facts.prompt_tokens = prompt
        if isinstance(completion, int) and completion >= 0:
            facts.completion_tokens = completion


OnObject = Callable[[dict[str, Any]], None]


def read_chunk(facts: CompletionFacts, event: SseEvent, now: float, on_object: OnObject) -> None:
    """Account one SSE event of a streamed completion; `on_object` sees every JSON chunk (adapters)."""
    if event.name == "error":
        facts.fail("stream_cut")
        return
    data = event.data.strip()
    if data == "[DONE]":
        facts.done = True
        return
    if not data:
        return
    obj = _json_object(facts, data)
    if obj is None:
        return
    if obj.get("error"):
        facts.fail("stream_cut")
        return
    on_object(obj)
    _usage(facts, obj)
    choices = obj.get("choices")
    if not isinstance(choices, list):
        if "usage" not in obj:
            facts.fail("bad_body")
        return
    for choice in choices:
        if not isinstance(choice, dict):
            facts.fail("bad_body")
            continue
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            if facts.first_content_at is None:
                facts.first_content_at = now
            facts.content_chunks += 1
            facts.content_chars += len(content)
        if choice.get("finish_reason"):
            facts.finished = True


def read_body(facts: CompletionFacts, raw: bytes, now: float, on_object: OnObject) -> None:
    """Account a whole (non-streamed) completion body."""
    obj = _json_object(facts, raw)
    if obj is None:
        return
    on_object(obj)
    _usage(facts, obj)
    choices = obj.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        facts.fail("bad_body")
        return
    message = choices[0].get("message")
    if not isinstance(message, dict):
        facts.fail("bad_body")
        return
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        facts.fail("bad_body")
        return
    facts.done = facts.finished = True
    if content:
        facts.first_content_at = now
        facts.content_chunks = 1
        facts.content_chars = len(content)


def _json_object(facts: CompletionFacts, raw: str | bytes) -> dict[str, Any] | None:
    """The JSON object in `raw`, or None with the record marked `bad_body`."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        facts.fail("bad_body")
        return None
    return obj
