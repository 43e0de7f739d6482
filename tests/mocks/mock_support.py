"""Helpers of the mock provider tests: small fast profiles, raw HTTP reads, SSE parsing."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

TOKEN = "mock-tests-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

FAST_MODEL = """\
    price: {{input: {input}, output: {output}}}
    context_window: {context}
    ttft: {{p50_s: {ttft}, p95_s: {ttft_p95}}}
    itl: {{p50_s: {itl}, p95_s: {itl_p95}}}
    output_tokens: {{mean: {tokens}, sd: 0, min: 1, max: 400}}
    capacity:
      max_concurrency: {slots}
      max_queue: {queue}
      overload_status: {overload}
      batching_slowdown: {slowdown}
      contention_s: {contention}
"""


def model_yaml(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "input": 2.0,
        "output": 8.0,
        "context": 2000,
        "ttft": 0.005,
        "ttft_p95": 0.01,
        "itl": 0.001,
        "itl_p95": 0.002,
        "tokens": 12,
        "slots": 32,
        "queue": 64,
        "overload": 503,
        "slowdown": 0.0,
        "contention": 0.0,
    }
    values.update(overrides)
    return FAST_MODEL.format(**values)


def profile_yaml(provider: str = "testprov", flavor: str = "openai", models: dict[str, str] | None = None) -> str:
    models = models or {"fast": model_yaml()}
    body = "".join(f"  {name}:\n{text}" for name, text in models.items())
    return f"kind: provider-profile\nprovider: {provider}\nflavor: {flavor}\nmodels:\n{body}"


def write_profile(directory: Path, text: str, name: str = "profile.yaml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def chat_body(model: str = "fast", text: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def chat(url: str, model: str = "fast", **extra: Any) -> requests.Response:
    return requests.post(f"{url}/v1/chat/completions", json=chat_body(model, **extra), timeout=30)


@dataclass
class RawReply:
    """What a client reading at the socket level saw: status, headers, the bytes, and whether the body was cut."""

    status: int
    headers: dict[str, str]
    body: bytes
    cut: bool
    expected_more: int | None = None
    lines: list[str] = field(default_factory=list)

    def data(self) -> list[str]:
        return [line[6:] for line in self.lines if line.startswith("data: ")]

    def chunks(self) -> list[dict[str, Any]]:
        out = []
        for data in self.data():
            if data == "[DONE]":
                continue
            try:
                out.append(json.loads(data))
            except ValueError:
                continue
        return out

    def tokens(self) -> int:
        """Tokens of content received (a loaded server may pack several into one chunk)."""
        text = "".join(self.content())
        return len(text.split(" ")) if text else 0

    def content(self) -> list[str]:
        return [
            c["choices"][0]["delta"]["content"]
            for c in self.chunks()
            if c.get("choices") and c["choices"][0]["delta"].get("content")
        ]


def raw_post(url: str, body: dict[str, Any], timeout: float = 30) -> RawReply:
    """POST with http.client and read to the end, noting a body cut short (IncompleteRead)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        try:
            data = resp.read()
            cut, more = False, None
        except http.client.IncompleteRead as exc:
            data, cut, more = exc.partial, True, exc.expected
        return RawReply(resp.status, headers, data, cut, more, data.decode(errors="replace").split("\n"))
    finally:
        conn.close()


def admin(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{url}{path}", json=body, headers=AUTH, timeout=10)


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of Prometheus text, or None when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    target = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == target:
            return float(value)
    return None
