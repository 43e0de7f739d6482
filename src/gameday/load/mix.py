"""What each request is: a workload class drawn by weight, streamed or not, a prompt, or a malformed case.

`PlanSource.next()` is deterministic for a seed: the k-th plan drawn is the same whatever the
timing, the number of users or the malformed share (every plan consumes the same four draws).
Prompts come from a small pool per class generated once (seeded Faker), and request bodies are
serialized once per (prompt, stream) and reused: a plan costs a few random draws, not a Faker call.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass

import orjson

from gameday.config.workload import TaskClass, Workload
from gameday.load.malformed import CorpusPicker, build_corpus
from gameday.load.prompts import PromptFactory
from gameday.load.trace import TraceEntry

__all__ = ["MALFORMED_TASK", "PlanSource", "RequestPlan"]

MALFORMED_TASK = "malformed"
POOL_SIZE = 16
TRACE_CACHE = 512


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """One request, ready to send: its body and what the record will say about it."""

    task: str
    tier: str
    stream: bool
    body: bytes
    in_tokens: int
    content_type: str = "application/json"
    expected_4xx: bool = False


@dataclass
class _Prompt:
    text: str
    in_tokens: int
    bodies: dict[bool, bytes]


class PlanSource:
    def __init__(
        self,
        workload: Workload,
        *,
        seed: int,
        stream_share: float | None = None,
        include_usage: bool = True,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.workload = workload
        self.rng = random.Random(seed)
        self.stream_share = stream_share
        self.include_usage = include_usage
        self.factory = PromptFactory(seed, workload.chars_per_token)
        self.classes = list(workload.classes)
        self.cumulative = list(itertools.accumulate(c.weight for c in self.classes))
        self.pools = {c.name: self._pool(c, pool_size) for c in self.classes}
        corpus = build_corpus(workload.model, workload.malformed.count, workload.malformed.seed)
        self.corpus = CorpusPicker(corpus, seed)
        self._trace_cache: dict[tuple[str, int], _Prompt] = {}

    def _pool(self, cls: TaskClass, size: int) -> list[_Prompt]:
        low, high = cls.prompt_tokens.min, cls.prompt_tokens.max
        # Evenly spread over the range (not drawn): the pool's lengths cover it whatever the seed.
        lengths = [low + (high - low) * i // max(1, size - 1) for i in range(size)] if high > low else [low] * size
        return [self._prompt(cls, tokens) for tokens in lengths]

    def _prompt(self, cls: TaskClass, tokens: int) -> _Prompt:
        text = self.factory.make(cls.prompt_style, tokens)
        chars = len(text) + len(cls.system or "")
        return _Prompt(text, max(1, math.ceil(chars / self.workload.chars_per_token)), {})

    def _body(self, cls: TaskClass, prompt: _Prompt, stream: bool, max_tokens: int | None = None) -> bytes:
        cached = prompt.bodies.get(stream) if max_tokens is None else None
        if cached is not None:
            return cached
        messages = [{"role": "system", "content": cls.system}] if cls.system else []
        messages.append({"role": "user", "content": prompt.text})
        data: dict[str, object] = {
            "model": cls.model or self.workload.model,
            "messages": messages,
            "max_tokens": max_tokens or cls.max_tokens,
            "stream": stream,
        }
        if stream and self.include_usage:
            data["stream_options"] = {"include_usage": True}
        if cls.temperature is not None:
            data["temperature"] = cls.temperature
        body = orjson.dumps(data)
        if max_tokens is None:
            prompt.bodies[stream] = body
        return body

    def _share(self, cls: TaskClass) -> float:
        return cls.stream_share if self.stream_share is None else self.stream_share

    def next(self, malformed_share: float = 0.0) -> RequestPlan:
        u_malformed, u_class, u_stream, u_prompt = (self.rng.random() for _ in range(4))
        if u_malformed < malformed_share:
            case = self.corpus.next()
            return RequestPlan(
                task=MALFORMED_TASK,
                tier="low",
                stream=False,
                body=case.body,
                in_tokens=max(1, math.ceil(len(case.body) / self.workload.chars_per_token)),
                content_type=case.content_type,
                expected_4xx=case.expected_4xx,
            )
        index = bisect.bisect_right(self.cumulative, u_class * self.cumulative[-1])
        cls = self.classes[min(index, len(self.classes) - 1)]
        pool = self.pools[cls.name]
        prompt = pool[int(u_prompt * len(pool)) % len(pool)]
        stream = u_stream < self._share(cls)
        return RequestPlan(cls.name, cls.tier, stream, self._body(cls, prompt, stream), prompt.in_tokens)

    def for_trace(self, entry: TraceEntry) -> RequestPlan:
        cls = self.workload.task_class(entry.task)
        key = (cls.name, entry.prompt_tokens)
        prompt = self._trace_cache.get(key)
        if prompt is None:
            if len(self._trace_cache) >= TRACE_CACHE:
                self._trace_cache.pop(next(iter(self._trace_cache)))
            prompt = self._trace_cache[key] = self._prompt(cls, entry.prompt_tokens)
        stream = entry.stream if entry.stream is not None else self.rng.random() < self._share(cls)
        body = self._body(cls, prompt, stream, entry.max_tokens)
        return RequestPlan(cls.name, entry.tier or cls.tier, stream, body, prompt.in_tokens)
