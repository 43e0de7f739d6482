"""The malformed corpus: at least 500 cases, deterministic, and each one's expected answer agrees with an
independent, strict reading of an OpenAI chat request (written here, not shared with the generator)."""

from __future__ import annotations

import base64
import json
import math
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from gameday.config.workload import Workload
from gameday.config.yamlio import load_model
from gameday.load.malformed import CorpusPicker, build_corpus, main
from gameday.load.malformed_cases import MalformedCase
from gameday.load.mix import PlanSource
from support.procs import REPO

ROLES = {"system", "user", "assistant", "developer"}
RANGES = {"temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2), "frequency_penalty": (-2, 2)}


class Refused(Exception):
    pass


def _check(condition: bool, why: str) -> None:
    if not condition:
        raise Refused(why)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))


def _strict_json(raw: bytes) -> Any:
    def no_constants(name: str) -> Any:
        raise Refused(f"JSON has no {name}")

    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=no_constants)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be encoded
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise Refused(str(exc)) from None
    return data


def judge(case: MalformedCase) -> str:
    """What a strict gateway answers: `4xx` for anything it must refuse, `2xx` otherwise."""
    try:
        _check(case.content_type == "application/json", "content type")
        data = _strict_json(case.body)
        _check(isinstance(data, dict), "top level is not an object")
        _check(isinstance(data.get("model"), str) and bool(data["model"]), "model")
        messages = data.get("messages")
        _check(isinstance(messages, list) and bool(messages), "messages")
        total = 0
        for message in messages:
            role_ok = isinstance(message, dict) and isinstance(message.get("role"), str) and message["role"] in ROLES
            _check(role_ok, "role")
            content = message.get("content")
            _check(isinstance(content, str), "content")
            _check(bool(_visible(content)), "empty or invisible content")
            _check(not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in content), "controls")
            total += len(content)
        _check(total <= 1_000_000, "past the context window")
        if "max_tokens" in data:
            value = data["max_tokens"]
            _check(isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1_000_000, "max_tokens")
        for name, (low, high) in RANGES.items():
            if name in data:
                _check(_number(data[name]) and low <= data[name] <= high, name)
        if "n" in data:
            _check(isinstance(data["n"], int) and not isinstance(data["n"], bool) and 1 <= data["n"] <= 128, "n")
        if "stream" in data:
            _check(isinstance(data["stream"], bool), "stream")
        if "stream_options" in data:
            _check(isinstance(data["stream_options"], dict), "stream_options")
        if "stop" in data:
            stop = data["stop"]
            stop_list_ok = isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop)
            ok = isinstance(stop, str) or stop_list_ok
            _check(ok, "stop")
        if "logit_bias" in data:
            bias = data["logit_bias"]
            _check(isinstance(bias, dict) and all(_number(v) and -100 <= v <= 100 for v in bias.values()), "logit_bias")
        if "top_logprobs" in data:
            _check(isinstance(data["top_logprobs"], int) and 0 <= data["top_logprobs"] <= 20, "top_logprobs")
    except Refused:
        return "4xx"
    return "2xx"


CORPUS = build_corpus("auto", 600, 0)


def test_the_corpus_has_at_least_500_cases_across_every_category() -> None:
    assert len(CORPUS) == 600
    assert len(build_corpus("auto", 500, 0)) == 500
    categories = Counter(case.category for case in CORPUS)
    assert set(categories) == {
        "broken_json", "wrong_types", "missing_fields", "empty_prompt", "zero_width", "control_chars",
        "invalid_utf8", "gigantic", "absurd_params", "content_type", "prompt_injection",
    }  # fmt: skip
    # Every prefix is mixed: the first 60 cases already cover every category.
    assert {case.category for case in CORPUS[:60]} == set(categories)


def test_the_corpus_is_deterministic() -> None:
    again = build_corpus("auto", 600, 0)
    assert [(c.category, c.name, c.body, c.expect, c.content_type) for c in again] == [
        (c.category, c.name, c.body, c.expect, c.content_type) for c in CORPUS
    ]
    other = build_corpus("auto", 600, 1)
    assert sum(a.body != b.body for a, b in zip(CORPUS, other, strict=True)) > 100


def test_every_expectation_agrees_with_a_strict_reading() -> None:
    disagreements = [(c.category, c.name, c.expect) for c in CORPUS if judge(c) != c.expect]
    assert disagreements == []


def test_only_prompt_injections_expect_success_and_they_are_well_formed_requests() -> None:
    expecting_2xx = [c for c in CORPUS if not c.expected_4xx]
    assert expecting_2xx
    assert {c.category for c in expecting_2xx} == {"prompt_injection"}
    assert all(c.category != "prompt_injection" for c in CORPUS if c.expected_4xx)
    for case in expecting_2xx:
        data = json.loads(case.body)
        assert data["messages"][-1]["role"] == "user"
        assert data["model"] == "auto"


def test_the_gigantic_cases_are_past_any_context_window() -> None:
    gigantic = [c for c in CORPUS if c.category == "gigantic"]
    assert len(gigantic) >= 3
    for case in gigantic:
        text = "".join(m["content"] for m in json.loads(case.body)["messages"])
        assert len(text) / 4 > 256_000  # tokens, at four characters a token


def test_the_picker_sends_every_case_once_before_repeating() -> None:
    picker = CorpusPicker(CORPUS, seed=5)
    first = [picker.next() for _ in range(600)]
    assert len({id(c) for c in first}) == 600
    again = CorpusPicker(CORPUS, seed=5)
    assert [again.next() for _ in range(600)] == first


def test_regular_requests_of_the_shipped_workload_are_valid() -> None:
    # The same strict reading must accept what the load sends normally: only the corpus is malformed.
    workload = load_model(REPO / "scenarios" / "workloads" / "mixed.yaml", Workload)
    plans = PlanSource(workload, seed=1)
    for _ in range(300):
        plan = plans.next()
        case = MalformedCase("regular", plan.task, plan.body, "2xx", plan.content_type)
        assert judge(case) == "2xx", plan.task


def test_the_corpus_exports_as_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    assert main(["--count", "520", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 520
    assert base64.b64decode(rows[0]["body_b64"]) == build_corpus("auto", 520, 0)[0].body
    assert {row["expect"] for row in rows} == {"4xx", "2xx"}
