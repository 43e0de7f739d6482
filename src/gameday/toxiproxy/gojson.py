"""Read and write JSON the way Toxiproxy's Go server does, so clients see the same bodies and messages.

Reading follows `encoding/json`'s `Decoder`: only the first value of a body is read; object keys match
struct fields exactly or case-insensitively; unknown keys are ignored; `null` leaves a field as it was;
a value of the wrong kind is an error worded like Go's. Writing is compact, with Go's HTML escaping
and float32 numbers printed the shortest way.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

__all__ = ["GoDecodeError", "decode_fields", "dumps", "float32", "json_kind", "parse"]


class GoDecodeError(ValueError):
    """A body Go's decoder would refuse; the message is Go's wording."""


class _Number(float):
    """A JSON number with a fraction or exponent, keeping its text for error messages."""

    text: str

    def __new__(cls, text: str) -> _Number:
        value = super().__new__(cls, text)
        value.text = text
        return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_float=_Number, parse_constant=_reject_constant)
_SPACE = " \t\n\r"


def _quote_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + json.dumps(ch, ensure_ascii=False)[1:-1] + "'"


def _innermost(doc: str, end: int) -> str:
    """The innermost open bracket before `end` (outside strings)."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in doc[:end]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _go_syntax_message(exc: json.JSONDecodeError) -> str:
    doc, pos, msg = exc.doc, exc.pos, exc.msg
    if pos >= len(doc.rstrip(_SPACE)) or msg.startswith("Unterminated string"):
        return "unexpected EOF"
    where = "looking for beginning of value"
    if msg.startswith("Expecting value") and doc[pos] in "tfn":
        literal = {"t": "true", "f": "false", "n": "null"}[doc[pos]]
        for i, expected in enumerate(literal):
            if pos + i >= len(doc):
                return "unexpected EOF"
            if doc[pos + i] != expected:
                return f"invalid character {_quote_char(doc[pos + i])} in literal {literal} (expecting '{expected}')"
    if msg.startswith("Expecting property name"):
        where = "looking for beginning of object key string"
    elif msg.startswith("Expecting ':'"):
        where = "after object key"
    elif msg.startswith("Expecting ','"):
        where = "after object key:value pair" if _innermost(doc, pos) == "{" else "after array element"
    elif msg.startswith("Invalid control character"):
        where = "in string literal"
    elif msg.startswith("Invalid \\"):
        where = "in string escape code"
    return f"invalid character {_quote_char(doc[pos])} {where}"


def parse(body: bytes) -> Any:
    """The first JSON value of `body` (trailing data ignored, as Go's Decoder does)."""
    text = body.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(_SPACE))
    if start == len(text):
        raise GoDecodeError("EOF")
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise GoDecodeError(_go_syntax_message(exc)) from None
    except ValueError:  # NaN / Infinity, which Go does not accept
        raise GoDecodeError(f"invalid character {_quote_char(text[start])} looking for beginning of value") from None
    return value


def json_kind(value: Any) -> str:
    """Go's name for the kind of a JSON value: string, number, bool, array, object."""
    return _kind(value).split()[0]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Number):
        return f"number {value.text}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_INT_RANGE = {"int64": (-(1 << 63), (1 << 63) - 1), "int": (-(1 << 63), (1 << 63) - 1)}
_FLOAT32_MAX = 3.4028234663852886e38


def _convert(value: Any, go_type: str) -> Any:
    """`value` as `go_type`, or raise TypeError with Go's name for what was found."""
    if go_type == "string" and isinstance(value, str):
        return value
    if go_type == "bool" and isinstance(value, bool):
        return value
    if go_type in _INT_RANGE and isinstance(value, int) and not isinstance(value, bool):
        low, high = _INT_RANGE[go_type]
        if low <= value <= high:
            return value
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if go_type == "float32" and is_number and abs(float(value)) <= _FLOAT32_MAX:
        return float32(float(value))
    if go_type == "object" and isinstance(value, dict):
        return value
    kind = _kind(value)
    if kind.startswith("number") and go_type not in _INT_RANGE and go_type != "float32":
        kind = "number"  # Go names the literal only when a number does not fit a number type
    raise TypeError(kind)


def decode_fields(
    value: Any,
    fields: Mapping[str, str],
    *,
    struct: str,
    path: str = "",
    value_type: str = "",
) -> dict[str, Any]:
    """Decode a JSON object into `fields` (name -> Go type); returns only the fields present and not null.

    `struct` and `path` name the Go struct and field path in error messages; `value_type` is the Go
    type named when `value` itself is not an object.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        where = f"Go struct field {struct}.{path}" if path else "Go value"
        raise GoDecodeError(f"json: cannot unmarshal {json_kind(value)} into {where} of type {value_type}")
    out: dict[str, Any] = {}
    folded = {name.casefold(): name for name in fields}
    error: str | None = None
    for key, item in value.items():
        name = key if key in fields else folded.get(key.casefold())
        if name is None or item is None:
            continue
        try:
            out[name] = _convert(item, fields[name])
        except TypeError as exc:
            if error is None:  # Go keeps decoding and reports the first mismatch
                field = f"{path}.{name}" if path else name
                error = f"json: cannot unmarshal {exc} into Go struct field {struct}.{field} of type {fields[name]}"
    if error is not None:
        raise GoDecodeError(error)
    return out


def float32(value: float) -> float:
    """`value` rounded to float32 and written with the fewest digits that round-trip, as Go prints it."""
    (f32,) = struct.unpack("f", struct.pack("f", value))
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return candidate
    return f32


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact JSON as Go's `json.Marshal` writes it (integral floats without `.0`, `<>&` escaped)."""
    text = json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()
