"""`gameday report RESULTS_DIR`: re-render `report.html` and its plots from a results folder alone."""

from __future__ import annotations

import argparse
import sys

from gameday.measure.folder import ResultsDir

__all__ = ["report"]


def report(args: argparse.Namespace) -> int:
    results = ResultsDir(args.results_dir)
    result = results.result()
    from gameday.report.html import render

    written = render(result, results.records(), results.events(), results.path, results.bill())
    for path in written:
        print(path)
    print(f"{result.scenario}: {'GO' if result.passed else 'NO-GO'}", file=sys.stderr)
    return 0
