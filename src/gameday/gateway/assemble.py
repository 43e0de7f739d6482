"""One `chat.completion` body from the chunks of a stream: how a non-streamed request is served from
an upstream stream (policy `timeouts.stream_upstream`).

Asking the provider for a stream even when the client wants one body gives the gateway the first
token's instant for every request, so a slow first token is caught at the model's `ttft_s`, not at
the end of a whole response; and since nothing has reached the client yet, a stream that breaks at
any point still falls over to the next model.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["Assembler"]


class Assembler:
    """Feed it every chunk (parsed JSON) in order; `body()` is the completion they add up to."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.created: int | None = None
        self.model: str | None = None
        self.parts: list[str] = []
        self.tool_calls: list[Any] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        self.id = self.id or chunk.get("id")
        self.created = self.created or chunk.get("created")
        self.model = self.model or chunk.get("model")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self.parts.append(delta["content"])
            if isinstance(delta.get("tool_calls"), list):
                self.tool_calls.extend(delta["tool_calls"])
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    @property
    def complete(self) -> bool:
        return self.finish_reason is not None

    def body(self, model: str, created: int) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.parts)}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        data: dict[str, Any] = {
            "id": self.id or "chatcmpl-gameday",
            "object": "chat.completion",
            "created": self.created or created,
            "model": self.model or model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}],
        }
        if self.usage is not None:
            data["usage"] = self.usage
        return orjson.dumps(data)
