"""`--seed` really seeds: the same requests in the same order get the same answers, errors and faults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mock_support import TOKEN, admin, chat_body, model_yaml, profile_yaml, raw_post, write_profile

from support.procs import Service


def _session(url: str) -> list[object]:
    """A fixed sequence: error and fault rates at 0.5, streamed and whole requests mixed."""
    admin(url, "POST", "/admin/errors", {"status": 500, "rate": 0.3})
    admin(url, "POST", "/admin/faults", {"kind": "stream_cut", "after_tokens": 3, "rate": 0.5})
    seen: list[object] = []
    for i in range(12):
        reply = raw_post(url, chat_body(stream=i % 2 == 0, max_tokens=40))
        if reply.status != 200:
            seen.append(reply.status)
        elif i % 2 == 0:
            seen.append(("stream", reply.cut, "".join(reply.content()), reply.chunks()[0]["id"]))
        else:
            seen.append(("whole", reply.body.decode().split('"created"')[0], reply.body.decode().split('"choices"')[1]))
    return seen


def test_same_seed_same_everything_other_seed_differs(service_factory: Callable[..., Service], tmp_path: Path) -> None:
    path = write_profile(tmp_path, profile_yaml(models={"fast": model_yaml(ttft=0.002, ttft_p95=0.003, tokens=20)}))
    env = {"GAMEDAY_ADMIN_TOKEN": TOKEN}
    runs = [
        _session(service_factory(["mock", "--profile", str(path), "--seed", seed], name=f"m{i}", env=env).url)
        for i, seed in enumerate(["7", "7", "8"])
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert [s for s in runs[0] if isinstance(s, int)]  # the seed drew some errors
    assert [s for s in runs[0] if isinstance(s, tuple) and s[0] == "stream" and s[1]]  # and some cut streams
