"""Task class and tier of a request whose headers do not say them, from its prompt.

A keyword vote, on purpose: it costs microseconds, is predictable, and an operator can read and
change the keyword list in the policy. Only the head of the last user message is read (the
instruction is there; the pasted material below it would only add noise and time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gameday.config.policy import ClassifierSettings

__all__ = ["BUILTIN_KEYWORDS", "Classification", "Classifier"]

HEAD_CHARS = 2_000

BUILTIN_KEYWORDS: dict[str, list[str]] = {
    "code": [
        "```", "def ", "function ", "class ", "stack trace", "traceback", "compile", "refactor", "bug", "unit test",
        "add tests", "python", "javascript", "typescript", "rust", "golang", "sql", "regex", "import ",
    ],
    "summarize": ["summarize", "summarise", "summary", "tl;dr", "tldr", "key points", "bullet points", "condense"],
    "extract": [
        "extract", "as json", "json list", "parse the", "fill the fields", "list every", "pull out", "entities",
    ],
    "reasoning": [
        "step by step", "prove", "solve", "how many", "calculate", "derive", "puzzle", "logic", "final number",
        "reason about", "why does",
    ],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Classification:
    task: str
    tier: str
    task_from: str  # "header" | "classifier"
    tier_from: str  # "header" | "classifier"


class Classifier:
    """`classify(prompt, task=None, tier=None)`: headers win; otherwise keywords, then the policy's defaults."""

    def __init__(self, settings: ClassifierSettings) -> None:
        self.settings = settings
        keywords: Mapping[str, Sequence[str]] = settings.keywords if settings.keywords is not None else BUILTIN_KEYWORDS
        self._patterns = [(task, _pattern(words)) for task, words in keywords.items() if words]

    def task_of(self, prompt: str) -> str:
        """The class whose keywords occur most in the head of `prompt`; ties go to the earlier class."""
        head = prompt[:HEAD_CHARS].lower()
        best, best_score = self.settings.default_task, 0
        for task, pattern in self._patterns:
            score = len(set(pattern.findall(head)))  # distinct keywords: one repeated word is one signal
            if score > best_score:
                best, best_score = task, score
        return best

    def tier_of(self, task: str) -> str:
        return self.settings.tiers.get(task, self.settings.default_tier)

    def classify(self, prompt: str, task: str | None = None, tier: str | None = None) -> Classification:
        task_from = "header" if task else "classifier"
        task = task or self.task_of(prompt)
        tier_from = "header" if tier else "classifier"
        return Classification(task, tier or self.tier_of(task), task_from, tier_from)


def _pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Keywords as whole-word starts (`prove` must not match `improve`), longest first."""
    parts = [(r"\b" if w[:1].isalnum() else "") + re.escape(w.lower()) for w in sorted(words, key=len, reverse=True)]
    return re.compile("|".join(parts))
