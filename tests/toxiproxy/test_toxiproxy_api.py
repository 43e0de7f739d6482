"""Every endpoint and error of the embedded Toxiproxy over raw HTTP, compared with what the real server answers."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests
from tp_support import MakeProxy, TcpServer

ERROR_TYPE = "text/plain; charset=utf-8"


def error_of(reply: requests.Response, status: int, message: str) -> None:
    assert reply.status_code == status
    assert reply.headers["Content-Type"] == ERROR_TYPE
    assert reply.text == json.dumps({"error": message, "status": status}, separators=(",", ":")) + "\n"


def test_version_and_request_id(api: str) -> None:
    reply = requests.get(f"{api}/version", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json;charset=utf-8"
    assert re.fullmatch(r'\{"version": "[0-9][^"]*"\}\n', reply.text)
    assert re.fullmatch(r"[0-9a-v]{20}", reply.headers["X-Toxiproxy-Request-Id"])
    again = requests.get(f"{api}/version", timeout=5)
    assert again.headers["X-Toxiproxy-Request-Id"] != reply.headers["X-Toxiproxy-Request-Id"]


def test_unknown_path_wrong_method_and_browsers(api: str) -> None:
    missing = requests.get(f"{api}/nothing", timeout=5)
    assert (missing.status_code, missing.text) == (404, "404 page not found\n")
    assert missing.headers["Content-Type"] == ERROR_TYPE
    assert requests.get(f"{api}/proxies/", timeout=5).status_code == 404
    wrong = requests.put(f"{api}/proxies", timeout=5)
    assert (wrong.status_code, wrong.content) == (405, b"")
    assert requests.delete(f"{api}/reset", timeout=5).status_code == 405
    browser = requests.get(f"{api}/proxies", headers={"User-Agent": "Mozilla/5.0 (X11)"}, timeout=5)
    assert (browser.status_code, browser.text) == (403, "User agent not allowed\n")


def test_create_list_show_delete(api: str, echo_server: TcpServer) -> None:
    assert requests.get(f"{api}/proxies", timeout=5).json() == {}
    body = {"name": "b", "upstream": echo_server.address, "listen": "127.0.0.1:0"}
    created = requests.post(f"{api}/proxies", json=body, timeout=5)
    assert created.status_code == 201
    assert created.headers["Content-Type"] == "application/json"
    proxy = created.json()
    assert list(proxy) == ["name", "listen", "upstream", "enabled", "toxics"]
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []
    host, port = proxy["listen"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0
    requests.post(f"{api}/proxies", json={**body, "name": "a"}, timeout=5)
    listing = requests.get(f"{api}/proxies", timeout=5).json()
    assert list(listing) == ["a", "b"]  # keyed by name, sorted as Go writes maps
    assert listing["b"] == proxy
    assert requests.get(f"{api}/proxies/b", timeout=5).json() == proxy
    deleted = requests.delete(f"{api}/proxies/b", timeout=5)
    assert (deleted.status_code, deleted.content) == (204, b"")
    error_of(requests.get(f"{api}/proxies/b", timeout=5), 404, "proxy not found")
    error_of(requests.delete(f"{api}/proxies/b", timeout=5), 404, "proxy not found")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()


def test_create_without_listen_takes_any_port_on_all_interfaces(api: str) -> None:
    proxy = requests.post(f"{api}/proxies", json={"name": "any", "upstream": "127.0.0.1:9"}, timeout=5).json()
    host, port = proxy["listen"].rsplit(":", 1)
    assert host in ("[::]", "0.0.0.0")
    assert int(port) > 0
    socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()


def test_create_disabled_does_not_listen(api: str) -> None:
    body = {"name": "off", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:0", "enabled": False}
    proxy = requests.post(f"{api}/proxies", json=body, timeout=5).json()
    assert proxy["enabled"] is False
    assert proxy["listen"] == "127.0.0.1:0"


def test_create_errors(api: str, make_proxy: MakeProxy) -> None:
    first = make_proxy("127.0.0.1:9", name="dup")
    post = lambda body: requests.post(f"{api}/proxies", data=body, timeout=5)  # noqa: E731
    error_of(post(json.dumps({"name": "dup", "upstream": "x:1"})), 409, "proxy already exists")
    error_of(post(json.dumps({"upstream": "x:1"})), 400, "missing required field: name")
    error_of(post(json.dumps({"name": "n"})), 400, "missing required field: upstream")
    error_of(post(""), 400, "bad request body: EOF")
    error_of(post('{"name": "n",'), 400, "bad request body: unexpected EOF")
    error_of(post("nope"), 400, "bad request body: invalid character 'o' in literal null (expecting 'u')")
    error_of(
        post('{"name": 5, "upstream": "x:1"}'),
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string",
    )
    taken = post(json.dumps({"name": "t", "upstream": "x:1", "listen": first["listen"]}))
    error_of(taken, 500, f"listen tcp {first['listen']}: bind: address already in use")
    error_of(
        post(json.dumps({"name": "t", "upstream": "x:1", "listen": "127.0.0.1"})),
        500,
        "listen tcp: address 127.0.0.1: missing port in address",
    )
    assert list(requests.get(f"{api}/proxies", timeout=5).json()) == ["dup"]


def test_keys_match_case_insensitively_and_unknown_keys_are_ignored(api: str) -> None:
    body = {"Name": "c", "UPSTREAM": "127.0.0.1:9", "listen": "127.0.0.1:0", "colour": "red"}
    reply = requests.post(f"{api}/proxies", json=body, timeout=5)
    assert reply.status_code == 201
    assert reply.json()["name"] == "c"


def test_update_proxy(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    proxy = make_proxy(echo_server.address, name="u")
    for method in ("PATCH", "POST"):  # POST is deprecated but still accepted
        reply = requests.request(method, f"{api}/proxies/u", json={"enabled": False, "name": "ignored"}, timeout=5)
        assert reply.status_code == 200
        assert reply.json() == {**proxy, "enabled": False}
        again = requests.request(method, f"{api}/proxies/u", json={"enabled": True}, timeout=5).json()
        assert again == proxy  # the same address again
    moved = requests.patch(f"{api}/proxies/u", json={"listen": "127.0.0.1:0"}, timeout=5).json()
    assert moved["listen"] != proxy["listen"]
    assert moved["enabled"] is True
    error_of(requests.patch(f"{api}/proxies/nope", json={}, timeout=5), 404, "proxy not found")
    error_of(
        requests.patch(f"{api}/proxies/u", data='{"enabled": "yes"}', timeout=5),
        400,
        "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool",
    )


def test_toxic_crud(api: str, make_proxy: MakeProxy) -> None:
    make_proxy("127.0.0.1:9", name="t")
    url = f"{api}/proxies/t/toxics"
    added = requests.post(url, json={"type": "latency", "attributes": {"latency": 100}}, timeout=5)
    assert added.status_code == 200  # not 201, as in Toxiproxy
    assert added.json() == {
        "attributes": {"latency": 100, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    assert list(added.json()) == ["attributes", "name", "type", "stream", "toxicity"]
    up = requests.post(
        url,
        json={"type": "bandwidth", "stream": "UpStream", "toxicity": 0.25, "attributes": {"rate": 5, "x": 1}},
        timeout=5,
    ).json()
    assert up == {
        "attributes": {"rate": 5},
        "name": "bandwidth_UpStream",
        "type": "bandwidth",
        "stream": "UpStream",
        "toxicity": 0.25,
    }
    requests.post(url, json={"type": "noop", "name": "n"}, timeout=5)
    names = [t["name"] for t in requests.get(url, timeout=5).json()]
    assert names == ["bandwidth_UpStream", "latency_downstream", "n"]  # upstream first, then in order added
    assert requests.get(f"{url}/n", timeout=5).json()["attributes"] == {}
    assert requests.get(f"{api}/proxies/t", timeout=5).json()["toxics"][0]["name"] == "bandwidth_UpStream"

    patched = requests.patch(
        f"{url}/latency_downstream", json={"attributes": {"jitter": 7}, "toxicity": 0.5, "type": "x"}, timeout=5
    )
    assert patched.status_code == 200
    assert patched.json()["attributes"] == {"latency": 100, "jitter": 7}  # merged
    assert patched.json()["toxicity"] == 0.5
    assert patched.json()["type"] == "latency"
    assert requests.post(f"{url}/n", json={"toxicity": 0}, timeout=5).json()["toxicity"] == 0

    deleted = requests.delete(f"{url}/n", timeout=5)
    assert (deleted.status_code, deleted.content) == (204, b"")
    error_of(requests.get(f"{url}/n", timeout=5), 404, "toxic not found")
    error_of(requests.delete(f"{url}/n", timeout=5), 404, "toxic not found")
    error_of(requests.patch(f"{url}/n", json={}, timeout=5), 404, "toxic not found")
    error_of(requests.get(f"{api}/proxies/zz/toxics", timeout=5), 404, "proxy not found")
    error_of(requests.post(f"{api}/proxies/zz/toxics", json={}, timeout=5), 404, "proxy not found")


def test_toxic_errors(api: str, make_proxy: MakeProxy) -> None:
    make_proxy("127.0.0.1:9", name="t")
    url = f"{api}/proxies/t/toxics"
    post = lambda body: requests.post(url, json=body, timeout=5)  # noqa: E731
    assert post({"type": "latency", "name": "l"}).status_code == 200
    error_of(post({"type": "latency", "name": "l", "stream": "upstream"}), 409, "toxic already exists")
    error_of(
        post({"type": "latency", "stream": "sideways"}), 400, "stream was invalid, can be either upstream or downstream"
    )
    error_of(post({"type": "latency", "stream": ""}), 400, "stream was invalid, can be either upstream or downstream")
    error_of(post({"type": "teleport"}), 400, "invalid toxic type")
    error_of(post({}), 400, "invalid toxic type")
    error_of(
        post({"type": "latency", "name": "m", "attributes": {"latency": "1s"}}),
        400,
        "bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency of "
        "type int64",
    )
    error_of(
        post({"type": "latency", "name": "m", "attributes": {"latency": 1.5}}),
        400,
        "bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency "
        "of type int64",
    )
    error_of(
        post({"type": "latency", "name": "m", "toxicity": "all"}),
        400,
        "bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32",
    )
    error_of(
        requests.patch(f"{url}/l", json={"attributes": {"jitter": True}}, timeout=5),
        400,
        "bad request body: json: cannot unmarshal bool into Go struct field LatencyToxic.attributes.jitter of type "
        "int64",
    )
    # Better than the real server, which crashes on these: refuse them with a reason.
    negative = post({"type": "bandwidth", "attributes": {"rate": -1}})
    assert negative.status_code == 400
    assert "rate must be 0 or more" in negative.json()["error"]
    for attributes in (
        {"average_size": 0},
        {"average_size": 10, "size_variation": 10},
        {"average_size": 5, "delay": -1},
    ):
        bad = post({"type": "slicer", "attributes": attributes})
        assert bad.status_code == 400, attributes
        assert bad.json()["error"].startswith("bad request body: "), attributes
    assert [t["name"] for t in requests.get(url, timeout=5).json()] == ["l"]


def test_missing_attributes_are_zero(api: str, make_proxy: MakeProxy) -> None:
    make_proxy("127.0.0.1:9", name="t")
    reply = requests.post(
        f"{api}/proxies/t/toxics", json={"type": "slicer", "attributes": {"average_size": 8}}, timeout=5
    )
    assert reply.json()["attributes"] == {"average_size": 8, "size_variation": 0, "delay": 0}


def test_reset(api: str, make_proxy: MakeProxy) -> None:
    proxy = make_proxy("127.0.0.1:9", name="r")
    requests.post(f"{api}/proxies/r/toxics", json={"type": "timeout"}, timeout=5)
    requests.patch(f"{api}/proxies/r", json={"enabled": False}, timeout=5)
    reply = requests.post(f"{api}/reset", timeout=5)
    assert (reply.status_code, reply.content) == (204, b"")
    assert requests.get(f"{api}/proxies/r", timeout=5).json() == {**proxy, "enabled": True, "toxics": []}


def test_populate(api: str, make_proxy: MakeProxy) -> None:
    kept = make_proxy("127.0.0.1:9", name="kept")
    requests.post(f"{api}/proxies/kept/toxics", json={"type": "noop"}, timeout=5)
    changed = make_proxy("127.0.0.1:9", name="changed")
    requests.post(f"{api}/proxies/changed/toxics", json={"type": "noop"}, timeout=5)
    body = [
        {"name": "kept", "upstream": "127.0.0.1:9", "listen": kept["listen"], "enabled": False},
        {"name": "changed", "upstream": "127.0.0.1:10", "listen": "127.0.0.1:0"},
        {"name": "new", "upstream": "127.0.0.1:11", "listen": "127.0.0.1:0"},
    ]
    reply = requests.post(f"{api}/populate", json=body, timeout=5)
    assert reply.status_code == 201
    assert reply.headers["Content-Type"] == "application/json"
    proxies = {p["name"]: p for p in reply.json()["proxies"]}
    assert list(proxies) == ["kept", "changed", "new"]
    assert proxies["kept"]["toxics"]
    assert proxies["kept"]["enabled"] is True
    assert proxies["changed"]["upstream"] == "127.0.0.1:10"
    assert proxies["changed"]["toxics"] == []
    assert proxies["changed"]["listen"] != changed["listen"]
    listing = requests.get(f"{api}/proxies", timeout=5).json()
    assert sorted(listing) == ["changed", "kept", "new"]

    empty = requests.post(f"{api}/populate", json=[], timeout=5)
    assert (empty.status_code, empty.json()) == (201, {"proxies": None})


def test_populate_errors(api: str, make_proxy: MakeProxy) -> None:
    first = make_proxy("127.0.0.1:9", name="first")
    bad = [{"name": "a", "upstream": "x:1", "listen": "127.0.0.1:0"}, {"upstream": "x:1"}]
    reply = requests.post(f"{api}/populate", json=bad, timeout=5)
    assert reply.status_code == 400
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"error": "missing required field: name at proxy 2", "status": 400, "proxies": None}
    assert list(requests.get(f"{api}/proxies", timeout=5).json()) == ["first"]  # nothing applied

    clash = [
        {"name": "a", "upstream": "x:1", "listen": "127.0.0.1:0"},
        {"name": "b", "upstream": "x:1", "listen": first["listen"]},
    ]
    reply = requests.post(f"{api}/populate", json=clash, timeout=5)
    assert reply.status_code == 500
    data = reply.json()
    assert data["error"] == f"listen tcp {first['listen']}: bind: address already in use"
    assert [p["name"] for p in data["proxies"]] == ["a"]  # what was applied before the failure stays
    assert sorted(requests.get(f"{api}/proxies", timeout=5).json()) == ["a", "first"]

    not_a_list = requests.post(f"{api}/populate", json={"name": "a"}, timeout=5)
    assert not_a_list.status_code == 400
    assert not_a_list.json()["error"].startswith("bad request body: json:")
