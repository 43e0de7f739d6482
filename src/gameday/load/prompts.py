"""Prompts generated with Faker, seeded, to a target length in tokens (`chars_per_token` chars a token).

Each workload class has a style (chat, code, summarize, extract, reasoning) that decides what
the text looks like, so a gateway that classifies requests by their prompt sees plausible
material. Generation is deterministic for a seed; the engine builds a small pool per class at
start (Faker is too slow to run per request at hundreds of requests per second).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from faker import Faker

__all__ = ["STYLES", "PromptFactory"]


class PromptFactory:
    """`make(style, tokens)`: a prompt of about `tokens` tokens in the given style."""

    def __init__(self, seed: int, chars_per_token: float = 4.0) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.chars_per_token = chars_per_token

    def make(self, style: str, tokens: int) -> str:
        head, unit, tail = STYLES.get(style, STYLES["chat"])(self)
        target = max(1, round(tokens * self.chars_per_token))
        room = target - len(head) - len(tail)
        if room <= 0:
            return (head + tail)[:target]
        parts: list[str] = []
        size = 0
        for _ in range(target + 1):  # bounded: every unit adds at least one character
            if size >= room:
                break
            piece = unit()
            parts.append(piece)
            size += len(piece)
        body = "".join(parts)[:room]
        return head + body + tail

    # --- the styles: (opening, a generator of body text, closing) ---

    def _chat(self) -> tuple[str, Callable[[], str], str]:
        f = self.fake
        head = f"Hi, I'm {f.first_name()}. "
        return head, lambda: f.sentence(nb_words=12) + " ", f" What do you think about {f.word()}?"

    def _code(self) -> tuple[str, Callable[[], str], str]:
        f = self.fake
        name = "_".join(f.words(nb=2))
        head = f"Fix the bug in `{name}` and add tests.\n```python\n"

        def line() -> str:
            a, b, c = f.words(nb=3)
            kind = self.rng.randrange(4)
            if kind == 0:
                return f"def {a}_{b}({c}, limit={self.rng.randrange(100)}):\n"
            if kind == 1:
                return f"    {a} = {b}.get('{c}', {self.rng.randrange(1000)})\n"
            if kind == 2:
                return f"    if {a} > {b}:\n        return {c}\n"
            return f"    # {f.sentence(nb_words=6)}\n"

        return head, line, "\n```"

    def _summarize(self) -> tuple[str, Callable[[], str], str]:
        f = self.fake
        head = f"Summarize this report from {f.company()} in three bullet points.\n\n"
        return head, lambda: f.paragraph(nb_sentences=4) + "\n\n", "\nSummary:"

    def _extract(self) -> tuple[str, Callable[[], str], str]:
        f = self.fake
        head = "Extract every person, email, phone, company and date below as a JSON list.\n\n"

        def record() -> str:
            return (
                f"{f.name()} <{f.email()}>, {f.phone_number()}, works at {f.company()} since "
                f"{f.date()} in {f.city()}.\n"
            )

        return head, record, "\nJSON:"

    def _reasoning(self) -> tuple[str, Callable[[], str], str]:
        f = self.fake
        head = "Solve step by step, then give the final number.\n"

        def fact() -> str:
            a, b = self.rng.randrange(2, 500), self.rng.randrange(2, 60)
            return f"{f.first_name()} has {a} {f.word()}s and gives {b} to {f.first_name()} every {f.day_of_week()}. "

        return head, fact, "\nHow many are left after four weeks, and who has the most?"


STYLES: dict[str, Callable[[PromptFactory], tuple[str, Callable[[], str], str]]] = {
    "chat": PromptFactory._chat,
    "code": PromptFactory._code,
    "summarize": PromptFactory._summarize,
    "extract": PromptFactory._extract,
    "reasoning": PromptFactory._reasoning,
}
