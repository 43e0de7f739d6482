"""JUnit XML: one testsuite per scenario run, one testcase per verdict; failures carry the sentence.

CI systems (GitHub, GitLab, Jenkins) read this to show which expectation failed and why.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from gameday.measure.result import RunResult

__all__ = ["junit_xml", "write_junit"]


def junit_xml(results: RunResult | Sequence[RunResult], name: str = "llm-gameday") -> str:
    runs = [results] if isinstance(results, RunResult) else list(results)
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in runs:
        suite = ET.SubElement(root, "testsuite", name=result.scenario)
        failures = errors = 0
        for v in result.verdicts:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"gameday.{result.scenario}.{v.kind}",
                name=v.name,
                time="0",
            )
            if v.passed:
                ET.SubElement(case, "system-out").text = v.sentence
            elif v.kind == "integrity" and v.metric == "aborted":
                errors += 1
                ET.SubElement(case, "error", message=v.sentence, type="aborted").text = v.sentence
            else:
                failures += 1
                ET.SubElement(case, "failure", message=v.sentence, type=v.kind).text = v.sentence
        suite.set("tests", str(len(result.verdicts)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "0")
        suite.set("time", f"{result.duration_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("seed", result.plan.seed),
            ("aborted", result.aborted),
            ("requests", result.integrity.recorded),
        ):
            ET.SubElement(props, "property", name=key, value=str(value))
        totals["tests"] += len(result.verdicts)
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, results: RunResult | Sequence[RunResult], name: str = "llm-gameday") -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(junit_xml(results, name), encoding="utf-8")
    tmp.replace(path)
    return path
