"""The answer's text: cheap, deterministic from the request's random generator.

Every token is a three-letter word with its separating space, i.e. four characters, so a client
that counts characters / 4 finds the token count the usage reports.
"""

from __future__ import annotations

import random

__all__ = ["VOCABULARY", "generate_tokens"]

_WORDS = """the and for are but not you all any can had her was one our out day get has him his how man new now
    old see two way who boy did its let put say she too use cat dog sun sea sky map key box red big top end
    art act add age ago air arm ask bad bag bed bit buy car cut dry due eat egg eye far few fit fix fly fun
    gum gem hat hit hot ice job joy law lay leg lie lot low mix net nor odd off oil own pay pen per pet run
    sad set sit six son tax tea ten tie tip toy try war wet win yes yet zoo row raw rim aim ash bay bee bow
    cap cow cry cup dam dot ear elf fan fee fog fox gap gas gym hen hip hug ink jam jar kit lab lap lid log"""
VOCABULARY: tuple[str, ...] = tuple(_WORDS.split())


def generate_tokens(rng: random.Random, count: int) -> list[str]:
    """`count` tokens; joined they read as words separated by single spaces."""
    words = rng.choices(VOCABULARY, k=count)
    return [word if i == 0 else " " + word for i, word in enumerate(words)]
