"""Vectors for vector indexes: lists, array('f') and numpy arrays.

A vector crosses the ABI in the compact binary form include/cairn.h
documents (BSON's vector layout: 0x27, 0, then float32 little-endian, as
Extended JSON binary of subType "09"), so a 384-dimension vector is 1.5 KB
of base64 rather than decimal text. numpy is used when the value is a
numpy array; it is never required.
"""

from __future__ import annotations

import array
import base64
import math
import struct
import sys
from typing import Any

__all__ = ["vector", "vector_bytes"]


def vector_bytes(value: Any) -> bytes:
    """The float32 little-endian bytes of a vector: a list or tuple of
    numbers, an array.array('f' or 'd'), or a one-dimensional numpy array."""
    if isinstance(value, array.array):
        floats = array.array("f", value) if value.typecode != "f" or sys.byteorder != "little" else value
        if sys.byteorder != "little":
            floats.byteswap()
        return floats.tobytes()
    module = type(value).__module__
    if module == "numpy" or module.startswith("numpy."):
        if getattr(value, "ndim", 1) != 1:
            raise ValueError("a vector must be one-dimensional")
        raw: bytes = value.astype("<f4").tobytes()
        return raw
    if isinstance(value, (list, tuple)):
        for i, x in enumerate(value):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError(f"vector component {i} is not a number")
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"vector component {i} is {x}")
        return struct.pack(f"<{len(value)}f", *value)
    raise TypeError(f"a vector is a list of numbers, an array('f') or a numpy array, not {type(value).__name__}")


def vector(value: Any) -> dict[str, Any]:
    """The compact form of a vector, to store in a document or pass as a
    query: {"$binary": {"base64": ..., "subType": "09"}}.

        coll.insert_one({"_id": 1, "embedding": cairn.vector(numpy_row)})
    """
    payload = b"\x27\x00" + vector_bytes(value)
    return {"$binary": {"base64": base64.b64encode(payload).decode("ascii"), "subType": "09"}}


def vector_json(value: Any) -> bytes:
    """The JSON text of vector(value), for the options of a call: base64
    needs no escaping, so it does not go through the JSON encoder (700
    characters at 128 dimensions, which it scanned one by one)."""
    payload = b"\x27\x00" + vector_bytes(value)
    return b'{"$binary":{"base64":"' + base64.b64encode(payload) + b'","subType":"09"}}'
