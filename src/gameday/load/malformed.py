"""The malformed-prompt corpus: at least 500 deterministic cases, each with the answer it expects.

`build_corpus(model, count, seed)` gives the same bytes for the same arguments, every time and
on every machine (the categories and what they expect are in `gameday.load.malformed_cases`).
The order interleaves categories, so every stretch of the corpus covers all of them. Under load,
`CorpusPicker` walks a seeded permutation, so every case is sent once before any is repeated.

`python -m gameday.load.malformed --out corpus.jsonl` writes the corpus for inspection.
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from gameday.load.malformed_cases import CATEGORIES, MalformedCase, Spec
from gameday.load.prompts import PromptFactory

__all__ = ["CorpusPicker", "MalformedCase", "build_corpus", "main"]

MAX_ROUNDS = 50


def _round(model: str, seed: int, round_no: int) -> list[MalformedCase]:
    factory = PromptFactory(seed * 1_000 + round_no)
    styles = ["chat", "code", "summarize", "extract", "reasoning", "chat"]
    prompts = tuple(factory.make(style, 40 + 20 * i) for i, style in enumerate(styles))
    spec = Spec(model=model, prompts=prompts, rng=random.Random(seed * 7_919 + round_no))
    cases: list[MalformedCase] = []
    for generate in CATEGORIES.values():
        cases.extend(generate(spec))
    return cases


def _interleave(cases: Sequence[MalformedCase]) -> list[MalformedCase]:
    """Round-robin over categories, each in its own order: any prefix covers every category."""
    groups: dict[str, list[MalformedCase]] = {}
    for case in cases:
        groups.setdefault(case.category, []).append(case)
    out: list[MalformedCase] = []
    queues = list(groups.values())
    index = 0
    while len(out) < len(cases):
        for queue in queues:
            if index < len(queue):
                out.append(queue[index])
        index += 1
    return out


def build_corpus(model: str = "auto", count: int = 600, seed: int = 0) -> list[MalformedCase]:
    """`count` cases (at least 500), identical for identical arguments."""
    if count < 500:
        raise ValueError(f"the malformed corpus has at least 500 cases; got count={count}")
    cases: list[MalformedCase] = []
    for round_no in range(MAX_ROUNDS):
        if len(cases) >= count:
            break
        batch = _round(model, seed, round_no)
        if round_no:
            batch = [c for c in batch if c.category != "gigantic"]  # a few multi-megabyte bodies are enough
            batch = [
                MalformedCase(c.category, f"{c.name}-r{round_no}", c.body, c.expect, c.content_type) for c in batch
            ]
        cases.extend(batch)
    return _interleave(cases)[:count] if len(cases) > count else _interleave(cases)


class CorpusPicker:
    """Deterministic order of use: a seeded permutation of the corpus, repeated."""

    def __init__(self, cases: Sequence[MalformedCase], seed: int) -> None:
        if not cases:
            raise ValueError("the malformed corpus is empty")
        self.cases = list(cases)
        self.order = list(range(len(self.cases)))
        random.Random(seed).shuffle(self.order)
        self.k = 0

    def next(self) -> MalformedCase:
        case = self.cases[self.order[self.k % len(self.order)]]
        self.k += 1
        return case


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gameday.load.malformed", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="cases (at least 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="auto", help="`model` written in the bodies")
    parser.add_argument("--out", help="JSONL file (default: stdout)")
    args = parser.parse_args(argv)
    if args.count < 500:
        parser.error("--count must be at least 500")
    lines = []
    for i, case in enumerate(build_corpus(args.model, args.count, args.seed)):
        row = {
            "id": i,
            "category": case.category,
            "name": case.name,
            "expect": case.expect,
            "content_type": case.content_type,
            "body_b64": base64.b64encode(case.body).decode(),
        }
        lines.append(orjson.dumps(row))
    data = b"\n".join(lines) + b"\n"
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
