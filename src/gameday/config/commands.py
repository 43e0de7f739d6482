"""`gameday validate FILE...`: load each file by its kind and report every problem found."""

from __future__ import annotations

import argparse
import sys

from gameday.config.kinds import load_any
from gameday.errors import ConfigError

__all__ = ["validate"]


def validate(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            model = load_any(name)
        except ConfigError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
            continue
        print(f"{name}: ok ({getattr(model, 'kind', type(model).__name__)})")
    if failed:
        print(f"{failed} of {len(args.files)} file(s) invalid", file=sys.stderr)
        return 2
    return 0
