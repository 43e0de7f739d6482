"""`gameday gateway --policy FILE --upstream P=URL --seed N`: run the reference gateway in the foreground."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gameday.config.policy import Policy
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.gateway.app import build_app
from gameday.gateway.core import Gateway
from gameday.serving import serve

__all__ = ["main", "parse_upstreams"]


def parse_upstreams(items: Sequence[str]) -> dict[str, str]:
    """`["premium=http://127.0.0.1:19101", ...]` -> {provider: url}; a bad item is a `ConfigError` naming it."""
    out: dict[str, str] = {}
    for item in items:
        provider, sep, url = item.partition("=")
        provider, url = provider.strip(), url.strip()
        if not sep or not provider or not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"--upstream {item!r}: expected PROVIDER=URL, e.g. --upstream premium=http://127.0.0.1:19101"
            )
        out[provider] = url.rstrip("/")
    return out


def main(args: argparse.Namespace) -> int:
    try:
        policy = load_model(args.policy, Policy)
        gateway = Gateway(
            policy,
            policy_path=args.policy,
            upstream_urls=parse_upstreams(getattr(args, "upstream", None) or []),
            seed=getattr(args, "seed", 0) or 0,
        )
    except ConfigError as exc:
        print(f"gameday gateway: {exc}", file=sys.stderr)
        return 2
    return serve(build_app(gateway), args.host, args.port, "gateway", args.ready_file)
