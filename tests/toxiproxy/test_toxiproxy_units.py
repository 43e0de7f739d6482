"""Pure pieces of the embedded Toxiproxy: Go-style JSON, addresses, slicing, locating the real server."""

from __future__ import annotations

import os
import random
import socket
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameday.toxiproxy import gojson
from gameday.toxiproxy.addr import split_host_port
from gameday.toxiproxy.locate import find_toxiproxy_server, toxiproxy_command
from gameday.toxiproxy.toxics import TOXIC_TYPES
from gameday.toxiproxy.toxics.slicer import slice_sizes
from support.procs import run_cli


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "EOF"),
        (b"  \n", "EOF"),
        (b'{"a": 1', "unexpected EOF"),
        (b'{"a": "b', "unexpected EOF"),
        (b"{a: 1}", "invalid character 'a' looking for beginning of object key string"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b"tru", "unexpected EOF"),
        (b"fals3", "invalid character '3' in literal false (expecting 'e')"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
    ],
)
def test_parse_errors_use_go_wording(body: bytes, message: str) -> None:
    with pytest.raises(gojson.GoDecodeError) as err:
        gojson.parse(body)
    assert str(err.value) == message


def test_parse_reads_only_the_first_value() -> None:
    assert gojson.parse(b'{"name": "a"} trailing garbage') == {"name": "a"}


def test_decode_fields_like_go() -> None:
    fields = {"name": "string", "enabled": "bool", "rate": "int64"}
    value = {"NAME": "x", "name": "y", "enabled": None, "other": [1], "rate": 5}
    assert gojson.decode_fields(value, fields, struct="S") == {"name": "y", "rate": 5}
    with pytest.raises(gojson.GoDecodeError, match="cannot unmarshal number 99999999999999999999 into"):
        gojson.decode_fields({"rate": 99999999999999999999}, fields, struct="S")
    with pytest.raises(gojson.GoDecodeError, match=r"cannot unmarshal array into Go value of type pkg\.S"):
        gojson.decode_fields([], fields, struct="S", value_type="pkg.S")


@given(st.floats(min_value=0, max_value=1))
def test_float32_prints_the_shortest_round_trip(value: float) -> None:
    printed = gojson.float32(value)
    assert gojson.float32(printed) == printed
    assert abs(printed - value) <= 1e-7


def test_dumps_like_go_marshal() -> None:
    assert gojson.dumps({"a": 1.0, "b": 0.5, "c": "<&>"}) == b'{"a":1,"b":0.5,"c":"\\u003c\\u0026\\u003e"}'


@pytest.mark.parametrize(
    ("address", "parts"),
    [("127.0.0.1:80", ("127.0.0.1", "80")), ("[::1]:0", ("::1", "0")), (":9", ("", "9")), ("h:", ("h", ""))],
)
def test_split_host_port(address: str, parts: tuple[str, str]) -> None:
    assert split_host_port(address) == parts


@pytest.mark.parametrize(
    ("address", "reason"),
    [("localhost", "missing port in address"), ("::1:80", "too many colons in address"), ("[::1", "missing ']'")],
)
def test_split_host_port_errors(address: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("[", r"\[")):
        split_host_port(address)


@given(
    total=st.integers(0, 5000),
    average=st.integers(1, 300),
    variation_share=st.floats(0, 0.99),
    seed=st.integers(0, 2**32),
)
def test_slices_cover_the_chunk(total: int, average: int, variation_share: float, seed: int) -> None:
    variation = int(average * variation_share)
    sizes = slice_sizes(total, average, variation, random.Random(seed))
    assert sum(sizes) == total
    assert all(0 < s <= average + variation for s in sizes)
    assert all(s >= average - variation for s in sizes[:-1])


def test_every_toxic_is_registered_once_by_its_name() -> None:
    assert set(TOXIC_TYPES) == {
        "noop",
        "latency",
        "bandwidth",
        "slow_close",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
    }
    assert all(cls.type_name == name for name, cls in TOXIC_TYPES.items())


def test_find_toxiproxy_server(tmp_path: Path) -> None:
    assert find_toxiproxy_server(path=str(tmp_path)) is None
    fake = tmp_path / "toxiproxy-server"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert find_toxiproxy_server(path=os.pathsep.join(["/nonexistent", str(tmp_path)])) == str(fake)


def test_toxiproxy_command_falls_back_to_the_embedded_server() -> None:
    cmd = toxiproxy_command("127.0.0.1", 8474, seed=3, ready_file="r", prefer_real=False)
    assert cmd[1:4] == ["-m", "gameday", "toxiproxy"]
    assert cmd[4:] == ["--host", "127.0.0.1", "--port", "8474", "--seed", "3", "--ready-file", "r"]


def test_cli_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("toxiproxy", "--port", str(taken.getsockname()[1]), timeout=30)
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
