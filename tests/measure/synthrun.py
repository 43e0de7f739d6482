"""A synthetic provider-outage run (records, events, bill) built from a seed, for the measure,
verdict, report and runbook tests. Nothing here is under test: it plays the load engine, the
runner's journal and the mocks' bills, with numbers the tests can reason about.

Timeline (seconds): baseline [0, 10), outage [10, 20) with premium down, recovery [20, 30).
Chat is served by premium/frontier-large; during the outage the first 1.5 s fail (502), then
chat falls back to efficient/swift-mini. Summarize is always efficient/swift-mini.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from gameday.config.expectations import Expectation
from gameday.measure.bill import BillLedger, BillSnapshot, ModelBill, ProviderBill
from gameday.measure.events import Event
from gameday.measure.plan import FaultPlan, PhasePlan, RunPlan
from gameday.measure.record import RecordWriter, RequestRecord

__all__ = ["PRICES", "SyntheticRun", "make_plan", "make_run", "write_folder"]

PRICES = {"frontier-large": (3.0, 15.0), "frontier-alt": (2.5, 10.0), "swift-mini": (0.15, 0.6)}
PROVIDER = {"frontier-large": "premium", "frontier-alt": "premium", "swift-mini": "efficient"}


def make_plan(expectations: list[dict] | None = None, ceiling: float | None = 2.0) -> RunPlan:
    return RunPlan(
        scenario="provider-outage",
        description="premium goes dark; chat falls back",
        seed=7,
        phases=[
            PhasePlan(name="baseline", duration_s=10),
            PhasePlan(
                name="outage",
                duration_s=10,
                faults=[FaultPlan(kind="outage", target="premium", params={"mode": "disabled"})],
                allowed_models={"chat": ["frontier-alt", "swift-mini"], "chat@high": ["frontier-alt"]},
            ),
            PhasePlan(name="recovery", duration_s=10),
        ],
        allowed_models={"chat": ["frontier-large"], "summarize": ["swift-mini"]},
        ceiling_usd_per_min=ceiling,
        expectations=[Expectation.model_validate(e) for e in (expectations or [])],
    )


class SyntheticRun:
    def __init__(self, plan: RunPlan, records: list[RequestRecord], events: list[Event], ledger: BillLedger):
        self.plan, self.records, self.events, self.ledger = plan, records, events, ledger


def _cost(model: str, tin: int, tout: int) -> float:
    pin, pout = PRICES[model]
    return (tin * pin + tout * pout) / 1e6


def make_run(seed: int = 1, rate: float = 10.0, plan: RunPlan | None = None, effect: bool = True) -> SyntheticRun:
    """`effect=False`: the outage phase's fault changes nothing (traffic looks like the baseline)."""
    rng = random.Random(seed)
    plan = plan or make_plan()
    records = []
    n = int(30 * rate)
    for i in range(n):
        t = i / rate
        phase = "baseline" if t < 10 else "outage" if t < 20 else "recovery"
        malformed = i % 20 == 7
        task = "summarize" if i % 3 == 0 else "chat"
        tier = "high" if (task == "chat" and i % 4 == 1) else "medium"
        tin, tout = rng.randint(50, 400), rng.randint(20, 200)
        if malformed:
            status = 502 if effect and phase == "outage" and i % 40 == 27 else 400
            records.append(
                RequestRecord(
                    t=t,
                    phase=phase,
                    task=task,
                    tier=tier,
                    status=status,
                    error="http_5xx" if status >= 500 else "http_4xx",
                    e2e_s=0.02,
                    expected_4xx=True,
                    worker=0,
                )
            )
            continue
        model, fallback = ("frontier-large", False) if task == "chat" else ("swift-mini", False)
        ttft = rng.uniform(0.4, 0.8) if model == "frontier-large" else rng.uniform(0.15, 0.35)
        e2e = ttft + tout / (60 if model == "frontier-large" else 150)
        if effect and 20 <= t < 22:
            e2e *= 2.5  # a slow start after the provider returns
            ttft *= 2.5
        if effect and task == "chat" and phase == "outage":
            if t < 11.5:
                records.append(
                    RequestRecord(
                        t=t,
                        phase=phase,
                        task=task,
                        tier=tier,
                        stream=True,
                        status=502,
                        error="http_5xx",
                        e2e_s=0.9,
                        attempts=2,
                    )
                )
                continue
            model, fallback = "swift-mini", True
            ttft, e2e = ttft + 0.3, ttft + 0.3 + tout / 150
        records.append(
            RequestRecord(
                t=t,
                phase=phase,
                task=task,
                tier=tier,
                stream=True,
                status=200,
                ttft_s=ttft,
                e2e_s=e2e,
                in_tokens=tin,
                out_tokens=tout,
                model=model,
                provider=PROVIDER[model],
                route=f"{task}-default" if not fallback else f"{task}-fallback",
                attempts=2 if fallback else 1,
                fallback=fallback,
                cost_usd=_cost(model, tin, tout),
                worker=i % 2,
            )
        )
    events = []
    for name, start in (("baseline", 0.0), ("outage", 10.0), ("recovery", 20.0)):
        events.append(Event(t=start, wall=1_700_000_000 + start, event="phase_start", phase=name))
        if name == "outage":
            events.append(
                Event(
                    t=10.0,
                    wall=1_700_000_010.0,
                    event="fault_inject",
                    phase=name,
                    fault="outage",
                    target="premium",
                    detail={"mode": "disabled"},
                )
            )
            events.append(
                Event(t=20.0, wall=1_700_000_020.0, event="fault_remove", phase=name, fault="outage", target="premium")
            )
        events.append(Event(t=start + 10, wall=1_700_000_010 + start, event="phase_end", phase=name))
    return SyntheticRun(plan, records, events, bill_from(records, markup=1.02))


def bill_from(
    records: list[RequestRecord], markup: float = 1.0, every_s: float = 1.0, end_s: float = 35.0
) -> BillLedger:
    """Snapshots every `every_s` of what the mocks would bill: each request's cost at its completion."""
    ledger = BillLedger()
    k = 0
    while k * every_s <= end_s + 1e-9:
        t = k * every_s
        bills: dict[str, ProviderBill] = {}
        for provider in ("premium", "efficient"):
            models: dict[str, ModelBill] = {}
            for r in records:
                if r.provider == provider and r.model and r.done_t <= t and r.cost_usd is not None:
                    mb = models.setdefault(r.model, ModelBill())
                    mb.requests += 1
                    mb.input_tokens += r.in_tokens
                    mb.output_tokens += r.out_tokens
                    mb.usd += r.cost_usd * markup
            bills[provider] = ProviderBill(
                provider=provider, models=models, total_usd=sum(m.usd for m in models.values()), since=0.0
            )
        ledger.add(BillSnapshot(t=t, wall=1_700_000_000 + t, label="tick", bills=bills))
        k += 1
    return ledger


def write_folder(folder: Path, run: SyntheticRun, sent: int | None = None) -> Path:
    """Write what the runner streams during a run: requests.jsonl and events.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    with RecordWriter(folder / "requests.jsonl") as w:
        w.write_many(run.records)
    with (folder / "events.jsonl").open("w") as f:
        for e in run.events:
            f.write(json.dumps(e.model_dump()) + "\n")
    return folder
