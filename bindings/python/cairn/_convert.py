"""Argument and result conversion between Python objects and the C ABI.

Keys and values go in as bytes (str is encoded as UTF-8); buffers the library
returns are copied into bytes and freed at once with cairn_free(); many keys
or values cross as packed lists (for each item a 4-byte little-endian length,
then the bytes; CAIRN_ABSENT marks a missing item in a result).
"""

from __future__ import annotations

import ctypes
import datetime
import struct
from collections.abc import Iterable
from typing import Any

from . import _ffi, errors

#: What keys and values may be given as. A str is encoded as UTF-8.
BytesLike = bytes | bytearray | memoryview | str

#: A time to live: a duration string such as "30s" or a timedelta.
TTL = str | datetime.timedelta

_LEN = struct.Struct("<I")
_ONE_MS = datetime.timedelta(milliseconds=1)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def to_bytes(data: BytesLike, what: str = "key") -> bytes:
    """`data` as bytes; TypeError for anything but bytes-like objects and str."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes, bytearray, memoryview or str, not {type(data).__name__}")


def to_json_text(data: BytesLike, what: str) -> str:
    """A filter string for JSON options; bytes must be valid UTF-8."""
    if isinstance(data, str):
        return data
    try:
        return to_bytes(data, what).decode("utf-8")
    except UnicodeDecodeError:
        errors.invalid(f"{what} must be valid UTF-8 to cross as JSON")


def parse_duration(text: str) -> int:
    """Milliseconds in a duration such as "500ms", "30s", "5m", "1h", "2d", "1w".

    Calls cairn_parse_duration(), so every binding accepts the same strings.
    Raises InvalidArgument for text it does not accept.
    """
    if not isinstance(text, str):
        raise TypeError(f"a duration must be a str such as '30s', not {type(text).__name__}")
    raw = text.encode("utf-8")
    ms = ctypes.c_int64()
    errors.call(_ffi.lib.cairn_parse_duration, raw, len(raw), ctypes.byref(ms))
    return ms.value


def ttl_to_ms(ttl: TTL | None, ttl_ms: int | None) -> int:
    """The ttl_ms argument of cairn_put(): 0 for no expiry.

    `ttl` is a duration string (parsed by the library) or a positive
    timedelta (rounded up to whole milliseconds); `ttl_ms` is passed on as
    given. At most one of the two may be set.
    """
    if ttl is not None and ttl_ms is not None:
        raise TypeError("pass ttl or ttl_ms, not both")
    if ttl_ms is not None:
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int):
            raise TypeError(f"ttl_ms must be an int, not {type(ttl_ms).__name__}")
        if not _INT64_MIN <= ttl_ms <= _INT64_MAX:  # ctypes would silently wrap it
            errors.invalid(f"ttl_ms {ttl_ms} does not fit in int64_t")
        return ttl_ms
    if ttl is None:
        return 0
    if isinstance(ttl, str):
        return parse_duration(ttl)
    if isinstance(ttl, datetime.timedelta):
        ms = -(-ttl // _ONE_MS)  # ceil: a positive timedelta never becomes 0 (no expiry)
        if ms <= 0:
            errors.invalid(f"ttl must be a positive duration, not {ttl!r}")
        return ms
    raise TypeError(f"ttl must be a duration str such as '1h' or a timedelta, not {type(ttl).__name__}")


def take_buffer(ptr: Any, length: int) -> bytes:
    """Copies a buffer the library returned, then frees it with cairn_free()."""
    if not ptr:
        return b""
    try:
        return ctypes.string_at(ptr, length)
    finally:
        _ffi.lib.cairn_free(ptr)


def pack(items: Iterable[BytesLike], what: str = "key") -> bytes:
    """A packed list of `items`."""
    parts: list[bytes] = []
    for item in items:
        data = to_bytes(item, what)
        if len(data) >= _ffi.ABSENT:
            errors.invalid(f"a {what} of {len(data)} bytes cannot cross in a packed list")
        parts += (_LEN.pack(len(data)), data)
    return b"".join(parts)


def unpack(data: bytes) -> list[bytes | None]:
    """The items of a packed list; None for CAIRN_ABSENT."""
    items: list[bytes | None] = []
    pos, end = 0, len(data)
    while pos < end:
        if pos + 4 > end:
            raise errors.error_for(_ffi.Status.INTERNAL, "the library returned a truncated packed list")
        (n,) = _LEN.unpack_from(data, pos)
        pos += 4
        if n == _ffi.ABSENT:
            items.append(None)
            continue
        if pos + n > end:
            raise errors.error_for(_ffi.Status.INTERNAL, "the library returned a truncated packed list")
        items.append(data[pos : pos + n])
        pos += n
    return items
