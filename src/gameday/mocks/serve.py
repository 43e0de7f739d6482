"""`gameday mock --profile mocks/NAME.yaml --seed N --host H --port P`: one mock provider in the foreground."""

from __future__ import annotations

import argparse
import os
import sys

from gameday.config.profile import ProviderProfile
from gameday.config.yamlio import load_model
from gameday.mocks.app import build_app
from gameday.mocks.state import MockState
from gameday.serving import serve

__all__ = ["main"]

TOKEN_ENV = "GAMEDAY_ADMIN_TOKEN"


def main(args: argparse.Namespace) -> int:
    profile = load_model(args.profile, ProviderProfile)  # a ConfigError is printed by the CLI (exit 2)
    state = MockState(profile, seed=args.seed, admin_token=os.environ.get(TOKEN_ENV))
    if state.admin_token is None:
        print(f"{profile.provider}: {TOKEN_ENV} is not set; the admin API answers 503.", file=sys.stderr)
    return serve(build_app(state), args.host, args.port, f"mock {profile.provider}", args.ready_file)
