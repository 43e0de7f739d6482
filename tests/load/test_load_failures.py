"""Real Locust against a real server on loopback: one record per request, whatever happened to it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from loadrun import FakeServer, closed_port, run_load

# class name -> (model the fake server misbehaves on, stream share, the (status, error) every record must have)
KINDS: dict[str, tuple[str, float, tuple[int, str | None]]] = {
    "ok": ("ok", 0.5, (200, None)),
    "timeout": ("hang", 0.5, (0, "timeout")),
    "reset": ("reset", 0.5, (0, "reset")),
    "cut": ("cut", 1.0, (200, "stream_cut")),
    "truncated": ("truncated", 1.0, (200, "stream_cut")),
    "h4xx": ("http400", 0.5, (400, "http_4xx")),
    "h429": ("http429", 0.0, (429, "http_4xx")),
    "h5xx": ("http503", 0.5, (503, "http_5xx")),
    "badbody": ("badbody", 0.0, (200, "bad_body")),
    "badchunk": ("badchunk", 1.0, (200, "bad_body")),
    "sseerror": ("sseerror", 1.0, (200, "stream_cut")),
}


def _workload() -> dict[str, object]:
    classes = [
        {
            "name": name,
            "weight": 1,
            "model": model,
            "stream_share": share,
            "max_tokens": 16,
            "prompt_tokens": {"min": 10, "max": 40},
        }
        for name, (model, share, _) in KINDS.items()
    ]
    return {"name": "failures", "classes": classes}


def test_every_failure_kind_gives_exactly_one_record(tmp_path: Path, fake_server: FakeServer) -> None:
    run = run_load(
        tmp_path,
        _workload(),
        {"model": "closed", "shape": {"kind": "steady", "users": 11}, "request_timeout_s": 0.8},
        fake_server.url,
        duration=2.5,
        drain=3.0,
    )
    assert run.returncode == 0, run.stderr
    assert run.summary["sent"] == run.summary["recorded"] == len(run.records) > 50
    outcomes: dict[str, Counter[tuple[int, str | None]]] = {name: Counter() for name in KINDS}
    for record in run.records:
        outcomes[record.task][(record.status, record.error)] += 1
    for name, (_, _, expected) in KINDS.items():
        assert set(outcomes[name]) == {expected}, (name, outcomes[name])
    # The server saw every request once (a reset connection may be retried once: it is not counted).
    arrived = Counter(row["task"] for row in fake_server.rows())
    for name in KINDS:
        if name != "reset":
            assert arrived[name] == len(run.by_task(name)), name


def test_what_each_failure_leaves_in_the_record(tmp_path: Path, fake_server: FakeServer) -> None:
    run = run_load(
        tmp_path,
        _workload(),
        {"model": "closed", "shape": {"kind": "steady", "users": 11}, "request_timeout_s": 0.8, "stream_share": None},
        fake_server.url,
        duration=1.5,
        drain=3.0,
        name="details",
    )
    assert run.returncode == 0, run.stderr
    for record in run.by_task("timeout"):
        assert 0.75 <= (record.e2e_s or 0) < 2.0
        assert record.ttft_s is None
        assert record.out_tokens == 0
    for record in run.by_task("cut"):
        # Two content chunks arrived before the reset: TTFT is known, the answer is partial.
        assert record.ttft_s is not None
        assert record.out_tokens > 0
        assert record.stream
    for record in run.by_task("ok"):
        assert record.e2e_s is not None
        assert record.ttft_s is not None
        assert record.ttft_s <= record.e2e_s
        assert record.out_tokens > 0
        assert record.in_tokens > 0
        served = (record.model, record.provider, record.route, record.attempts)
        assert served == ("served-model", "prov-a", "primary", 2)
        assert record.fallback
        assert record.cost_usd == 0.00125
    for record in run.by_task("h4xx"):
        assert record.model == "err-model"
        assert record.out_tokens == 0
    assert {r.stream for r in run.by_task("ok")} == {True, False}


def test_connection_refused_is_recorded_as_connect(tmp_path: Path) -> None:
    run = run_load(
        tmp_path,
        {"name": "refused", "classes": [{"name": "chat", "weight": 1, "model": "ok"}]},
        {"model": "open", "shape": {"kind": "steady", "rate": 40}, "connect_timeout_s": 1.0},
        f"http://127.0.0.1:{closed_port()}",
        duration=1.0,
    )
    assert run.returncode == 0, run.stderr
    assert run.summary["sent"] == run.summary["recorded"] == len(run.records) >= 20
    assert {(r.status, r.error) for r in run.records} == {(0, "connect")}
