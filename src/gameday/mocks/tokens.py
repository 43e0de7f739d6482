"""Token counting without a tokenizer: about four characters a token, deterministic.

Chat prompts add OpenAI's documented framing (3 tokens per message, 3 to prime the reply), so the
count of a message list is close to what a real provider bills for English text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["CHARS_PER_TOKEN", "PER_MESSAGE", "REPLY_PRIMING", "count_messages", "count_text"]

CHARS_PER_TOKEN = 4
PER_MESSAGE = 3
REPLY_PRIMING = 3


def count_text(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def count_messages(contents: Iterable[str]) -> int:
    """Tokens of a chat prompt given the text of each message."""
    return sum(count_text(c) + PER_MESSAGE for c in contents) + REPLY_PRIMING
