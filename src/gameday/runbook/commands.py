"""`gameday runbook RESULTS_DIR`: re-render `runbook.md` and `memo.md` from a results folder alone."""

from __future__ import annotations

import argparse

from gameday.measure.folder import ResultsDir
from gameday.runbook.render import render

__all__ = ["runbook"]


def runbook(args: argparse.Namespace) -> int:
    results = ResultsDir(args.results_dir)
    for path in render(results.result(), results.records(), results.path):
        print(path)
    return 0
