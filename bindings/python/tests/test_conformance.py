"""Runs every shared conformance case through the C functions (the ctypes layer).

The case format is Tests/conformance/README.md. Each case gets a fresh,
empty database directory. A step's status is the status of its first call
that does not return OK; it must equal the step's "expect" (default "OK").
An unknown op, an unknown field in a step, or an unknown status name fails
the case: nothing is ever skipped. conftest.py prints
`conformance: N cases passed`.

A step that carries "txn" runs on the handle of the transaction begun under
that name (a `cairn_db *` too) instead of the database's; a name begun again
keeps its old handle aside, and every transaction still open when the case
ends is rolled back before the databases are closed.

The runner calls cairn_* directly rather than the Python API, because the
cases exercise the ABI itself: misuse of a closed handle, raw option text,
status codes that the Python API turns into None or exceptions. Only the
byte-level helpers (packed lists, copying and freeing returned buffers and
messages) are the binding's own.

Document steps serialize their JSON fields with the json module (a `*_raw`
field passes its text verbatim) and compare what comes back as plain parsed
JSON (no extended-JSON conversion): arrays in order, object keys in any order
(a key repeated in the library's output fails), numbers by value (1 equals
1.0), and true/false never equal to 1/0.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from ctypes import byref, c_char_p, c_int, c_int64, c_size_t, c_uint64, string_at
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import pytest
from support import repo_path

from cairn import _ffi
from cairn._convert import pack, unpack
from cairn._convert import take_buffer as take
from cairn._ffi import Status, lib
from cairn.errors import take_message

CASES_DIR = repo_path("CAIRN_CONFORMANCE_CASES", "Tests/conformance/cases")
CASE_FILES = sorted(CASES_DIR.glob("*.json"))


class CaseFailed(AssertionError):
    pass


def fail(message: str) -> NoReturn:
    raise CaseFailed(message)


Outcome = tuple[int, str]  # (status, message)
OK: Outcome = (Status.OK, "")


def call(fn: Callable[..., int], *args: Any) -> Outcome:
    """Calls a fallible C function with a trailing errmsg; frees the message."""
    err = c_char_p()
    status = fn(*args, byref(err))
    return status, take_message(err)


def status_text(status: int) -> str:
    return _ffi.status_name(status)


def text_field(step: dict[str, Any], name: str, default: str | None = None) -> bytes:
    value = step.get(name, default)
    if not isinstance(value, str):
        fail(f"field {name!r} must be a string, got {value!r}")
    return value.encode("utf-8")


def int_field(step: dict[str, Any], name: str, default: int | None = None) -> int:
    value = step.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"field {name!r} must be an integer, got {value!r}")
    return value


def ptr(data: bytes) -> Any:
    """A `const uint8_t *` argument: the bytes themselves (see _ffi)."""
    return data


def options_text(step: dict[str, Any]) -> tuple[bytes | None, int]:
    if "options" in step and "options_raw" in step:
        fail("a step takes options or options_raw, not both")
    if "options_raw" in step:
        raw = text_field(step, "options_raw")
        return raw, len(raw)
    if "options" in step:
        if not isinstance(step["options"], dict):
            fail(f"options must be an object, got {step['options']!r}")
        raw = json.dumps(step["options"]).encode("utf-8")
        return raw, len(raw)
    return None, 0


def json_text(
    step: dict[str, Any], name: str, *, required: bool, kind: type | tuple[type, ...] | None = dict
) -> tuple[bytes | None, int]:
    """The JSON text of field `name`, or of `name`_raw verbatim; (NULL, 0) when
    neither is present and the field is optional. `kind` is the JSON type
    (or types) the field must hold (None: any)."""
    raw_name = f"{name}_raw"
    if name in step and raw_name in step:
        fail(f"a step takes {name} or {raw_name}, not both")
    if raw_name in step:
        raw = text_field(step, raw_name)
        return raw, len(raw)
    if name not in step:
        if required:
            fail(f"field {name!r} is required")
        return None, 0
    if kind is not None and not isinstance(step[name], kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join("an object" if k is dict else "an array" for k in kinds)
        fail(f"field {name!r} must be {wanted}, got {step[name]!r}")
    raw = json.dumps(step[name]).encode("utf-8")
    return raw, len(raw)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        fail(f"the library returned an object with a repeated key: {sorted({k for k in keys if keys.count(k) > 1})}")
    return obj


def parse_json(raw: bytes, what: str) -> Any:
    """JSON text the library returned, parsed; fails the case when it is not JSON."""
    try:
        return json.loads(raw, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as exc:
        fail(f"{what}: the library returned malformed JSON ({exc}): {raw!r}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality of parsed JSON: numbers by value, booleans only equal booleans,
    arrays in order, objects regardless of key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def expect_json(step: dict[str, Any], name: str, got: Any, what: str) -> None:
    """Fails unless `got` equals the step's field `name` (when present)."""
    if name in step and not json_equal(got, step[name]):
        fail(f"{what}: expected {json.dumps(step[name])}, got {json.dumps(got)}")


def take_json(text: c_char_p, length: c_size_t, what: str) -> Any:
    """Parses and frees a JSON buffer the library returned; NULL fails the case."""
    if not text:
        fail(f"{what}: the library returned OK but no JSON")
    return parse_json(take(text, length.value), what)


_UPDATE_FIELDS = {"collection", "filter", "options", "expect_matched", "expect_modified", "expect_upserted"}

#: What an update field may hold: update operators, or a pipeline of stages.
_UPDATE_KINDS = (dict, list)

#: The field that runs a key-value or document step on a named transaction.
_TXN = {"txn"}

_EXPLAIN_FIELDS = {"collection", "filter", "options", "expect_plan", "expect_index"} | {
    f"expect_{count}" for count in ("keys_examined", "documents_examined", "returned")
}


class Runner:
    """Runs one case's steps against one database directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.path = workdir / "db"
        self.db: Any = None  # the current handle; kept after close for misuse
        self.opened: list[Any] = []  # every handle ever opened, for cleanup
        self.closed: set[int] = set()
        self.txns: dict[str, Any] = {}  # transaction handles by name; kept after they end, for misuse
        self.open_txns: list[Any] = []  # handles neither committed nor rolled back, for cleanup
        self.h: Any = None  # the handle the current step passes: self.db, or the transaction it names
        self.open_watches: list[Any] = []  # watch handles not yet closed, for cleanup
        self.watches: dict[str, Any] = {}  # watch handles by name; kept after close, for misuse
        self.delivered: dict[str, list[Any]] = {}  # the events each watch delivered, for resume_after

    def txn_name(self, step: dict[str, Any], *, begun: bool) -> str:
        name = step.get("txn")
        if not isinstance(name, str) or not name:
            fail(f"field 'txn' must be a non-empty string, got {name!r}")
        if begun and name not in self.txns:
            fail(f"field 'txn': no transaction {name!r} was begun")
        return name

    def end_txn(self, handle: Any) -> None:
        self.open_txns = [h for h in self.open_txns if h is not handle]

    # -- ops ----------------------------------------------------------------------

    def op_open(self, step: dict[str, Any]) -> Outcome:
        path = self.path
        at = step.get("at")
        if at == "regular_file":
            path = self.workdir / "regular_file"
            path.write_bytes(b"not a database directory\n")
        elif at is not None:
            fail(f"unknown value of 'at': {at!r}")
        raw, raw_len = options_text(step)
        out = _ffi.db_p()
        outcome = call(lib.cairn_open, os.fsencode(path), raw, raw_len, byref(out))
        if outcome[0] == Status.OK:
            self.db = out
            self.opened.append(out)
        return outcome

    def close_current(self) -> Outcome:
        outcome = call(lib.cairn_close, self.db)
        if self.db:
            self.closed.add(id(self.db))
        return outcome

    def op_close(self, step: dict[str, Any]) -> Outcome:
        return self.close_current()

    def op_reopen(self, step: dict[str, Any]) -> Outcome:
        outcome = self.close_current()
        if outcome[0] != Status.OK:
            return outcome
        return self.op_open(step)

    def op_put(self, step: dict[str, Any]) -> Outcome:
        key, value = text_field(step, "key"), text_field(step, "value")
        ttl = int_field(step, "ttl_ms", 0)
        return call(lib.cairn_put, self.h, ptr(key), len(key), ptr(value), len(value), ttl)

    def op_get(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        value, value_len = _ffi.u8_p(), c_size_t()
        outcome = call(lib.cairn_get, self.h, ptr(key), len(key), byref(value), byref(value_len))
        got = take(value, value_len.value)
        if "expect_value" in step:
            if outcome[0] != Status.OK:
                fail(f"get {key!r}: expected the value, got {status_text(outcome[0])} ({outcome[1]})")
            want = text_field(step, "expect_value")
            if got != want:
                fail(f"get {key!r}: expected {want!r}, got {got!r}")
        return outcome

    def op_delete(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        return call(lib.cairn_delete, self.h, ptr(key), len(key))

    def op_delete_range(self, step: dict[str, Any]) -> Outcome:
        start, end = text_field(step, "start"), text_field(step, "end")
        return call(lib.cairn_delete_range, self.h, ptr(start), len(start), ptr(end), len(end))

    def op_get_many(self, step: dict[str, Any]) -> Outcome:
        keys = step.get("keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            fail(f"keys must be an array of strings, got {keys!r}")
        packed = pack(keys)
        values, values_len = _ffi.u8_p(), c_size_t()
        packed_ptr = ptr(packed) if packed else None
        outcome = call(lib.cairn_get_many, self.h, packed_ptr, len(packed), byref(values), byref(values_len))
        got = unpack(take(values, values_len.value))
        if "expect_values" in step and outcome[0] == Status.OK:
            wants = step["expect_values"]
            if not isinstance(wants, list):
                fail(f"expect_values must be an array, got {wants!r}")
            want = [None if w is None else w.encode("utf-8") for w in wants]
            if got != want:
                fail(f"get_many {keys!r}: expected {want!r}, got {got!r}")
        return outcome

    def op_batch(self, step: dict[str, Any]) -> Outcome:
        ops = step.get("ops")
        if not isinstance(ops, list):
            fail(f"ops must be an array, got {ops!r}")
        batch = _ffi.batch_p()
        outcome = call(lib.cairn_batch_new, byref(batch))
        if outcome[0] != Status.OK:
            return outcome
        try:
            for op in ops:
                outcome = self.batch_op(batch, op)
                if outcome[0] != Status.OK:
                    return outcome
            return call(lib.cairn_write, self.h, batch)
        finally:
            status = lib.cairn_batch_free(batch)
            if status != Status.OK:
                fail(f"cairn_batch_free returned {status_text(status)}")

    def batch_op(self, batch: Any, op: dict[str, Any]) -> Outcome:
        if not isinstance(op, dict):
            fail(f"a batch op must be an object, got {op!r}")
        kind = op.get("op")
        fields = {"put": {"key", "value", "ttl_ms"}, "delete": {"key"}, "delete_range": {"start", "end"}}
        if kind not in fields:
            fail(f"unknown batch op {kind!r}")
        unknown = set(op) - fields[kind] - {"op"}
        if unknown:
            fail(f"unknown field(s) {sorted(unknown)} in batch op {kind!r}")
        if kind == "put":
            key, value = text_field(op, "key"), text_field(op, "value")
            ttl = int_field(op, "ttl_ms", 0)
            return call(lib.cairn_batch_put, batch, ptr(key), len(key), ptr(value), len(value), ttl)
        if kind == "delete":
            key = text_field(op, "key")
            return call(lib.cairn_batch_delete, batch, ptr(key), len(key))
        start, end = text_field(op, "start"), text_field(op, "end")
        return call(lib.cairn_batch_delete_range, batch, ptr(start), len(start), ptr(end), len(end))

    def op_scan(self, step: dict[str, Any]) -> Outcome:
        reverse = step.get("reverse", False)
        if not isinstance(reverse, bool):
            fail(f"reverse must be a bool, got {reverse!r}")
        flags = _ffi.ITER_REVERSE if reverse else 0
        limit = int_field(step, "limit") if "limit" in step else None
        it = _ffi.iter_p()
        if "prefix" in step:
            if "start" in step or "end" in step:
                fail("a scan takes prefix or start/end, not both")
            prefix = text_field(step, "prefix")
            outcome = call(lib.cairn_iter_open_prefix, self.h, ptr(prefix), len(prefix), flags, byref(it))
        else:
            start = text_field(step, "start", "")
            end = text_field(step, "end", "")
            outcome = call(lib.cairn_iter_open, self.h, ptr(start), len(start), ptr(end), len(end), flags, byref(it))
        if outcome[0] != Status.OK:
            return outcome
        items: list[list[bytes]] = []
        try:
            if "seek" in step:
                seek = text_field(step, "seek")
                outcome = call(lib.cairn_iter_seek, it, ptr(seek), len(seek))
            if "batch" in step:
                outcome = self.scan_batches(step, it, items, limit)
            elif "keys_only" in step:
                fail("keys_only needs batch")
            while "batch" not in step and outcome[0] == Status.OK and (limit is None or len(items) < limit):
                key, key_len, value, value_len = _ffi.u8_p(), c_size_t(), _ffi.u8_p(), c_size_t()
                outcome = call(lib.cairn_iter_next, it, byref(key), byref(key_len), byref(value), byref(value_len))
                if outcome[0] == Status.DONE:
                    outcome = OK
                    break
                if outcome[0] == Status.OK:
                    v = string_at(value, value_len.value) if value_len.value else b""
                    items.append([string_at(key, key_len.value), v])
        finally:
            status = lib.cairn_iter_close(it)
        if outcome[0] == Status.OK and status != Status.OK:
            outcome = (status, "from cairn_iter_close")
        if "expect_items" in step and outcome[0] == Status.OK:
            want = step["expect_items"]
            if not isinstance(want, list) or not all(isinstance(i, list) and len(i) == 2 for i in want):
                fail(f"expect_items must be an array of [key, value], got {want!r}")
            want_items = [[k.encode("utf-8"), v.encode("utf-8")] for k, v in want]
            if items != want_items:
                fail(f"scan: expected {want_items!r}, got {items!r}")
        return outcome

    def scan_batches(self, step: dict[str, Any], it: Any, items: list[list[bytes]], limit: int | None) -> Outcome:
        """Reads an iterator with cairn_iter_next_batch into `items`."""
        size = int_field(step, "batch")
        keys_only = step.get("keys_only", False)
        if not isinstance(keys_only, bool):
            fail(f"keys_only must be a bool, got {keys_only!r}")
        flags = _ffi.BATCH_KEYS_ONLY if keys_only else 0
        while limit is None or len(items) < limit:
            data, data_len, lengths, count = _ffi.u8_p(), c_size_t(), _ffi.u32_pp._type_(), c_size_t()
            outcome = call(
                lib.cairn_iter_next_batch, it, size, 0, flags, byref(data), byref(data_len), byref(lengths), byref(count)
            )
            if outcome[0] == Status.DONE:
                return OK
            if outcome[0] != Status.OK:
                return outcome
            n = count.value
            if n == 0 or (size > 0 and n > size):
                fail(f"cairn_iter_next_batch returned {n} items for a batch of {size}")
            pieces = [lengths[i] for i in range(n if keys_only else 2 * n)]
            blob = string_at(data, data_len.value)
            if sum(pieces) != len(blob):
                fail(f"cairn_iter_next_batch: lengths add up to {sum(pieces)}, data has {len(blob)} bytes")
            offset = 0
            for i in range(n):
                if limit is not None and len(items) >= limit:
                    break
                k_len = pieces[i if keys_only else 2 * i]
                v_len = 0 if keys_only else pieces[2 * i + 1]
                items.append([blob[offset : offset + k_len], blob[offset + k_len : offset + k_len + v_len]])
                offset += k_len + v_len
        return OK

    def op_put_if_absent(self, step: dict[str, Any]) -> Outcome:
        key, value = text_field(step, "key"), text_field(step, "value")
        ttl = int_field(step, "ttl_ms", 0)
        stored = c_int(-1)
        outcome = call(lib.cairn_put_if_absent, self.h, key, len(key), value, len(value), ttl, byref(stored))
        if outcome[0] == Status.OK and "expect_stored" in step:
            want = step["expect_stored"]
            if not isinstance(want, bool):
                fail(f"expect_stored must be a bool, got {want!r}")
            if bool(stored.value) != want:
                fail(f"put_if_absent {key!r}: stored {stored.value}, want {want}")
        return outcome

    def op_get_ttl(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        ttl = c_int64(-1)
        outcome = call(lib.cairn_get_ttl, self.h, key, len(key), byref(ttl))
        if outcome[0] == Status.OK:
            got = ttl.value
            if "expect_ttl_ms" in step and got != int_field(step, "expect_ttl_ms"):
                fail(f"get_ttl {key!r}: {got} ms, want {step['expect_ttl_ms']}")
            least = int_field(step, "expect_ttl_min", -(2**63))
            most = int_field(step, "expect_ttl_max", 2**63 - 1)
            if not least <= got <= most:
                fail(f"get_ttl {key!r}: {got} ms, want {least}...{most}")
        return outcome

    def op_touch(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        return call(lib.cairn_touch, self.h, key, len(key), int_field(step, "ttl_ms"))

    def op_keys(self, step: dict[str, Any]) -> Outcome:
        raw, raw_len = options_text(step)
        keys, keys_len, count = _ffi.u8_p(), c_size_t(), c_size_t()
        outcome = call(lib.cairn_keys, self.h, raw, raw_len, byref(keys), byref(keys_len), byref(count))
        got = unpack(take(keys, keys_len.value))
        if outcome[0] == Status.OK:
            if count.value != len(got):
                fail(f"keys: count is {count.value} but the list holds {len(got)} keys")
            if "expect_keys" in step:
                want = [k.encode("utf-8") for k in step["expect_keys"]]
                if got != want:
                    fail(f"keys: expected {want!r}, got {got!r}")
        return outcome

    def op_stats(self, step: dict[str, Any]) -> Outcome:
        fields = step.get("expect_fields", [])
        if not isinstance(fields, list):
            fail(f"expect_fields must be an array, got {fields!r}")
        text, text_len = c_char_p(), c_size_t()
        outcome = call(lib.cairn_stats, self.h, byref(text), byref(text_len))
        raw = take(text, text_len.value)
        if outcome[0] == Status.OK:
            try:
                stats = json.loads(raw)
            except ValueError as exc:
                fail(f"stats: not JSON ({exc}): {raw!r}")
            if not isinstance(stats, dict):
                fail(f"stats: not a JSON object: {raw!r}")
            for name in fields:
                value = stats.get(name)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    fail(f"stats: field {name!r} is not a number: {value!r} in {raw!r}")
        return outcome

    def op_parse_duration(self, step: dict[str, Any]) -> Outcome:
        text = text_field(step, "text")
        ms = c_int64(-1)
        outcome = call(lib.cairn_parse_duration, text, len(text), byref(ms))
        if "expect_ms" in step and outcome[0] == Status.OK:
            want = int_field(step, "expect_ms")
            if ms.value != want:
                fail(f"parse_duration {text!r}: expected {want} ms, got {ms.value}")
        return outcome

    def op_flush(self, step: dict[str, Any]) -> Outcome:
        return call(lib.cairn_flush, self.h)

    def op_compact_range(self, step: dict[str, Any]) -> Outcome:
        start = text_field(step, "start") if "start" in step else b""
        end = text_field(step, "end") if "end" in step else b""
        return call(lib.cairn_compact_range, self.h, ptr(start), len(start), ptr(end), len(end))

    def op_sleep(self, step: dict[str, Any]) -> Outcome:
        time.sleep(int_field(step, "ms") / 1000)
        return OK

    # -- document ops -------------------------------------------------------------

    def op_create_collection(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "name")
        options, options_len = json_text(step, "options", required=False)
        return call(lib.cairn_collection_create, self.h, name, len(name), options, options_len)

    def op_drop_collection(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "name")
        return call(lib.cairn_collection_drop, self.h, name, len(name))

    def op_list_collections(self, step: dict[str, Any]) -> Outcome:
        text, text_len = c_char_p(), c_size_t()
        outcome = call(lib.cairn_collection_list, self.h, byref(text), byref(text_len))
        if outcome[0] != Status.OK:
            take(text, text_len.value)
            return outcome
        names = take_json(text, text_len, "list_collections")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            fail(f"list_collections: expected a JSON array of names, got {json.dumps(names)}")
        expect_json(step, "expect_names", names, "list_collections")
        return outcome

    def op_insert_one(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        doc, doc_len = json_text(step, "document", required=True, kind=None)
        out, out_len = c_char_p(), c_size_t()
        if "ttl_ms" in step:
            ttl = int_field(step, "ttl_ms", 0)
            outcome = call(
                lib.cairn_insert_one_with_ttl, self.h, coll, len(coll), doc, doc_len, ttl, byref(out), byref(out_len)
            )
        else:
            outcome = call(lib.cairn_insert_one, self.h, coll, len(coll), doc, doc_len, byref(out), byref(out_len))
        if outcome[0] != Status.OK:
            take(out, out_len.value)
            return outcome
        expect_json(step, "expect_id", take_json(out, out_len, "insert_one _id"), "insert_one _id")
        return outcome

    def op_insert_many(self, step: dict[str, Any]) -> Outcome:
        if "options" in step:
            return self.insert_many_with_options(step)
        if "expect_errors" in step:
            fail("expect_errors needs options")
        coll = text_field(step, "collection")
        docs, docs_len = json_text(step, "documents", required=True, kind=list)
        out, out_len = c_char_p(), c_size_t()
        outcome = call(lib.cairn_insert_many, self.h, coll, len(coll), docs, docs_len, byref(out), byref(out_len))
        if outcome[0] != Status.OK:
            take(out, out_len.value)
            return outcome
        ids = take_json(out, out_len, "insert_many _ids")
        if not isinstance(ids, list) or len(ids) != len(step["documents"]):
            fail(f"insert_many: expected an array of {len(step['documents'])} _ids, got {json.dumps(ids)}")
        expect_json(step, "expect_ids", ids, "insert_many _ids")
        return outcome

    def op_bulk_write(self, step: dict[str, Any]) -> Outcome:
        """cairn_bulk_write: the result, with each error reduced to its index
        and status, is compared whatever the status."""
        coll = text_field(step, "collection")
        operations, operations_len = json_text(step, "operations", required=True, kind=None)
        options, options_len = json_text(step, "options", required=False)
        out, out_len = c_char_p(), c_size_t()
        outcome = call(
            lib.cairn_bulk_write, self.h, coll, len(coll), operations, operations_len, options, options_len,
            byref(out), byref(out_len),
        )
        if not out:
            if outcome[0] == Status.OK or "expect_result" in step:
                fail(f"bulk_write: the library returned {status_text(outcome[0])} and no result_json")
            return outcome
        result = parse_json(take(out, out_len.value), "bulk_write result")
        if not isinstance(result, dict) or not isinstance(result.get("errors"), list):
            fail(f"bulk_write: malformed result {json.dumps(result)}")
        result["errors"] = [{"index": e["index"], "status": e["status"].removeprefix("CAIRN_")} for e in result["errors"]]
        expect_json(step, "expect_result", result, "bulk_write result")
        return outcome

    def insert_many_with_options(self, step: dict[str, Any]) -> Outcome:
        """cairn_insert_many_with_options: inserted_ids and the errors' index
        and status are compared whatever the status; "documents" may be any
        JSON value, so that a case can pass one that is not an array."""
        coll = text_field(step, "collection")
        docs, docs_len = json_text(step, "documents", required=True, kind=None)
        options, options_len = json_text(step, "options", required=True)
        want_errors = step.get("expect_errors")
        if want_errors is not None and not (
            isinstance(want_errors, list)
            and all(
                isinstance(e, dict)
                and set(e) == {"index", "status"}
                and isinstance(e["index"], int)
                and not isinstance(e["index"], bool)
                and e["status"] in Status.__members__
                for e in want_errors
            )
        ):
            fail(f'expect_errors must be an array of {{"index": n, "status": name}}, got {want_errors!r}')
        out, out_len = c_char_p(), c_size_t()
        outcome = call(
            lib.cairn_insert_many_with_options,
            self.h,
            coll,
            len(coll),
            docs,
            docs_len,
            options,
            options_len,
            byref(out),
            byref(out_len),
        )
        if not out:
            if outcome[0] == Status.OK or "expect_ids" in step or "expect_errors" in step:
                fail(f"insert_many: the library returned {status_text(outcome[0])} and no result_json")
            return outcome
        result = parse_json(take(out, out_len.value), "insert_many result")
        if not (
            isinstance(result, dict)
            and {"inserted_ids", "errors"} <= set(result)
            and isinstance(result["inserted_ids"], list)
            and isinstance(result["errors"], list)
            and all(
                isinstance(e, dict)
                and {"index", "status", "message"} <= set(e)
                and isinstance(e["index"], int)
                and isinstance(e["status"], str)
                and e["status"].startswith("CAIRN_")
                and isinstance(e["message"], str)
                for e in result["errors"]
            )
        ):
            fail(f"insert_many: not {{inserted_ids, errors: [{{index, status, message}}]}}: {json.dumps(result)}")
        first = result["errors"][0]["status"] if result["errors"] else "CAIRN_OK"
        if first != status_text(outcome[0]):
            fail(f"insert_many: returned {status_text(outcome[0])}, but the first error is {first}")
        expect_json(step, "expect_ids", result["inserted_ids"], "insert_many inserted_ids")
        reduced = [{"index": e["index"], "status": e["status"].removeprefix("CAIRN_")} for e in result["errors"]]
        expect_json(step, "expect_errors", reduced, "insert_many errors")
        return outcome

    def read_cursor(self, outcome: Outcome, cursor: Any, what: str) -> tuple[Outcome, list[Any]]:
        """Reads a cursor that the call with `outcome` opened until DONE and
        closes it; the outcome of the first call that failed, and the documents."""
        documents: list[Any] = []
        if outcome[0] != Status.OK:
            return outcome, documents
        try:
            while True:
                text, text_len = c_char_p(), c_size_t()
                outcome = call(lib.cairn_cursor_next, cursor, byref(text), byref(text_len))
                if outcome[0] == Status.DONE:
                    outcome = OK
                    break
                if outcome[0] != Status.OK:
                    break
                if not text:
                    fail(f"{what}: cairn_cursor_next returned OK but no document")
                documents.append(parse_json(string_at(text, text_len.value), what))  # borrowed: no free
        finally:
            status = lib.cairn_cursor_close(cursor)
        if outcome[0] == Status.OK and status != Status.OK:
            outcome = (status, "from cairn_cursor_close")
        return outcome, documents

    def read_cursor_batches(self, outcome: Outcome, cursor: Any, size: int) -> tuple[Outcome, list[Any]]:
        """read_cursor with cairn_cursor_next_batch: each batch is one JSON
        array, and each document must also stand where its length says."""
        documents: list[Any] = []
        if outcome[0] != Status.OK:
            return outcome, documents
        try:
            while True:
                text, text_len, lengths, count = c_char_p(), c_size_t(), _ffi.u32_pp._type_(), c_size_t()
                outcome = call(
                    lib.cairn_cursor_next_batch, cursor, size, 0, byref(text), byref(text_len), byref(lengths), byref(count)
                )
                if outcome[0] == Status.DONE:
                    outcome = OK
                    break
                if outcome[0] != Status.OK:
                    break
                blob = string_at(text, text_len.value)  # borrowed: no free
                batch = parse_json(blob, "find")
                n = count.value
                if not isinstance(batch, list) or len(batch) != n or n == 0 or (size > 0 and n > size):
                    fail(f"find: cairn_cursor_next_batch returned {n} documents for a batch of {size}: {blob[:200]!r}")
                offset = 1
                for i in range(n):
                    end = offset + lengths[i]
                    if parse_json(blob[offset:end], "find") != batch[i] or blob[end : end + 1] not in (b",", b"]"):
                        fail(f"find: document {i} of a batch is not where its length says")
                    offset = end + 1
                documents += batch
        finally:
            status = lib.cairn_cursor_close(cursor)
        if outcome[0] == Status.OK and status != Status.OK:
            outcome = (status, "from cairn_cursor_close")
        return outcome, documents

    def expect_documents(self, step: dict[str, Any], documents: list[Any], what: str) -> None:
        if "expect_documents" in step and not isinstance(step["expect_documents"], list):
            fail(f"expect_documents must be an array, got {step['expect_documents']!r}")
        expect_json(step, "expect_documents", documents, what)

    def op_find(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=False)
        options, options_len = json_text(step, "options", required=False)
        cursor = _ffi.cursor_p()
        args = (coll, len(coll), filt, filt_len, options, options_len, byref(cursor))
        opened = call(lib.cairn_find, self.h, *args)
        if "batch" in step:
            outcome, documents = self.read_cursor_batches(opened, cursor, int_field(step, "batch"))
        else:
            outcome, documents = self.read_cursor(opened, cursor, "find")
        if outcome[0] == Status.OK:
            self.expect_documents(step, documents, "find")
        return outcome

    def op_count(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=False)
        count = c_uint64()
        if "options" in step:
            options, options_len = json_text(step, "options", required=True)
            args = (coll, len(coll), filt, filt_len, options, options_len, byref(count))
            outcome = call(lib.cairn_count_with_options, self.h, *args)
        else:
            outcome = call(lib.cairn_count, self.h, coll, len(coll), filt, filt_len, byref(count))
        if outcome[0] == Status.OK and "expect_count" in step:
            want = int_field(step, "expect_count")
            if count.value != want:
                fail(f"count: expected {want}, got {count.value}")
        return outcome

    def update(self, fn: Callable[..., int], step: dict[str, Any], update_field: str) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=True)
        kind = dict if update_field == "replacement" else _UPDATE_KINDS
        upd, upd_len = json_text(step, update_field, required=True, kind=kind)
        options, options_len = json_text(step, "options", required=False)
        out, out_len = c_char_p(), c_size_t()
        args = (coll, len(coll), filt, filt_len, upd, upd_len, options, options_len, byref(out), byref(out_len))
        outcome = call(fn, self.h, *args)
        if outcome[0] != Status.OK:
            take(out, out_len.value)
            return outcome
        op = step["op"]
        result = take_json(out, out_len, op)
        if not isinstance(result, dict) or not {"matched", "modified", "upserted_id"} <= result.keys():
            fail(f"{op}: expected {{matched, modified, upserted_id}}, got {json.dumps(result)}")
        for name in ("matched", "modified"):
            if f"expect_{name}" in step:
                want = int_field(step, f"expect_{name}")
                if not json_equal(result[name], want):
                    fail(f"{op}: expected {name} {want}, got {json.dumps(result[name])} in {json.dumps(result)}")
        if "expect_upserted" in step:
            want_upserted = step["expect_upserted"]
            if not isinstance(want_upserted, bool):
                fail(f"expect_upserted must be a bool, got {want_upserted!r}")
            if (result["upserted_id"] is not None) != want_upserted:
                fail(f"{op}: expected upserted_id {'non-null' if want_upserted else 'null'}, got {json.dumps(result)}")
        return outcome

    def op_update_one(self, step: dict[str, Any]) -> Outcome:
        return self.update(lib.cairn_update_one, step, "update")

    def op_update_many(self, step: dict[str, Any]) -> Outcome:
        return self.update(lib.cairn_update_many, step, "update")

    def op_replace_one(self, step: dict[str, Any]) -> Outcome:
        return self.update(lib.cairn_replace_one, step, "replacement")

    def delete(self, fn: Callable[..., int], step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=True)
        deleted = c_uint64()
        outcome = call(fn, self.h, coll, len(coll), filt, filt_len, byref(deleted))
        if outcome[0] == Status.OK and "expect_deleted" in step:
            want = int_field(step, "expect_deleted")
            if deleted.value != want:
                fail(f"{step['op']}: expected {want} deleted, got {deleted.value}")
        return outcome

    def op_delete_one(self, step: dict[str, Any]) -> Outcome:
        return self.delete(lib.cairn_delete_one, step)

    def op_delete_many(self, step: dict[str, Any]) -> Outcome:
        return self.delete(lib.cairn_delete_many, step)

    # -- document ops: one-shot reads, indexes, collections ---------------------------

    def json_out(self, step: dict[str, Any], fn: Callable[..., int], *args: Any) -> tuple[Outcome, Any]:
        """Calls `fn` with the step's handle, `args` and (char **json, size_t
        *json_len); the outcome, and the returned JSON parsed (None unless OK)."""
        out, out_len = c_char_p(), c_size_t()
        outcome = call(fn, self.h, *args, byref(out), byref(out_len))
        if outcome[0] != Status.OK:
            take(out, out_len.value)
            return outcome, None
        return outcome, take_json(out, out_len, step["op"])

    def expect_document(self, step: dict[str, Any], document: Any, *, null_ok: bool = False) -> None:
        op = step["op"]
        if not isinstance(document, dict) and not (null_ok and document is None):
            fail(f"{op}: expected a document{' or null' if null_ok else ''}, got {json.dumps(document)}")
        if "expect_document" in step:
            want = step["expect_document"]
            if not isinstance(want, dict) and not (null_ok and want is None):
                fail(f"expect_document must be an object{' or null' if null_ok else ''}, got {want!r}")
        expect_json(step, "expect_document", document, op)

    def op_find_one(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=False)
        options, options_len = json_text(step, "options", required=False)
        outcome, document = self.json_out(
            step, lib.cairn_find_one, coll, len(coll), filt, filt_len, options, options_len
        )
        if outcome[0] == Status.OK:
            self.expect_document(step, document)
        return outcome

    def op_find_by_id(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        ident, ident_len = json_text(step, "id", required=True, kind=None)
        outcome, document = self.json_out(step, lib.cairn_find_by_id, coll, len(coll), ident, ident_len)
        if outcome[0] == Status.OK:
            self.expect_document(step, document)
        return outcome

    def op_link(self, step: dict[str, Any]) -> Outcome:
        key, coll = text_field(step, "key"), text_field(step, "collection")
        ident, ident_len = json_text(step, "id", required=True, kind=None)
        metadata, metadata_len = json_text(step, "metadata", required=False, kind=None)
        return call(lib.cairn_link, self.h, key, len(key), coll, len(coll), ident, ident_len, metadata, metadata_len)

    def op_unlink(self, step: dict[str, Any]) -> Outcome:
        key, coll = text_field(step, "key"), text_field(step, "collection")
        ident, ident_len = json_text(step, "id", required=True, kind=None)
        removed = c_int(-1)
        outcome = call(lib.cairn_unlink, self.h, key, len(key), coll, len(coll), ident, ident_len, byref(removed))
        if outcome[0] == Status.OK and "expect_removed" in step:
            want = step["expect_removed"]
            if not isinstance(want, bool):
                fail(f"expect_removed must be a bool, got {want!r}")
            if bool(removed.value) != want:
                fail(f"unlink {key!r}: removed {removed.value}, want {want}")
        return outcome

    def op_unlink_all(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        removed = c_size_t(0)
        outcome = call(lib.cairn_unlink_all, self.h, key, len(key), byref(removed))
        if outcome[0] == Status.OK and "expect_removed" in step and removed.value != int_field(step, "expect_removed", 0):
            fail(f"unlink_all {key!r}: removed {removed.value}, want {step['expect_removed']}")
        return outcome

    def op_key_links(self, step: dict[str, Any]) -> Outcome:
        key = text_field(step, "key")
        outcome, links = self.json_out(step, lib.cairn_key_links, key, len(key))
        if outcome[0] == Status.OK:
            expect_json(step, "expect_links", links, "key_links")
        return outcome

    def op_document_links(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        ident, ident_len = json_text(step, "id", required=True, kind=None)
        outcome, links = self.json_out(step, lib.cairn_document_links, coll, len(coll), ident, ident_len)
        if outcome[0] == Status.OK:
            expect_json(step, "expect_links", links, "document_links")
        return outcome

    def op_distinct(self, step: dict[str, Any]) -> Outcome:
        coll, field = text_field(step, "collection"), text_field(step, "field")
        filt, filt_len = json_text(step, "filter", required=False)
        outcome, values = self.json_out(step, lib.cairn_distinct, coll, len(coll), field, len(field), filt, filt_len)
        if outcome[0] == Status.OK:
            if not isinstance(values, list):
                fail(f"distinct: expected a JSON array, got {json.dumps(values)}")
            if "expect_values" in step and not isinstance(step["expect_values"], list):
                fail(f"expect_values must be an array, got {step['expect_values']!r}")
            expect_json(step, "expect_values", values, "distinct")
        return outcome

    def op_find_one_and_update(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=True)
        upd, upd_len = json_text(step, "update", required=True, kind=_UPDATE_KINDS)
        options, options_len = json_text(step, "options", required=False)
        args = (coll, len(coll), filt, filt_len, upd, upd_len, options, options_len)
        outcome, document = self.json_out(step, lib.cairn_find_one_and_update, *args)
        if outcome[0] == Status.OK:
            self.expect_document(step, document, null_ok=True)
        return outcome

    def op_find_one_and_replace(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=True)
        repl, repl_len = json_text(step, "replacement", required=True)
        options, options_len = json_text(step, "options", required=False)
        args = (coll, len(coll), filt, filt_len, repl, repl_len, options, options_len)
        outcome, document = self.json_out(step, lib.cairn_find_one_and_replace, *args)
        if outcome[0] == Status.OK:
            self.expect_document(step, document, null_ok=True)
        return outcome

    def op_find_one_and_delete(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=True)
        options, options_len = json_text(step, "options", required=False)
        args = (coll, len(coll), filt, filt_len, options, options_len)
        outcome, document = self.json_out(step, lib.cairn_find_one_and_delete, *args)
        if outcome[0] == Status.OK:
            self.expect_document(step, document)
        return outcome

    def op_aggregate(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        pipeline, pipeline_len = json_text(step, "pipeline", required=True, kind=None)
        cursor = _ffi.cursor_p()
        args = (coll, len(coll), pipeline, pipeline_len, byref(cursor))
        outcome, documents = self.read_cursor(call(lib.cairn_aggregate, self.h, *args), cursor, "aggregate")
        if outcome[0] == Status.OK:
            self.expect_documents(step, documents, "aggregate")
        return outcome

    def op_search(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        query = text_field(step, "query")
        options, options_len = json_text(step, "options", required=False)
        cursor = _ffi.cursor_p()
        args = (coll, len(coll), query, len(query), options, options_len, byref(cursor))
        outcome, hits = self.read_cursor(call(lib.cairn_search, self.h, *args), cursor, "search")
        if outcome[0] == Status.OK:
            if "expect_documents" in step:
                expect_json(step, "expect_documents", [hit.get("document") for hit in hits], "search documents")
            if "expect_hits" in step:
                wanted = step["expect_hits"]
                if not isinstance(wanted, list) or len(wanted) != len(hits):
                    fail(f"search: got {len(hits)} hits {hits!r}, want {wanted!r}")
                for hit, want in zip(hits, wanted):
                    for key, value in want.items():
                        if key == "score":
                            if not isinstance(hit.get("score"), (int, float)) or abs(hit["score"] - value) > 1e-6 * abs(value):
                                fail(f"search: score {hit.get('score')!r}, want {value!r} (within 1e-6)")
                        elif key not in hit or not json_equal(hit[key], value):
                            fail(f"search: hit field {key} is {hit.get(key)!r}, want {value!r}")
        return outcome

    def options_search(self, step: dict[str, Any], fn: Any, what: str) -> Outcome:
        """cairn_vector_search and cairn_hybrid_search: options in, documents out."""
        coll = text_field(step, "collection")
        options, options_len = json_text(step, "options", required=True)
        cursor = _ffi.cursor_p()
        args = (coll, len(coll), options, options_len, byref(cursor))
        outcome, documents = self.read_cursor(call(fn, self.h, *args), cursor, what)
        if outcome[0] == Status.OK:
            self.expect_documents(step, documents, what)
        return outcome

    def op_vector_search(self, step: dict[str, Any]) -> Outcome:
        return self.options_search(step, lib.cairn_vector_search, "vector_search")

    def op_hybrid_search(self, step: dict[str, Any]) -> Outcome:
        return self.options_search(step, lib.cairn_hybrid_search, "hybrid_search")

    # -- graphs -------------------------------------------------------------------

    def op_create_graph(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "name")
        declaration, declaration_len = json_text(step, "declaration", required=True)
        return call(lib.cairn_graph_create, self.h, name, len(name), declaration, declaration_len)

    def op_drop_graph(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "name")
        return call(lib.cairn_graph_drop, self.h, name, len(name))

    def op_list_graphs(self, step: dict[str, Any]) -> Outcome:
        outcome, graphs = self.json_out(step, lib.cairn_graph_list)
        if outcome[0] != Status.OK:
            return outcome
        shape = {"name", "edges", "vertices", "weight"}
        if not isinstance(graphs, list) or not all(isinstance(g, dict) and shape <= g.keys() for g in graphs):
            fail(f"list_graphs: expected [{{name, edges, vertices, weight}}, ...], got {json.dumps(graphs)}")
        expect_json(step, "expect_graphs", graphs, "list_graphs")
        return outcome

    def op_graph_query(self, step: dict[str, Any]) -> Outcome:
        graph = text_field(step, "graph")
        query, query_len = json_text(step, "query", required=True)
        cursor = _ffi.cursor_p()
        args = (graph, len(graph), query, query_len, byref(cursor))
        outcome, rows = self.read_cursor(call(lib.cairn_graph_query, self.h, *args), cursor, "graph_query")
        if outcome[0] == Status.OK:
            self.expect_documents(step, rows, "graph_query")
        return outcome

    def op_delete_vertex(self, step: dict[str, Any]) -> Outcome:
        graph = text_field(step, "graph")
        ident, ident_len = json_text(step, "id", required=True, kind=None)
        vertices, edges = c_size_t(), c_size_t()
        outcome = call(lib.cairn_graph_delete_vertex, self.h, graph, len(graph), ident, ident_len,
                       byref(vertices), byref(edges))
        if outcome[0] == Status.OK:
            for name, got in (("expect_vertices", vertices.value), ("expect_edges", edges.value)):
                if name in step and got != int_field(step, name):
                    fail(f"delete_vertex: {name} {step[name]}, got {got}")
        return outcome

    _PLAN_FIELDS: ClassVar[tuple[str, ...]] = (
        "plan", "index", "bounds", "sort_from_index", "keys_examined", "documents_examined", "returned",
    )  # fmt: skip

    def op_explain(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        filt, filt_len = json_text(step, "filter", required=False)
        options, options_len = json_text(step, "options", required=False)
        outcome, plan = self.json_out(step, lib.cairn_explain, coll, len(coll), filt, filt_len, options, options_len)
        if outcome[0] != Status.OK:
            return outcome
        if not isinstance(plan, dict) or not set(self._PLAN_FIELDS) <= plan.keys():
            fail(f"explain: expected an object with {list(self._PLAN_FIELDS)}, got {json.dumps(plan)}")
        if plan["plan"] not in ("collection_scan", "index_scan", "primary_key"):
            fail(f"explain: unknown plan {json.dumps(plan['plan'])} in {json.dumps(plan)}")
        if "expect_plan" in step:
            text_field(step, "expect_plan")
        if "expect_index" in step and step["expect_index"] is not None:
            text_field(step, "expect_index")
        for name in ("plan", "index"):
            if f"expect_{name}" in step and not json_equal(plan[name], step[f"expect_{name}"]):
                fail(f"explain: expected {name} {json.dumps(step[f'expect_{name}'])}, got {json.dumps(plan)}")
        for name in ("keys_examined", "documents_examined", "returned"):
            if f"expect_{name}" in step:
                want = int_field(step, f"expect_{name}")
                if not json_equal(plan[name], want):
                    fail(f"explain: expected {name} {want}, got {json.dumps(plan)}")
        return outcome

    def op_create_index(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        spec, spec_len = json_text(step, "spec", required=True, kind=None)
        name, name_len = c_char_p(), c_size_t()
        outcome = call(lib.cairn_index_create, self.h, coll, len(coll), spec, spec_len, byref(name), byref(name_len))
        if outcome[0] != Status.OK:
            take(name, name_len.value)
            return outcome
        if not name:
            fail("create_index: cairn_index_create returned OK and a NULL *name")
        got = take(name, name_len.value)  # the name itself, not JSON
        if "expect_name" in step:
            want = text_field(step, "expect_name")
            if got != want:
                fail(f"create_index: expected the name {want!r}, got {got!r}")
        return outcome

    def op_drop_index(self, step: dict[str, Any]) -> Outcome:
        coll, name = text_field(step, "collection"), text_field(step, "name")
        return call(lib.cairn_index_drop, self.h, coll, len(coll), name, len(name))

    def op_list_indexes(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        outcome, indexes = self.json_out(step, lib.cairn_index_list, coll, len(coll))
        if outcome[0] != Status.OK:
            return outcome
        shape = {"name", "keys", "unique", "sparse", "state"}
        if not isinstance(indexes, list) or not all(isinstance(i, dict) and shape <= i.keys() for i in indexes):
            fail(f"list_indexes: expected [{{name, keys, unique, sparse, state}}, ...], got {json.dumps(indexes)}")
        if "expect_indexes" in step and not isinstance(step["expect_indexes"], list):
            fail(f"expect_indexes must be an array, got {step['expect_indexes']!r}")
        expect_json(step, "expect_indexes", indexes, "list_indexes")
        return outcome

    def op_rename_collection(self, step: dict[str, Any]) -> Outcome:
        old, new = text_field(step, "from"), text_field(step, "to")
        return call(lib.cairn_collection_rename, self.h, old, len(old), new, len(new))

    def op_collection_stats(self, step: dict[str, Any]) -> Outcome:
        coll = text_field(step, "collection")
        outcome, stats = self.json_out(step, lib.cairn_collection_stats, coll, len(coll))
        if outcome[0] != Status.OK:
            return outcome
        shape = {"name", "documents", "bytes", "primary_key", "schema", "indexes"}
        if not isinstance(stats, dict) or not shape <= stats.keys() or not isinstance(stats["indexes"], list):
            fail(f"collection_stats: expected {{{', '.join(sorted(shape))}}}, got {json.dumps(stats)}")
        size = stats["bytes"]
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            fail(f"collection_stats: bytes is not a number in {json.dumps(stats)}")
        if stats["name"] != coll.decode("utf-8"):
            fail(f"collection_stats: name is {json.dumps(stats['name'])}, not the collection's")
        if "expect_count" in step:
            want = int_field(step, "expect_count")
            if not json_equal(stats["documents"], want):
                fail(f"collection_stats: expected {want} documents, got {json.dumps(stats)}")
        if "expect_index_names" in step:
            if not isinstance(step["expect_index_names"], list):
                fail(f"expect_index_names must be an array, got {step['expect_index_names']!r}")
            if not all(isinstance(i, dict) and "name" in i for i in stats["indexes"]):
                fail(f"collection_stats: every index needs a name, got {json.dumps(stats)}")
            names = [i["name"] for i in stats["indexes"]]
            expect_json(step, "expect_index_names", names, "collection_stats index names")
        return outcome

    # -- transaction ops -----------------------------------------------------------

    def op_begin(self, step: dict[str, Any]) -> Outcome:
        name = self.txn_name(step, begun=False)
        read_only = step.get("read_only", False)
        if not isinstance(read_only, bool):
            fail(f"read_only must be a bool, got {read_only!r}")
        out = _ffi.db_p()
        outcome = call(lib.cairn_txn_begin, self.db, _ffi.TXN_READ_ONLY if read_only else 0, byref(out))
        if outcome[0] != Status.OK:
            if out:
                lib.cairn_txn_rollback(out)
                fail(f"cairn_txn_begin returned {status_text(outcome[0])} but set *out_txn")
            return outcome
        self.txns[name] = out  # a name begun again: its old handle stays in open_txns until it ends
        self.open_txns.append(out)
        return outcome

    def op_commit(self, step: dict[str, Any]) -> Outcome:
        txn = self.txns[self.txn_name(step, begun=True)]
        outcome = call(lib.cairn_txn_commit, txn)
        self.end_txn(txn)  # freed whatever it returned
        return outcome

    def op_rollback(self, step: dict[str, Any]) -> Outcome:
        txn = self.txns[self.txn_name(step, begun=True)]
        status = lib.cairn_txn_rollback(txn)
        self.end_txn(txn)
        return status, ""

    # -- change feed ops -------------------------------------------------------------

    _WATCH_TARGETS: ClassVar[dict[str, int]] = {
        "all": _ffi.WATCH_ALL,
        "collections": _ffi.WATCH_COLLECTIONS,
        "collection": _ffi.WATCH_COLLECTION,
        "key_prefix": _ffi.WATCH_KEY_PREFIX,
    }

    def op_watch_open(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "watch").decode()
        target = step.get("target")
        if target not in self._WATCH_TARGETS:
            fail(f"unknown watch target {target!r}")
        target_bytes = text_field(step, "name") if "name" in step else b""
        options: dict[str, Any] | None = None
        if "options" in step:
            if not isinstance(step["options"], dict):
                fail(f"options must be an object, got {step['options']!r}")
            options = dict(step["options"])
        if "resume_after" in step:
            resume = step["resume_after"]
            events = self.delivered.get(resume.get("watch"), []) if isinstance(resume, dict) else []
            index = resume.get("event") if isinstance(resume, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(events):
                fail(f"resume_after names no delivered event: {resume!r}")
            options = {"resumeAfter": events[index]["_id"], **(options or {})}
        text = json.dumps(options).encode() if options is not None else None
        out = _ffi.watch_p()
        outcome = call(
            lib.cairn_watch_open,
            self.db,
            self._WATCH_TARGETS[target],
            ptr(target_bytes),
            len(target_bytes),
            text,
            len(text) if text else 0,
            byref(out),
        )
        if outcome[0] == Status.OK:
            self.watches[name] = out
            self.open_watches.append(out)
        elif out:
            fail("cairn_watch_open failed but set *out_watch")
        return outcome

    def op_watch_next(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "watch").decode()
        if name not in self.watches:
            fail(f"no watch named {name!r}")
        timeout = int_field(step, "timeout_ms", 0)
        events: list[Any] = []
        while True:
            event, event_len = c_char_p(), c_size_t()
            status, message = call(lib.cairn_watch_next, self.watches[name], timeout, byref(event), byref(event_len))
            if status == Status.DONE:
                if event:
                    fail("cairn_watch_next returned DONE with an event")
                break
            if status != Status.OK:
                return status, message
            parsed = take_json(event, event_len, "event")
            events.append(parsed)
            self.delivered.setdefault(name, []).append(parsed)
        if "expect_events" in step:
            expected = step["expect_events"]
            if not isinstance(expected, list):
                fail("expect_events must be an array")
            if len(events) != len(expected):
                fail(f"got {len(events)} events, want {len(expected)}: {json.dumps(events)}")
            for index, (event, want) in enumerate(zip(events, expected)):
                for key, value in want.items():
                    if key == "$absent":
                        present = [field for field in value if field in event]
                        if present:
                            fail(f"event {index} has {present}: {json.dumps(event)}")
                    elif key not in event or not json_equal(event[key], value):
                        fail(f"event {index}: {key} is {json.dumps(event.get(key))}, want {json.dumps(value)} in {json.dumps(event)}")
        if "expect_commits" in step:
            sizes: list[int] = []
            last: Any = None
            for event in events:
                if sizes and event.get("seq") == last:
                    sizes[-1] += 1
                else:
                    sizes.append(1)
                last = event.get("seq")
            expect_json(step, "expect_commits", sizes, "commits")
        return OK

    def op_watch_close(self, step: dict[str, Any]) -> Outcome:
        name = text_field(step, "watch").decode()
        if name not in self.watches:
            fail(f"no watch named {name!r}")
        handle = self.watches[name]
        self.open_watches = [h for h in self.open_watches if h is not handle]
        return lib.cairn_watch_close(handle), ""

    # -- time series --------------------------------------------------------------

    def _ts_expect_count(self, step: dict[str, Any], name: str, got: int) -> None:
        if name in step and got != int_field(step, name):
            fail(f"{step['op']}: expected {name[7:]} {step[name]}, got {got}")

    def op_ts_write(self, step: dict[str, Any]) -> Outcome:
        text = json.dumps(step.get("points"), separators=(",", ":")).encode()
        written = c_size_t()
        outcome = call(lib.cairn_ts_write, self.h, text, len(text), byref(written))
        if outcome[0] == Status.OK:
            self._ts_expect_count(step, "expect_written", written.value)
        return outcome

    def op_ts_import(self, step: dict[str, Any]) -> Outcome:
        lines = text_field(step, "lines")
        options, options_len = json_text(step, "options", required=False)
        written = c_size_t()
        outcome = call(lib.cairn_ts_import, self.h, lines, len(lines), options, options_len, byref(written))
        if outcome[0] == Status.OK:
            self._ts_expect_count(step, "expect_written", written.value)
        return outcome

    _TS_QUERIES: ClassVar[dict[str, str]] = {
        "range": "cairn_ts_range", "last": "cairn_ts_last", "series": "cairn_ts_series", "aggregate": "cairn_ts_aggregate",
    }

    def op_ts_query(self, step: dict[str, Any]) -> Outcome:
        kind = step.get("kind")
        if kind not in self._TS_QUERIES:
            fail(f"ts_query: unknown kind {kind!r}")
        query, query_len = json_text(step, "query", required=True)
        cursor = _ffi.cursor_p()
        opened = call(getattr(lib, self._TS_QUERIES[kind]), self.h, query, query_len, byref(cursor))
        outcome, rows = self.read_cursor(opened, cursor, "ts_query")
        if outcome[0] == Status.OK:
            expect_json(step, "expect_rows", rows, "ts_query")
        return outcome

    def op_ts_delete(self, step: dict[str, Any]) -> Outcome:
        query, query_len = json_text(step, "query", required=True)
        return call(lib.cairn_ts_delete, self.h, query, query_len, None)

    def op_ts_create_rule(self, step: dict[str, Any]) -> Outcome:
        rule, rule_len = json_text(step, "rule", required=True)
        return call(lib.cairn_ts_create_rule, self.h, rule, rule_len)

    def op_ts_set_retention(self, step: dict[str, Any]) -> Outcome:
        metric = text_field(step, "metric")
        return call(lib.cairn_ts_set_retention, self.h, metric, len(metric), int_field(step, "keep_ms"))

    def op_ts_maintain(self, step: dict[str, Any]) -> Outcome:
        report, length = c_char_p(), c_size_t()
        outcome = call(lib.cairn_ts_maintain, self.h, int_field(step, "now_ms"), byref(report), byref(length))
        take(report, length.value)
        return outcome

    def op_ts_compact(self, step: dict[str, Any]) -> Outcome:
        return call(lib.cairn_ts_compact, self.h, None)

    # -- driver -------------------------------------------------------------------

    FIELDS: ClassVar[dict[str, set[str]]] = {
        "open": {"options", "options_raw", "at"},
        "close": set(),
        "reopen": {"options"},
        "put": _TXN | {"key", "value", "ttl_ms"},
        "get": _TXN | {"key", "expect_value"},
        "delete": _TXN | {"key"},
        "delete_range": _TXN | {"start", "end"},
        "get_many": _TXN | {"keys", "expect_values"},
        "batch": _TXN | {"ops"},
        "scan": _TXN | {"start", "end", "prefix", "reverse", "seek", "limit", "batch", "keys_only", "expect_items"},
        "put_if_absent": _TXN | {"key", "value", "ttl_ms", "expect_stored"},
        "get_ttl": _TXN | {"key", "expect_ttl_ms", "expect_ttl_min", "expect_ttl_max"},
        "touch": _TXN | {"key", "ttl_ms"},
        "keys": _TXN | {"options", "options_raw", "expect_keys"},
        "stats": _TXN | {"expect_fields"},
        "parse_duration": {"text", "expect_ms"},
        "sleep": {"ms"},
        "flush": _TXN,
        "compact_range": _TXN | {"start", "end"},
        "create_collection": _TXN | {"name", "options"},
        "drop_collection": _TXN | {"name"},
        "list_collections": _TXN | {"expect_names"},
        "insert_one": _TXN | {"collection", "document", "document_raw", "ttl_ms", "expect_id"},
        "link": _TXN | {"key", "collection", "id", "metadata"},
        "unlink": _TXN | {"key", "collection", "id", "expect_removed"},
        "unlink_all": _TXN | {"key", "expect_removed"},
        "key_links": _TXN | {"key", "expect_links"},
        "document_links": _TXN | {"collection", "id", "expect_links"},
        "insert_many": _TXN | {"collection", "documents", "options", "expect_ids", "expect_errors"},
        "find": _TXN | {"collection", "filter", "filter_raw", "options", "batch", "expect_documents"},
        "bulk_write": _TXN | {"collection", "operations", "options", "expect_result"},
        "count": _TXN | {"collection", "filter", "options", "expect_count"},
        "update_one": _TXN | _UPDATE_FIELDS | {"update", "update_raw"},
        "update_many": _TXN | _UPDATE_FIELDS | {"update", "update_raw"},
        "replace_one": _TXN | _UPDATE_FIELDS | {"replacement"},
        "delete_one": _TXN | {"collection", "filter", "expect_deleted"},
        "delete_many": _TXN | {"collection", "filter", "expect_deleted"},
        "find_one": _TXN | {"collection", "filter", "options", "expect_document"},
        "find_by_id": _TXN | {"collection", "id", "expect_document"},
        "distinct": _TXN | {"collection", "field", "filter", "expect_values"},
        "find_one_and_update": _TXN | {"collection", "filter", "update", "options", "expect_document"},
        "find_one_and_replace": _TXN | {"collection", "filter", "replacement", "options", "expect_document"},
        "find_one_and_delete": _TXN | {"collection", "filter", "options", "expect_document"},
        "aggregate": _TXN | {"collection", "pipeline", "pipeline_raw", "expect_documents"},
        "vector_search": _TXN | {"collection", "options", "options_raw", "expect_documents"},
        "hybrid_search": _TXN | {"collection", "options", "options_raw", "expect_documents"},
        "search": _TXN | {"collection", "query", "options", "expect_documents", "expect_hits"},
        "create_graph": _TXN | {"name", "declaration", "declaration_raw"},
        "drop_graph": _TXN | {"name"},
        "list_graphs": _TXN | {"expect_graphs"},
        "graph_query": _TXN | {"graph", "query", "query_raw", "expect_documents"},
        "delete_vertex": _TXN | {"graph", "id", "expect_vertices", "expect_edges"},
        "explain": _TXN | _EXPLAIN_FIELDS,
        "create_index": _TXN | {"collection", "spec", "spec_raw", "expect_name"},
        "drop_index": _TXN | {"collection", "name"},
        "list_indexes": _TXN | {"collection", "expect_indexes"},
        "rename_collection": _TXN | {"from", "to"},
        "collection_stats": _TXN | {"collection", "expect_count", "expect_index_names"},
        "begin": {"txn", "read_only"},
        "commit": {"txn"},
        "rollback": {"txn"},
        "watch_open": {"watch", "target", "name", "options", "resume_after"},
        "watch_next": {"watch", "timeout_ms", "expect_events", "expect_commits"},
        "watch_close": {"watch"},
        "ts_write": {"points", "expect_written"},
        "ts_import": {"lines", "options", "expect_written"},
        "ts_query": {"kind", "query", "expect_rows"},
        "ts_delete": {"query"},
        "ts_create_rule": {"rule"},
        "ts_set_retention": {"metric", "keep_ms"},
        "ts_maintain": {"now_ms"},
        "ts_compact": set(),
    }

    def run_step(self, step: Any) -> None:
        if not isinstance(step, dict):
            fail(f"a step must be an object, got {step!r}")
        op = step.get("op")
        if op not in self.FIELDS:
            fail(f"unknown op {op!r}")
        unknown = set(step) - self.FIELDS[op] - {"op", "expect"}
        if unknown:
            fail(f"unknown field(s) {sorted(unknown)} in op {op!r}")
        expect = step.get("expect", "OK")
        if expect not in Status.__members__:
            fail(f"unknown status name in expect: {expect!r}")
        # A step naming a transaction passes its handle; begin's "txn" is the name it gives.
        self.h = self.txns[self.txn_name(step, begun=True)] if "txn" in step and op != "begin" else self.db
        status, message = getattr(self, f"op_{op}")(step)
        if status != Status[expect]:
            fail(f"expected CAIRN_{expect}, got {status_text(status)}: {message or '(no message)'}")

    def run(self, case: dict[str, Any]) -> None:
        steps = case.get("steps")
        if not isinstance(steps, list) or not steps:
            fail("a case needs a non-empty array of steps")
        try:
            for index, step in enumerate(steps):
                try:
                    self.run_step(step)
                except CaseFailed as exc:
                    raise CaseFailed(f"step {index} {json.dumps(step)}: {exc}") from None
        finally:
            for watch in self.open_watches:
                lib.cairn_watch_close(watch)
            for txn in self.open_txns:
                lib.cairn_txn_rollback(txn)
            for handle in self.opened:
                if id(handle) not in self.closed:
                    call(lib.cairn_close, handle)


@pytest.mark.parametrize("case_file", CASE_FILES or [CASES_DIR], ids=lambda p: p.stem)
def test_case(case_file: Path, tmp_path: Path) -> None:
    assert CASE_FILES, f"no conformance cases (*.json) found in {CASES_DIR}"
    case = json.loads(case_file.read_text(encoding="utf-8"))
    assert isinstance(case, dict), f"{case_file.name}: a case must be a JSON object"
    Runner(tmp_path).run(case)
