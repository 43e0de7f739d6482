"""The `gameday` command line: parse, call the part that does the work, print, exit.

Each command's work lives in its part (`gameday.<part>.commands`), imported only when that command
runs, so `gameday --help` and `gameday validate` stay fast and never import Locust.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from gameday import __version__
from gameday.errors import GamedayError

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_ABORTED = 0, 1, 2, 3


def _handler(target: str) -> Callable[[argparse.Namespace], int]:
    """A lazy reference to `module:function`, resolved when the command runs."""

    def call(args: argparse.Namespace) -> int:
        module_name, _, func_name = target.partition(":")
        func = getattr(import_module(module_name), func_name)
        return int(func(args) or 0)

    call.__qualname__ = target
    return call


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..65535 (0 picks a free port)")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def _add_service_flags(p: argparse.ArgumentParser, default_port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=default_port, help=f"port (default {default_port}; 0 = any free)")
    p.add_argument("--ready-file", help="write the bound port to this file once listening")


def _add_workdir_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workdir",
        metavar="DIR",
        help="folder whose .gameday/ holds the stack's state and logs (default: the current directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gameday",
        description="Chaos and load-testing game days for LLM gateways.",
    )
    parser.add_argument("--version", action="version", version=f"llm-gameday {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="run a game day scenario and judge it")
    p.add_argument("scenario", nargs="?", help="scenario file (default scenarios/gameday.yaml)")
    p.add_argument("--stack", help="stack file (default: the scenario's, else stacks/local.yaml)")
    p.add_argument("--target", help="URL of the gateway under test (default: the stack's reference gateway)")
    p.add_argument("--adapter", help="how to read the target's answers: gameday | openai | a scenario adapter")
    p.add_argument("--time-scale", type=_positive_float, default=1.0, help="multiply every duration (CI: 0.2)")
    p.add_argument("--seed", type=_non_negative_int, help="random seed (default: the scenario's)")
    p.add_argument("--workers", type=_non_negative_int, default=0, help="Locust worker processes (0 = in process)")
    p.add_argument("--out", help="results folder parent (default results/)")
    p.add_argument("--allow-remote", action="store_true", help="allow a target that is not on loopback")
    p.add_argument("--toxiproxy", help="URL of a running toxiproxy-server to use instead of the embedded one")
    p.set_defaults(func=_handler("gameday.runner.commands:run"))

    p = sub.add_parser("up", help="bring a long-lived stack up")
    p.add_argument("--stack", default="stacks/local.yaml", help="stack file (default stacks/local.yaml)")
    p.add_argument("--toxiproxy", help="URL of a running toxiproxy-server to use instead of the embedded one")
    p.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="SERVICE=PORT",
        help="override a port: a service (premium=9201) or a proxy (proxy.premium=19201); 0 = any free",
    )
    _add_workdir_flag(p)
    p.set_defaults(func=_handler("gameday.stack.commands:up"))

    p = sub.add_parser("down", help="remove every fault and bring the stack down")
    _add_workdir_flag(p)
    p.set_defaults(func=_handler("gameday.stack.commands:down"))

    p = sub.add_parser("reset", help="remove every fault from the running stack, leaving it up")
    _add_workdir_flag(p)
    p.set_defaults(func=_handler("gameday.stack.commands:reset"))

    p = sub.add_parser("status", help="show the running stack (exit 0 healthy, 1 something down, 2 no stack)")
    _add_workdir_flag(p)
    p.set_defaults(func=_handler("gameday.stack.commands:status"))

    p = sub.add_parser("mock", help="run one mock LLM provider in the foreground")
    p.add_argument("--profile", required=True, help="provider profile, e.g. mocks/premium.yaml")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    _add_service_flags(p, 9101)
    p.set_defaults(func=_handler("gameday.mocks.serve:main"))

    p = sub.add_parser("gateway", help="run the reference gateway in the foreground")
    p.add_argument("--policy", default="stacks/policies/reference.yaml", help="policy file")
    p.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="override a provider's base URL from the policy (the stack points providers at their proxies)",
    )
    p.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default 0)")
    _add_service_flags(p, 8080)
    p.set_defaults(func=_handler("gameday.gateway.serve:main"))

    p = sub.add_parser("toxiproxy", help="run the embedded Toxiproxy-compatible server in the foreground")
    p.add_argument("--seed", type=_non_negative_int, help="seed for toxicity draws and jitter")
    _add_service_flags(p, 8474)
    p.set_defaults(func=_handler("gameday.toxiproxy.serve:main"))

    p = sub.add_parser("report", help="re-render the HTML report from a results folder")
    p.add_argument("results_dir")
    p.set_defaults(func=_handler("gameday.report.commands:report"))

    p = sub.add_parser("runbook", help="re-render the runbook and memo from a results folder")
    p.add_argument("results_dir")
    p.set_defaults(func=_handler("gameday.runbook.commands:runbook"))

    p = sub.add_parser("nightly", help="run a suite of scenarios with one exit code")
    p.add_argument("suite", nargs="?", default="scenarios/nightly.yaml")
    p.add_argument("--junit", required=True, help="where to write the JUnit XML")
    p.add_argument("--baseline", help="results folder of a baseline run to compare against")
    p.add_argument("--time-scale", type=_positive_float, default=1.0)
    p.add_argument("--out", help="results folder parent (default results/)")
    p.set_defaults(func=_handler("gameday.runner.nightly:nightly"))

    p = sub.add_parser("validate", help="check scenario, stack, profile, policy and workload files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_handler("gameday.config.commands:validate"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GamedayError as exc:
        print(f"gameday {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"gameday {args.command}: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("gameday."):
            print(f"gameday {args.command}: not available in this version ({exc.name} missing)", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


if __name__ == "__main__":
    sys.exit(main())
