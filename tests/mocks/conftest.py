"""One shared mock provider (a small, fast profile) for the tests that do not need their own.

The `mock` fixture hands it over clean (no errors, faults, overrides; a fresh bill) and cleans up
after each test whatever the test did.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from mock_support import AUTH, TOKEN, model_yaml, profile_yaml, write_profile

from support.procs import Service, start_service

SHARED_MODELS = {
    "fast": model_yaml(),
    "other": model_yaml(input=1.0, output=4.0),
    "tiny-ctx": model_yaml(context=64),
}
LIMITED = model_yaml().replace("    capacity:", "    rate_limits: {requests_per_minute: 3}\n    capacity:")


@pytest.fixture(scope="module")
def shared_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("mock")
    path = write_profile(root, profile_yaml(models={**SHARED_MODELS, "limited": LIMITED}))
    svc = start_service(
        ["mock", "--profile", str(path), "--seed", "3"], root, name="mock", env={"GAMEDAY_ADMIN_TOKEN": TOKEN}
    )
    yield svc
    svc.stop()


@pytest.fixture
def mock(shared_mock: Service) -> Iterator[str]:
    url = shared_mock.url
    requests.post(f"{url}/admin/reset", headers=AUTH, timeout=10).raise_for_status()
    requests.post(f"{url}/admin/bill/reset", headers=AUTH, timeout=10).raise_for_status()
    yield url
    requests.post(f"{url}/admin/reset", headers=AUTH, timeout=10).raise_for_status()
