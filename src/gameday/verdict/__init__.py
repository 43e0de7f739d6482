"""Verdicts: expectations judged with reasons, JUnit XML, live abort_if, baseline comparison, exit codes."""

from gameday.verdict.abort import AbortWatcher
from gameday.verdict.compare import compare
from gameday.verdict.exitcode import EXIT_ABORTED, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, exit_code, suite_exit_code
from gameday.verdict.judge import evaluate, judge
from gameday.verdict.junit import junit_xml, write_junit

__all__ = [
    "EXIT_ABORTED",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "AbortWatcher",
    "compare",
    "evaluate",
    "exit_code",
    "judge",
    "junit_xml",
    "suite_exit_code",
    "write_junit",
]
