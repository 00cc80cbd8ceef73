"""Documents, filters and updates between Python values and the JSON text of cairn.h.

The library speaks extended JSON for the two types plain JSON lacks; this
module maps them, and nothing else, through the json module's hooks:

    Python                          JSON text
    datetime.datetime           ->  {"$date": "2026-11-21T16:17:05.123Z"}
                                    naive means UTC, aware is converted to UTC;
                                    milliseconds (microseconds are truncated)
    {"$date": "...Z"}           ->  datetime.datetime, aware, in UTC
    bytes, bytearray, memoryview -> {"$binary": {"base64": "...", "subType": "00"}}
    {"$binary": {... "00"}}     ->  bytes (other subtypes stay dicts, unchanged)
    float("inf"), float("nan")  ->  {"$numberDouble": "Infinity"} ("-Infinity",
                                    "NaN"), and back
    int, float, str, bool, None, dict, list, tuple: as the json module does.

An extended JSON object this module cannot turn into a Python value (another
$binary subtype, a date outside datetime's years 1 to 9999) stays the dict the
library wrote, which encodes back to the same text, so nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import threading
from collections.abc import Mapping
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from . import errors
from ._ffi import Status

__all__ = ["dumps", "loads"]

_UTC = datetime.timezone.utc
_GENERIC_SUBTYPE = "00"


def _default(value: Any) -> Any:
    """json.dumps' hook for values it cannot write itself."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_UTC)
        return {
            "$date": f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
        }
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$binary": {"base64": base64.b64encode(value).decode("ascii"), "subType": _GENERIC_SUBTYPE}}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a document cannot hold a value of type {type(value).__name__}: {value!r}")


def _object_hook(obj: dict[str, Any]) -> Any:
    """json.loads' hook: each object, innermost first."""
    if len(obj) != 1:
        return obj
    if "$date" in obj:
        text = obj["$date"]
        if isinstance(text, str) and text.endswith("Z"):
            try:
                # fromisoformat() reads "+00:00" but, before Python 3.11, not "Z".
                return datetime.datetime.fromisoformat(text[:-1] + "+00:00")
            except ValueError:
                pass
        return obj
    special = obj.get("$numberDouble")
    if isinstance(special, str):
        try:
            return float(special)  # "Infinity", "-Infinity", "NaN" and decimals
        except ValueError:
            return obj
    binary = obj.get("$binary")
    if isinstance(binary, dict) and binary.keys() == {"base64", "subType"} and binary["subType"] == _GENERIC_SUBTYPE:
        try:
            return base64.b64decode(binary["base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            pass
    return obj


class _Codec(threading.local):
    """The json module's C encoder, made once per thread: json.dumps(), and
    even a kept JSONEncoder's encode(), build a new one for every call,
    which costs more than encoding a small filter does. Its table of the
    containers being encoded (to catch circular values) is the thread's
    own, so that two threads encoding one dict never see each other's."""

    def __init__(self) -> None:
        self.markers: dict[int, Any] = {}
        self.encoder = (
            None
            if c_make_encoder is None
            else c_make_encoder(self.markers, _default, encode_basestring, None, ":", ",", False, False, False)
        )


_codec = _Codec()
_slow_encode = json.JSONEncoder(default=_default, ensure_ascii=False, allow_nan=False).encode


def _encode(value: Any) -> str:
    encoder = _codec.encoder
    if encoder is None:
        return _slow_encode(value)
    try:
        return "".join(encoder(value, 0))
    except BaseException:
        _codec.markers.clear()  # an error leaves the containers it was in
        raise


#: Decoders: json.loads() first guesses the encoding of bytes and matches
#: whitespace around the value with regular expressions; the library's text
#: has none, so its scanner is called directly, and the full decoder only
#: explains a failure.
_decode = json.JSONDecoder().decode
_decode_extended = json.JSONDecoder(object_hook=_object_hook).decode
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_scan_extended = json.JSONDecoder(object_hook=_object_hook).scan_once  # type: ignore[attr-defined]


def dumps(value: Any, what: str) -> bytes:
    """`value` as UTF-8 JSON text for the library. `what` names the argument
    ("document", "filter", ...) in errors: TypeError for a value of a type
    JSON cannot hold, InvalidArgument for one it cannot hold as given (a NaN,
    a circular reference, a lone surrogate, nesting deeper than Python's
    json module can recurse). A key that is not a str raises TypeError, where
    the json module would silently turn 1, None or True into "1", "null" or
    "true"."""
    _check_keys(value, what)
    try:
        try:
            return _encode(value).encode("utf-8")
        except ValueError as exc:
            if "float" not in str(exc):
                raise
            # Infinity or NaN somewhere: plain JSON cannot hold them.
            return _encode(_non_finite_as_extended(value)).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"{what}: {exc}") from None
    except ValueError as exc:  # UnicodeEncodeError is a ValueError too
        errors.invalid(f"{what}: {exc}")
    except RecursionError:
        # The library refuses such documents too (more than 100 deep); say
        # so as it would, not with Python's RecursionError.
        errors.invalid(f"{what}: nested too deeply")


#: How deep _check_keys looks. Deeper (or circular) values are left to
#: json.dumps, which refuses them.
_KEY_CHECK_DEPTH = 2000


def _check_keys(value: Any, what: str) -> None:
    """TypeError for a mapping key anywhere in `value` that is not a str.
    Iterative, so that deep values cannot overflow the stack here. Plain
    dicts, lists and str keys, nearly every value, take the fast checks of
    exact types before the abstract ones."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _KEY_CHECK_DEPTH:
            continue
        kind = type(item)
        if kind is dict or (kind is not list and kind is not tuple and isinstance(item, Mapping)):
            for key, child in item.items():
                if type(key) is not str and not isinstance(key, str):
                    raise TypeError(
                        f"{what}: document keys must be str, not {type(key).__name__} ({key!r})"
                    )
                child_kind = type(child)
                if child_kind is dict or child_kind is list or child_kind is tuple or (
                    child_kind not in _SCALARS and isinstance(child, Mapping)
                ):
                    stack.append((child, depth + 1))
        elif kind is list or kind is tuple or isinstance(item, (list, tuple)):
            stack.extend(
                (child, depth + 1)
                for child in item
                if type(child) not in _SCALARS and isinstance(child, (Mapping, list, tuple))
            )


#: Types that hold no keys, skipped without an isinstance() walk of the ABCs.
_SCALARS = frozenset({str, int, float, bool, type(None), bytes, datetime.datetime})


def _non_finite_as_extended(value: Any) -> Any:
    """`value` with every infinite or NaN float as {"$numberDouble": ...}."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$numberDouble": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, Mapping):
        return {key: _non_finite_as_extended(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_non_finite_as_extended(item) for item in value]
    return value


def loads(text: bytes) -> Any:
    """The Python value of JSON text the library returned; InternalError if
    the text is not JSON (a library bug)."""
    try:
        # Every extended JSON object has a key starting with '$', so text
        # without '"$' needs no hook, and the parser calls none per object.
        decoded = text.decode("utf-8")
        plain = '"$' not in decoded
        try:
            value, end = (_scan if plain else _scan_extended)(decoded, 0)
            if end == len(decoded):
                return value
        except StopIteration:
            pass
        return (_decode if plain else _decode_extended)(decoded)
    except ValueError as exc:
        message = f"the library returned malformed JSON ({exc}): {text[:200]!r}"
        raise errors.error_for(Status.INTERNAL, message) from None
