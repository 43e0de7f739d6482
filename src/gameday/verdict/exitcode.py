"""Exit codes of DESIGN.md: 0 every expectation holds, 1 one failed, 2 bad input, 3 aborted.

Bad input (2) never reaches a result: it is a `ConfigError` raised before the run, whose
`exit_code` the CLI returns. An abort outranks a failed expectation: the run's numbers are partial.
"""

from __future__ import annotations

from collections.abc import Iterable

from gameday.measure.result import RunResult

__all__ = ["EXIT_ABORTED", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "exit_code", "suite_exit_code"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_ABORTED = 0, 1, 2, 3


def exit_code(result: RunResult) -> int:
    if result.aborted:
        return EXIT_ABORTED
    return EXIT_OK if all(v.passed for v in result.verdicts) else EXIT_FAILED


def suite_exit_code(results: Iterable[RunResult], extra_failed: bool = False) -> int:
    """One code for several runs (nightly): aborted beats failed beats ok. `extra_failed` adds
    failures judged outside the results (a baseline regression, say)."""
    codes = [exit_code(r) for r in results]
    if EXIT_ABORTED in codes:
        return EXIT_ABORTED
    if EXIT_FAILED in codes or extra_failed:
        return EXIT_FAILED
    return EXIT_OK
