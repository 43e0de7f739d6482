"""Rollback bookkeeping: every fault is remembered before its inject, removal is retried and journaled,
and one fault that will not go never keeps the others in place."""

from __future__ import annotations

from typing import Literal

import pytest
from fault_examples import EXAMPLES

from gameday.config import parse_yaml
from gameday.errors import FaultError
from gameday.faults.base import Fault, FaultSpecBase
from gameday.faults.context import FaultContext, ProviderEndpoints, providers_from_state
from gameday.faults.guard import RollbackGuard
from gameday.faults.journal import EventJournal
from gameday.faults.registry import fault_for
from gameday.faults.rollback import Rollback, RollbackFailed
from gameday.faults.specs import parse_fault


class StubSpec(FaultSpecBase):
    kind: Literal["stub"] = "stub"
    name: str
    remove_failures: int = 0
    inject_fails_after_touch: bool = False


class StubFault(Fault[StubSpec]):
    """A stand-in for a fault kind: records what the bookkeeping asked of it, fails on request."""

    spec_model = StubSpec
    log: list[str]

    def inject(self, ctx: FaultContext) -> None:
        self.touched = True
        self.log.append(f"inject {self.spec.name}")
        if self.spec.inject_fails_after_touch:
            raise RuntimeError("stack said no halfway")

    def remove(self, ctx: FaultContext) -> None:
        self.log.append(f"remove {self.spec.name}")
        failures = sum(1 for line in self.log if line == f"fail {self.spec.name}")
        if failures < self.spec.remove_failures:
            self.log.append(f"fail {self.spec.name}")
            raise FaultError(f"{self.spec.name} would not go")

    def describe(self) -> str:
        return f"stub {self.spec.name}"


class RecordingLoad:
    """The `LoadControl` side the load engine will implement, recording what faults set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def set_multiplier(self, factor: float) -> None:
        self.calls.append(("multiplier", factor))

    def set_malformed_share(self, share: float) -> None:
        self.calls.append(("malformed_share", share))


def make_ctx(load: RecordingLoad | None = None) -> FaultContext:
    return FaultContext(
        toxiproxy=None,
        providers=[ProviderEndpoints("premium", proxy="premium", admin_url="http://127.0.0.1:9")],
        admin_token="t",
        load=load,
        journal=EventJournal(None),
        sleep=lambda s: None,
    )


def stub(log: list[str], name: str, **kw: object) -> StubFault:
    fault = StubFault(StubSpec(name=name, **kw))  # type: ignore[arg-type]
    fault.log = log
    return fault


def test_removal_is_retried_and_every_attempt_journaled() -> None:
    ctx, log = make_ctx(), []
    rollback = Rollback(ctx, attempts=3)
    handle = rollback.inject(stub(log, "a", remove_failures=2), phase="outage")
    assert rollback.remove(handle)
    assert rollback.active == []
    events = [(e["event"], e["detail"].get("attempt")) for e in ctx.journal.events()]
    assert events == [
        ("fault_inject", None),
        ("fault_remove_failed", 1),
        ("fault_remove_failed", 2),
        ("fault_remove", 3),
    ]
    first = ctx.journal.events()[0]
    assert (first["phase"], first["fault"], first["target"]) == ("outage", "stub", None)
    assert first["detail"]["summary"] == "stub a"


def test_a_phase_end_failure_stays_registered_for_the_final_rollback() -> None:
    ctx, log = make_ctx(), []
    with RollbackGuard(ctx, attempts=2, signals=()) as guard:
        guard.inject(stub(log, "sticky", remove_failures=2), phase="a")
        guard.inject(stub(log, "fine"), phase="a")
        assert [x.describe() for x in guard.remove_phase("a")] == ["stub fine"]
        assert [x.describe() for x in guard.active] == ["stub sticky"]
    assert guard.active == []
    assert [e["event"] for e in ctx.journal.events()][-2:] == ["fault_remove", "rollback_done"]


def test_a_fault_that_will_not_go_does_not_stop_the_others() -> None:
    ctx, log = make_ctx(), []

    def run() -> None:
        with RollbackGuard(ctx, attempts=2, signals=()) as guard:
            guard.inject(stub(log, "first"), phase="p")
            guard.inject(stub(log, "stuck", remove_failures=99), phase="p")
            guard.inject(stub(log, "last"), phase="p")

    with pytest.raises(RollbackFailed, match=r"1 fault\(s\) could not be removed: stub stuck.*gameday reset") as err:
        run()
    assert [a.describe() for a in err.value.remaining] == ["stub stuck"]
    # newest first, the stuck one tried twice, and the oldest still removed after it
    assert [line for line in log if line.startswith("remove")] == [
        "remove last",
        "remove stuck",
        "remove stuck",
        "remove first",
    ]
    names = [e["event"] for e in ctx.journal.events()]
    assert names.count("fault_remove") == 2
    assert names.count("fault_remove_failed") == 2
    assert names[-1] == "rollback_done"


def test_a_half_done_inject_is_undone_at_once() -> None:
    ctx, log = make_ctx(), []
    rollback = Rollback(ctx)
    with pytest.raises(FaultError, match="could not inject stub half: stack said no halfway"):
        rollback.inject(stub(log, "half", inject_fails_after_touch=True))
    assert log == ["inject half", "remove half"]
    assert rollback.active == []
    assert [e["event"] for e in ctx.journal.events()] == ["fault_inject_failed", "fault_remove"]


def test_phase_end_removes_only_that_phase_and_exit_removes_the_rest() -> None:
    ctx, log = make_ctx(), []
    with RollbackGuard(ctx, signals=()) as guard:
        guard.inject(stub(log, "a1"), phase="a")
        guard.inject(stub(log, "b1"), phase="b")
        assert [x.describe() for x in guard.remove_phase("a")] == ["stub a1"]
        assert [x.describe() for x in guard.active] == ["stub b1"]
    assert [line for line in log if line.startswith("remove")] == ["remove a1", "remove b1"]
    assert guard.active == []


def test_an_exception_in_the_block_still_rolls_back_and_is_not_masked() -> None:
    ctx, log = make_ctx(), []

    def run() -> None:
        with RollbackGuard(ctx, signals=()) as guard:
            guard.inject(stub(log, "x"))
            raise ZeroDivisionError("the run broke")

    with pytest.raises(ZeroDivisionError):
        run()
    assert log == ["inject x", "remove x"]
    start = ctx.journal.events("rollback_start")[0]
    assert start["detail"]["reason"].startswith("ZeroDivisionError")


def test_burst_and_malformed_drive_the_load_and_restore_it() -> None:
    load = RecordingLoad()
    ctx = make_ctx(load)
    with RollbackGuard(ctx, signals=()) as guard:
        guard.inject(parse_fault({"kind": "burst", "factor": 3}), phase="spike")
        guard.inject(parse_fault({"kind": "malformed", "share": 0.25}), phase="spike")
        assert load.calls == [("multiplier", 3.0), ("malformed_share", 0.25)]
    assert load.calls[2:] == [("malformed_share", 0.0), ("multiplier", 1.0)]


def test_load_faults_refuse_without_a_load_engine() -> None:
    ctx = make_ctx(None)
    with pytest.raises(FaultError, match="'burst' acts on the load, but no load engine is attached"):
        Rollback(ctx).inject(parse_fault({"kind": "burst", "factor": 2}))


def test_remove_is_idempotent_for_every_kind_never_injected() -> None:
    ctx = make_ctx(RecordingLoad())
    for text in EXAMPLES.values():
        fault = fault_for(parse_fault(parse_yaml(text, "x")[0]))
        fault.remove(ctx)  # nothing injected: nothing to do, no error, no call to the stack
        fault.remove(ctx)


def test_unknown_provider_lists_the_stack_providers() -> None:
    state = {
        "toxiproxy_url": "http://127.0.0.1:1",
        "admin_token": "t",
        "services": {
            "premium": {"kind": "mock", "url": "http://127.0.0.1:9101"},
            "toxiproxy": {"kind": "toxiproxy", "url": "http://127.0.0.1:8474"},
            "efficient": {"kind": "mock", "url": "http://127.0.0.1:9102"},
        },
        "proxies": {"premium": {"listen": "127.0.0.1:19101"}, "efficient": {"listen": "127.0.0.1:19102"}},
    }
    providers = providers_from_state(state)
    assert providers["premium"] == ProviderEndpoints("premium", "premium", "http://127.0.0.1:9101")
    ctx = FaultContext(toxiproxy=None, providers=providers)
    with pytest.raises(
        FaultError, match=r"provider 'premiun' is not in this stack. Providers it has: efficient, premium"
    ):
        ctx.proxy_for("premiun")
    with pytest.raises(FaultError, match="'latency' targets provider 'nope'"):
        ctx.check_targets([("latency", "nope"), ("burst", None)])
