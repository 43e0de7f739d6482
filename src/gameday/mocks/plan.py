"""What one request will do, decided up front from its own seeded generator.

Drawn in a fixed order (error, faults, id, latencies, length, text), so the plan depends only on the
seed, the arrival number and the controls in force, never on timing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gameday.mocks.chat_request import ChatRequest
from gameday.mocks.controls import ErrorRule, FaultRule
from gameday.mocks.lengths import output_length
from gameday.mocks.state import MockState, ModelRuntime
from gameday.mocks.text import generate_tokens

__all__ = ["Plan", "make_plan"]


@dataclass
class Plan:
    completion_id: str
    ttft_base_s: float
    tokens: list[str]
    itl_s: list[float]  # base gap before each token (index 0 unused: the first token comes at TTFT)
    finish_reason: str
    error: ErrorRule | None = None
    faults: dict[str, FaultRule] = field(default_factory=dict)

    def param(self, kind: str, name: str) -> float:
        return float(self.faults[kind].params[name])


def make_plan(state: MockState, runtime: ModelRuntime, req: ChatRequest, prompt_tokens: int) -> Plan:
    rng: random.Random = state.request_rng()
    error = state.errors.draw(runtime.name, rng)
    faults = state.faults.draw(runtime.name, req.stream, rng)
    completion_id = f"chatcmpl-{rng.getrandbits(96):024x}"
    ttft = runtime.ttft.sample(rng)
    room = runtime.profile.context_window - prompt_tokens
    count, finish = output_length(runtime.profile.output_tokens, rng, req.max_tokens, room)
    tokens = generate_tokens(rng, count)
    itl = [runtime.itl.sample(rng) for _ in range(count)]
    return Plan(completion_id, ttft, tokens, itl, finish, error, faults)
