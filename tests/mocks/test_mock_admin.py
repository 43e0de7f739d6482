"""The admin API of a live mock: access, every endpoint, error rates, rate limits, prices and the bill."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
import requests
from aiohttp.test_utils import make_mocked_request
from mock_support import AUTH, TOKEN, admin, chat, chat_body, raw_post

from gameday.config.profile import ProviderProfile
from gameday.config.yamlio import load_model
from gameday.errors import FaultError
from gameday.faults.mock_admin import MockAdminClient
from gameday.mocks.admin import check_admin_access
from gameday.mocks.state import MockState
from gameday.mocks.wire import ApiError
from support.procs import REPO, Service


def test_admin_requires_the_bearer_token(mock: str) -> None:
    missing = requests.get(f"{mock}/admin/state", timeout=10)
    assert missing.status_code == 401
    assert "GAMEDAY_ADMIN_TOKEN" in missing.json()["error"]["message"]
    wrong = requests.get(f"{mock}/admin/state", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert admin(mock, "GET", "/admin/state").status_code == 200


def test_admin_refuses_peers_off_loopback_and_answers_503_without_a_token() -> None:
    profile = load_model(REPO / "mocks" / "efficient.yaml", ProviderProfile)
    request = make_mocked_request("GET", "/admin/state", headers=AUTH).clone(remote="10.1.2.3")
    with pytest.raises(ApiError) as info:
        check_admin_access(request, MockState(profile, admin_token=TOKEN))
    assert info.value.status == 403
    assert "loopback" in info.value.message
    local = make_mocked_request("GET", "/admin/state", headers=AUTH).clone(remote="::1")
    check_admin_access(local, MockState(profile, admin_token=TOKEN))
    with pytest.raises(ApiError) as info:
        check_admin_access(local, MockState(profile, admin_token=None))
    assert info.value.status == 503
    assert "GAMEDAY_ADMIN_TOKEN" in info.value.message


def test_mock_started_without_token_answers_503(service_factory: Callable[..., Service]) -> None:
    svc = service_factory(
        ["mock", "--profile", "mocks/efficient.yaml"], name="notoken", env={"GAMEDAY_ADMIN_TOKEN": ""}
    )
    reply = requests.get(f"{svc.url}/admin/state", headers=AUTH, timeout=10)
    assert reply.status_code == 503
    assert "without GAMEDAY_ADMIN_TOKEN" in reply.json()["error"]["message"]
    assert requests.get(f"{svc.url}/health", timeout=10).status_code == 200


def test_clean_state_has_empty_errors_and_faults(mock: str) -> None:
    state = admin(mock, "GET", "/admin/state").json()
    assert state["provider"] == "testprov"
    assert state["errors"] == []
    assert state["faults"] == []
    assert state["prices"]["fast"] == {"input": 2.0, "output": 8.0, "overridden": False}
    assert state["capacity"]["fast"]["max_concurrency"] == 32


BAD_BODIES = [
    ("/admin/errors", {"status": 418, "rate": 0.5}, "status", "429, 500, 502, 503 or 529"),
    ("/admin/errors", {"status": 500, "rate": 2}, "rate", "less than or equal to 1"),
    ("/admin/errors", {"status": 500}, "rate", "required"),
    ("/admin/errors", {"status": 500, "rate": 1, "model": "nope"}, "model", "fast, limited, other, tiny-ctx"),
    ("/admin/errors", {"status": 500, "rate": 1, "colour": 1}, "colour", "Allowed fields: status, rate"),
    ("/admin/prices", {"model": "fast", "input": -1, "output": 1}, "input", "greater than or equal to 0"),
    ("/admin/capacity", {"model": "fast", "max_concurrency": 0}, "max_concurrency", "greater than or equal to 1"),
    ("/admin/faults", {"kind": "meltdown", "rate": 1}, "kind", "first_token_delay"),
    ("/admin/faults", {"rate": 1}, "kind", "kind"),
    ("/admin/faults", {"kind": "stall", "after_tokens": 2}, "stall_s", "required"),
    ("/admin/faults", {"kind": "truncated_body", "keep_fraction": 1.5}, "keep_fraction", "less than 1"),
]


@pytest.mark.parametrize(("path", "body", "field", "hint"), BAD_BODIES)
def test_bad_admin_bodies_get_400_naming_the_field(mock: str, path: str, body: dict, field: str, hint: str) -> None:
    reply = admin(mock, "POST", path, body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == field
    assert error["message"].startswith(f"{field}: ")
    assert hint in error["message"]


def test_error_rate_with_retry_after_then_cleared(mock: str) -> None:
    assert admin(mock, "POST", "/admin/errors", {"status": 503, "rate": 1, "retry_after_s": 2}).ok
    reply = chat(mock)
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "2"
    assert reply.json()["error"]["type"] == "server_error"
    admin(mock, "POST", "/admin/errors", {"status": 503, "rate": 0})
    assert admin(mock, "GET", "/admin/state").json()["errors"] == []
    assert chat(mock).status_code == 200


@pytest.mark.parametrize(("status", "code"), [(429, "rate_limit_exceeded"), (500, None), (502, "bad_gateway")])
def test_each_error_status_has_its_body(mock: str, status: int, code: str | None) -> None:
    admin(mock, "POST", "/admin/errors", {"status": status, "rate": 1})
    reply = chat(mock)
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    if status == 429:
        assert reply.headers["Retry-After"] == "1"  # a 429 always says when to come back


def test_529_is_anthropic_overloaded_and_per_model(mock: str) -> None:
    admin(mock, "POST", "/admin/errors", {"status": 529, "rate": 1, "model": "other"})
    reply = chat(mock, model="other")
    assert reply.status_code == 529
    assert reply.json() == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert chat(mock, model="fast").status_code == 200
    assert admin(mock, "DELETE", "/admin/errors").json() == {"errors": []}
    assert chat(mock, model="other").status_code == 200


def test_error_rate_is_a_share_of_requests(mock: str) -> None:
    admin(mock, "POST", "/admin/errors", {"status": 500, "rate": 0.5})
    statuses = Counter(chat(mock, max_tokens=1).status_code for _ in range(60))
    assert 15 <= statuses[500] <= 45, statuses
    assert statuses[500] + statuses[200] == 60


def test_rate_limit_answers_429_with_retry_after(mock: str) -> None:
    replies = [chat(mock, model="limited", max_tokens=1) for _ in range(4)]
    assert [r.status_code for r in replies[:3]] == [200, 200, 200]
    assert replies[0].headers["x-ratelimit-limit-requests"] == "3"
    limited = replies[3]
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert "requests per min (RPM): Limit 3" in error["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 20  # 3 a minute: one back every 20 s
    assert int(limited.headers["retry-after-ms"]) > 0


def test_bill_counts_tokens_and_usd_per_model_and_resets(mock: str) -> None:
    a = chat(mock, max_tokens=5).json()["usage"]
    b = raw_post(mock, chat_body(model="other", stream=True, stream_options={"include_usage": True}))
    b_usage = b.chunks()[-1]["usage"]
    chat(mock, model="nope")  # refused requests cost nothing
    bill = admin(mock, "GET", "/admin/bill").json()
    assert bill["provider"] == "testprov"
    assert bill["models"]["fast"] == {
        "requests": 1,
        "input_tokens": a["prompt_tokens"],
        "output_tokens": 5,
        "usd": pytest.approx((a["prompt_tokens"] * 2.0 + 5 * 8.0) / 1e6),
    }
    assert bill["models"]["other"]["output_tokens"] == b_usage["completion_tokens"] == 12
    assert bill["models"]["limited"]["requests"] == 0
    expected = (a["prompt_tokens"] * 2 + 5 * 8 + b_usage["prompt_tokens"] * 1 + 12 * 4) / 1e6
    assert bill["total_usd"] == pytest.approx(expected)
    admin(mock, "POST", "/admin/reset")
    assert admin(mock, "GET", "/admin/bill").json()["total_usd"] == pytest.approx(expected)  # reset keeps the bill
    held = admin(mock, "POST", "/admin/bill/reset").json()
    assert held["total_usd"] == pytest.approx(expected)
    fresh = admin(mock, "GET", "/admin/bill").json()
    assert fresh["total_usd"] == 0
    assert fresh["since"] >= held["since"]


def test_price_change_moves_pricing_and_the_bill_from_then_on(mock: str) -> None:
    before = requests.get(f"{mock}/pricing", timeout=10).json()
    # A request that starts before the change pays the old price even if it ends after it.
    fault = admin(mock, "POST", "/admin/faults", {"kind": "first_token_delay", "delay_s": 1.0, "rate": 1}).json()
    slow: list[dict] = []
    worker = threading.Thread(target=lambda: slow.append(chat(mock, max_tokens=2).json()))
    worker.start()
    deadline = time.monotonic() + 10
    while not admin(mock, "GET", "/admin/state").json()["capacity"]["fast"]["running"]:  # wait until it started
        assert time.monotonic() < deadline
        time.sleep(0.02)
    admin(mock, "DELETE", f"/admin/faults/{fault['id']}")
    assert admin(mock, "POST", "/admin/prices", {"model": "fast", "input": 20.0, "output": 80.0}).ok
    after = requests.get(f"{mock}/pricing", timeout=10).json()
    assert after["models"]["fast"] == {"input": 20.0, "output": 80.0}
    assert after["updated_at"] > before["updated_at"]
    worker.join(10)
    new = chat(mock, max_tokens=2).json()["usage"]
    old = slow[0]["usage"]
    bill = admin(mock, "GET", "/admin/bill").json()["models"]["fast"]
    old_usd = (old["prompt_tokens"] * 2.0 + 2 * 8.0) / 1e6
    new_usd = (new["prompt_tokens"] * 20.0 + 2 * 80.0) / 1e6
    assert bill["usd"] == pytest.approx(old_usd + new_usd)
    assert admin(mock, "DELETE", "/admin/prices").ok
    assert requests.get(f"{mock}/pricing", timeout=10).json()["models"] == before["models"]


def test_setting_the_profile_price_back_leaves_no_override(mock: str) -> None:
    # A price fault removed by writing the old price back must leave the mock as clean as a reset would.
    base = requests.get(f"{mock}/pricing", timeout=10).json()["models"]["fast"]
    admin(mock, "POST", "/admin/prices", {"model": "fast", "input": 20.0, "output": 80.0})
    assert admin(mock, "GET", "/admin/state").json()["prices"]["fast"]["overridden"] is True
    admin(mock, "POST", "/admin/prices", {"model": "fast", **base})
    state = admin(mock, "GET", "/admin/state").json()["prices"]["fast"]
    assert state == {**base, "overridden": False}


def test_capacity_override_and_restore(mock: str) -> None:
    reply = admin(mock, "POST", "/admin/capacity", {"model": "fast", "max_concurrency": 1, "max_queue": 0})
    assert reply.json()["capacity"]["fast"]["max_concurrency"] == 1
    assert admin(mock, "GET", "/admin/state").json()["capacity"]["fast"]["overridden"] is True
    admin(mock, "POST", "/admin/faults", {"kind": "first_token_delay", "delay_s": 0.4, "rate": 1})
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        statuses = sorted(pool.map(lambda _: chat(mock, max_tokens=1).status_code, range(3)))
    assert statuses == [200, 503, 503]  # one slot, no queue: the others are refused
    restored = admin(mock, "DELETE", "/admin/capacity").json()["capacity"]["fast"]
    assert (restored["max_concurrency"], restored["max_queue"], restored["overridden"]) == (32, 64, False)


def test_faults_add_list_delete_and_reset(mock: str) -> None:
    first = admin(mock, "POST", "/admin/faults", {"kind": "stream_cut", "after_tokens": 3, "rate": 0.5})
    assert first.status_code == 201
    fid = first.json()["id"]
    second = admin(mock, "POST", "/admin/faults", {"kind": "stall", "stall_s": 1, "model": "fast"}).json()["id"]
    faults = admin(mock, "GET", "/admin/state").json()["faults"]
    assert faults[0] == {"id": fid, "kind": "stream_cut", "rate": 0.5, "model": None, "after_tokens": 3}
    assert faults[1]["stall_s"] == 1
    assert admin(mock, "DELETE", f"/admin/faults/{fid}").status_code == 200
    gone = admin(mock, "DELETE", f"/admin/faults/{fid}")
    assert gone.status_code == 404
    assert fid in gone.json()["error"]["message"]
    assert [f["id"] for f in admin(mock, "GET", "/admin/state").json()["faults"]] == [second]
    admin(mock, "POST", "/admin/errors", {"status": 500, "rate": 0.1})
    admin(mock, "POST", "/admin/prices", {"model": "other", "input": 9, "output": 9})
    state = admin(mock, "POST", "/admin/reset").json()
    assert state["faults"] == []
    assert state["errors"] == []
    assert state["prices"]["other"]["overridden"] is False


def test_mock_admin_client_works_unchanged(mock: str) -> None:
    with MockAdminClient(mock, TOKEN) as client:
        client.set_errors(429, 0.5, retry_after_s=3, model="fast")
        assert client.state()["errors"] == [{"status": 429, "rate": 0.5, "retry_after_s": 3.0, "model": "fast"}]
        client.set_errors(429, 0.0, model="fast")
        client.set_price("fast", 4.0, 16.0)
        assert client.prices()["fast"].input == 4.0
        client.restore_prices()
        client.set_capacity("fast", max_concurrency=2)
        client.restore_capacity()
        fault_id = client.add_fault("sse_error", 1.0, model="other", after_tokens=2)
        assert client.remove_fault(fault_id) is True
        assert client.remove_fault(fault_id) is False
        client.add_fault("truncated_body", 0.5, keep_fraction=0.3)
        client.clear_faults()
        client.clear_errors()
        chat(mock, max_tokens=3)
        assert client.bill().models["fast"].output_tokens == 3
        assert client.reset_bill().models["fast"].requests == 1
        assert client.bill().total_usd == 0
        client.reset()
        assert client.state()["faults"] == []
    with MockAdminClient(mock, "wrong") as client, pytest.raises(FaultError, match="admin token refused"):
        client.state()
