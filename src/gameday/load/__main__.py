"""Load alone, without a stack or faults: `python -m gameday.load --load FILE --target URL --duration S`.

For trying a workload against any OpenAI-compatible endpoint, and for the load's own tests:
records go to `--records` (JSONL, the `requests.jsonl` format), a summary (sent, recorded, live
stats, merged HDR histograms, the run clock's origin on the monotonic clock) to `--summary`.
`--at T:phase=NAME`, `--at T:multiplier=F` and `--at T:malformed=S` drive the runtime controls
T seconds after the load started (with `--workers`, once they are all ready), as phases and faults would.
Exit 0 when every request sent has its record, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import orjson

from gameday.config.load import LoadSpec
from gameday.config.yamlio import load_model
from gameday.errors import GamedayError

__all__ = ["main"]


def _event(text: str) -> tuple[float, str, str]:
    try:
        when, _, action = text.partition(":")
        name, _, value = action.partition("=")
        if name not in ("phase", "multiplier", "malformed") or not value:
            raise ValueError
        return float(when), name, value
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected T:phase=NAME, T:multiplier=F or T:malformed=S (T in seconds)"
        ) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gameday.load", description=__doc__.splitlines()[0])
    p.add_argument("--load", required=True, help="YAML mapping of a scenario's `load:` (paths relative to it)")
    p.add_argument("--target", required=True, help="base URL of an OpenAI-compatible endpoint")
    p.add_argument("--adapter", default="gameday", help="gameday | openai | a YAML file with an adapter mapping")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="Locust worker processes (0: in this process)")
    p.add_argument("--duration", type=float, required=True, help="seconds of load")
    p.add_argument("--drain", type=float, help="seconds to wait for requests in flight (default: request timeout)")
    p.add_argument("--at", type=_event, action="append", default=[], metavar="T:WHAT=VALUE")
    p.add_argument("--records", help="JSONL file for the request records")
    p.add_argument("--summary", help="JSON file for the summary")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        spec = load_model(Path(args.load), LoadSpec)
        adapter: object = args.adapter
        if args.adapter.endswith((".yaml", ".yml")):
            from gameday.config.yamlio import read_yaml

            adapter, _ = read_yaml(Path(args.adapter))
        return _run(args, spec, adapter)
    except GamedayError as exc:
        print(f"gameday: {exc}", file=sys.stderr)
        return exc.exit_code


def _run(args: argparse.Namespace, spec: LoadSpec, adapter: object) -> int:
    from gameday.load.engine import LoadEngine  # Locust (and gevent's patching) only from here on
    from gameday.measure.record import RecordWriter, RequestRecord

    writer = RecordWriter(args.records) if args.records else None

    def sink(record: RequestRecord) -> None:
        if writer is not None:
            writer.write(record)

    engine = LoadEngine(spec, args.target, adapter, args.seed, sink, args.workers)  # type: ignore[arg-type]
    events = sorted(args.at)
    started = time.monotonic()
    try:
        engine.start()
        started = time.monotonic()  # `--duration` and `--at` count from the load's start (workers ready)
        while (elapsed := time.monotonic() - started) < args.duration:
            while events and events[0][0] <= elapsed:
                _, name, value = events.pop(0)
                if name == "phase":
                    engine.set_phase(value)
                elif name == "multiplier":
                    engine.set_multiplier(float(value))
                else:
                    engine.set_malformed_share(float(value))
            time.sleep(min(0.05, args.duration - elapsed))
    finally:
        engine.stop(args.drain)
        if writer is not None:
            writer.close()
    summary = {
        "sent": engine.sent,
        "recorded": engine.recorded,
        "duration_s": time.monotonic() - started,
        "origin_monotonic": engine.origin,
        "load_start": engine.load_start,
        "stats": asdict(engine.stats()),
        "histograms": {name: h.encode().decode("ascii") for name, h in engine.histograms().items()},
    }
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    print(f"sent {engine.sent}, recorded {engine.recorded}", file=sys.stderr)
    return 0 if engine.sent == engine.recorded else 1


if __name__ == "__main__":
    raise SystemExit(main())
