"""The bill: spend accounting over snapshots, and the reader against a real HTTP endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.measure.bill import BillLedger, BillReader, BillSnapshot, ModelBill, ProviderBill


def ledger_of(points: list[tuple[float, float, float]]) -> BillLedger:
    """(t, usd of premium, usd of efficient) cumulative points."""
    ledger = BillLedger()
    for t, a, b in points:
        ledger.add(
            BillSnapshot(
                t=t,
                bills={
                    "premium": ProviderBill(
                        provider="premium", models={"frontier-large": ModelBill(usd=a)}, total_usd=a
                    ),
                    "efficient": ProviderBill(
                        provider="efficient", models={"swift-mini": ModelBill(usd=b)}, total_usd=b
                    ),
                },
            )
        )
    return ledger


increments = st.lists(
    st.tuples(
        st.floats(min_value=0.1, max_value=20.0),
        st.floats(min_value=0.0, max_value=5.0),
        st.floats(min_value=0.0, max_value=5.0),
    ),
    min_size=1,
    max_size=25,
)


def _cumulative(steps: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    t = a = b = 0.0
    points = [(0.0, 0.0, 0.0)]
    for dt, da, db in steps:
        t, a, b = t + dt, a + da, b + db
        points.append((t, a, b))
    return points


@settings(max_examples=80, deadline=None)
@given(steps=increments, cut1=st.floats(0, 1), cut2=st.floats(0, 1))
def test_spend_is_additive_and_totals_match(steps: list[tuple[float, float, float]], cut1: float, cut2: float) -> None:
    points = _cumulative(steps)
    ledger = ledger_of(points)
    end = points[-1][0]
    x, y = sorted((cut1 * end, cut2 * end))
    total = ledger.spend_between(0.0, end)
    assert total == pytest.approx(points[-1][1] + points[-1][2], abs=1e-9)
    parts = ledger.spend_between(0.0, x) + ledger.spend_between(x, y) + ledger.spend_between(y, end)  # type: ignore[operator]
    assert parts == pytest.approx(total, abs=1e-9)
    by_model = ledger.spend_by_model(0.0, end)
    assert sum(by_model.values()) == pytest.approx(total, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(steps=increments, where=st.floats(0, 1))
def test_peak_per_minute_is_the_worst_window(steps: list[tuple[float, float, float]], where: float) -> None:
    points = _cumulative(steps)
    ledger = ledger_of(points)
    end = points[-1][0]
    total = ledger.spend_between(0.0, end)
    assert total is not None
    peak = ledger.peak_per_min(0.0, end)
    assert peak is not None
    width = min(60.0, end)
    start = where * (end - width)
    window = ledger.spend_between(start, start + width)
    assert window is not None
    # No window of a minute (or of the whole span, when shorter) spends faster than the peak...
    assert peak >= window / width * 60 - 1e-9
    # ...and the peak is never faster than the fastest stretch between two snapshots.
    assert peak <= max(r.usd_per_min for r in ledger.rates(min_interval_s=0.0)) + 1e-9
    if end <= 60:
        assert peak == pytest.approx(total / end * 60)
    assert sum(r.usd for r in ledger.rates()) == pytest.approx(total, abs=1e-9)


def test_peak_uses_a_minute_window() -> None:
    # $1 spent in the first second of two minutes: per-second that would read $60/min; per minute, $1/min.
    ledger = ledger_of([(0, 0, 0), (1, 1.0, 0), (60, 1.0, 0), (120, 1.0, 0)])
    assert ledger.peak_per_min() == pytest.approx(1.0)
    assert ledger.spend_between(0, 0.5) == pytest.approx(0.5)  # linear between snapshots


def test_a_reset_bill_keeps_counting() -> None:
    ledger = ledger_of([(0, 0, 0), (10, 2.0, 0), (20, 0.5, 0)])  # the mock's bill was reset between 10 and 20
    assert ledger.spend_between(0, 20) == pytest.approx(2.5)


def test_no_bill_means_no_spend() -> None:
    ledger = BillLedger()
    assert ledger.empty
    assert ledger.spend_between(0, 10) is None
    assert ledger.peak_per_min() is None


class _Mock(BaseHTTPRequestHandler):
    token = "s3cret"

    def do_GET(self) -> None:
        if self.path != "/admin/bill":
            self.send_error(404)
            return
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(
            {
                "provider": "premium",
                "models": {"frontier-large": {"requests": 3, "input_tokens": 30, "output_tokens": 60, "usd": 0.25}},
                "total_usd": 0.25,
                "since": 1.0,
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mock_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Mock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_reader_takes_snapshots_with_the_token(mock_url: str) -> None:
    with BillReader({"premium": mock_url}, token="s3cret") as reader:
        snap = reader.snapshot(t=5.0, label="phase_end:baseline")
    assert snap.errors == {}
    assert snap.bills["premium"].models["frontier-large"].usd == 0.25
    assert snap.total_usd == 0.25
    assert snap.label == "phase_end:baseline"


def test_reader_reports_errors_without_raising(mock_url: str) -> None:
    with BillReader({"premium": mock_url, "gone": "http://127.0.0.1:9"}, token="wrong", timeout_s=1.0) as reader:
        snap = reader.snapshot(t=1.0)
    assert snap.bills == {}
    assert "401" in snap.errors["premium"]
    assert "GAMEDAY_ADMIN_TOKEN" in snap.errors["premium"]
    assert "failed" in snap.errors["gone"]


def test_ledger_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_of([(0, 0, 0), (10, 1, 2)])
    ledger.save(tmp_path / "bill.json")
    again = BillLedger.load(tmp_path / "bill.json")
    assert again.spend_between(0, 10) == pytest.approx(3.0)
