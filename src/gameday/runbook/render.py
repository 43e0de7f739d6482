"""Render `runbook.md` and `memo.md` from a result and its records, with the Jinja2 templates of
`runbooks/templates/` (the repository's; edit them to change the wording, not this module)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from gameday.errors import ConfigError
from gameday.measure.record import RequestRecord
from gameday.measure.result import RunResult
from gameday.measure.timeline import timeline
from gameday.runbook import actions
from gameday.runbook.memo import deltas
from gameday.runbook.observe import fault_sections
from gameday.verdict.wording import fmt_value

__all__ = ["TEMPLATES", "render", "templates_dir"]

TEMPLATES = ("runbook.md.j2", "memo.md.j2")


def templates_dir() -> Path:
    """`runbooks/templates/` of the checkout this package runs from."""
    path = Path(__file__).resolve().parents[3] / "runbooks" / "templates"
    missing = [t for t in TEMPLATES if not (path / t).exists()]
    if missing:
        raise ConfigError(
            f"{path}: runbook templates {', '.join(missing)} are missing; restore them from the repository."
        )
    return path


def _fmt(metric: str, value: float | None) -> str:
    return "not observed" if value is None else fmt_value(metric, value)


def render(result: RunResult, records: Sequence[RequestRecord], out_dir: Path) -> list[Path]:
    """Write `runbook.md` and `memo.md` into `out_dir`; returns the files written."""
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    env.globals["fmt"] = _fmt
    bins = timeline(records, result.run.end_s)
    sections = fault_sections(result, records, bins)
    window = (
        f"{result.faults[0].recovery_window_s:g} s" if result.faults and result.faults[0].recovery_window_s else "5 s"
    )
    common = {
        "r": result,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(result.started_wall)) if result.started_wall else "",
    }
    written = []
    try:
        runbook = env.get_template("runbook.md.j2").render(
            **common,
            sections=sections,
            baseline=result.slice(result.baseline_phase) if result.baseline_phase else None,
            window=window,
            bin_s=f"{bins[0].t1 - bins[0].t0:g}" if bins else "1",
            admin_confirmed=actions.CONFIRMED,
            admin_paths=", ".join(f"{m} {p}" for m, p in actions.GATEWAY_ADMIN.values()),
        )
        memo = env.get_template("memo.md.j2").render(
            **common, deltas=deltas(result), failed=[v for v in result.verdicts if not v.passed]
        )
    except TemplateError as exc:
        raise ConfigError(f"{templates_dir()}: a runbook template is broken: {exc}") from None
    for name, text in (("runbook.md", runbook), ("memo.md", memo)):
        path = out_dir / name
        tmp = path.with_name(name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
