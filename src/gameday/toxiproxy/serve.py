"""`gameday toxiproxy`: run the embedded Toxiproxy-compatible server in the foreground."""

from __future__ import annotations

import argparse
import random

from gameday.serving import serve
from gameday.toxiproxy.api import build_app
from gameday.toxiproxy.collection import ProxyCollection

__all__ = ["main"]


def main(args: argparse.Namespace) -> int:
    # One generator seeds every toxicity draw, jitter and slice size: the same --seed and the same
    # sequence of connections give the same choices.
    seed = getattr(args, "seed", None)
    rng = random.Random(seed)
    app = build_app(ProxyCollection(rng))
    return serve(app, args.host, args.port, "toxiproxy", args.ready_file)
