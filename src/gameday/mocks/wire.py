"""The OpenAI wire format: error bodies, completion bodies, stream chunks.

Chunks are built from a pre-encoded prefix per response: a stream writes one per token, so the
JSON of the envelope is encoded once rather than once a token.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

__all__ = ["ApiError", "ChunkFormat", "completion_body", "error_body", "json_response", "usage"]


class ApiError(Exception):
    """An answer in OpenAI's error shape; handlers raise it, one place turns it into a response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.body = body  # a provider-specific body (529's Anthropic-like one) instead of OpenAI's

    def response(self) -> web.Response:
        body = self.body if self.body is not None else error_body(self.message, self.type, self.param, self.code)
        return json_response(body, status=self.status, headers=self.headers)


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion_body(
    completion_id: str, created: int, model: str, text: str, finish_reason: str, prompt_tokens: int, out_tokens: int
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage(prompt_tokens, out_tokens),
    }


class ChunkFormat:
    """`data: {...}\\n\\n` lines of one streamed completion."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self.envelope = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        head = orjson.dumps(self.envelope)[:-1]  # without the closing brace
        self._choice_prefix = b"data: " + head + b',"choices":[{"index":0,"delta":'

    def _choice(self, delta: dict[str, Any], finish_reason: str | None) -> bytes:
        tail = b',"logprobs":null,"finish_reason":' + orjson.dumps(finish_reason) + b"}]}\n\n"
        return self._choice_prefix + orjson.dumps(delta) + tail

    def role(self) -> bytes:
        return self._choice({"role": "assistant", "content": ""}, None)

    def content(self, text: str) -> bytes:
        return self._choice({"content": text}, None)

    def finish(self, finish_reason: str) -> bytes:
        return self._choice({}, finish_reason)

    def usage(self, prompt_tokens: int, out_tokens: int) -> bytes:
        return (
            b"data: "
            + orjson.dumps({**self.envelope, "choices": [], "usage": usage(prompt_tokens, out_tokens)})
            + b"\n\n"
        )

    def malformed(self) -> bytes:
        """A `data:` line cut mid-JSON, as a broken proxy or a buggy server would send."""
        return self._choice_prefix + b'{"content": "\n\n'

    @staticmethod
    def done() -> bytes:
        return b"data: [DONE]\n\n"

    @staticmethod
    def keep_alive() -> bytes:
        return b": keep-alive\n\n"

    @staticmethod
    def error_event(message: str) -> bytes:
        data = error_body(message, "server_error", None, "internal_error")
        return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"
