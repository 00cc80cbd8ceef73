"""The ctypes layer: loads libcairn.so and declares every function of cairn.h.

This module is the only place that knows the C signatures. It mirrors
include/cairn.h, which is the source of truth; tests/test_header.py parses
the header and checks, both ways, that every function declared there appears
in FUNCTIONS below with the same argument and result types.

Type mapping (C -> ctypes), used consistently:

    void                      None
    int, size_t, int64_t      c_int, c_size_t, c_int64
    const char *              c_char_p                  (JSON text and names, with a length)
    char **, const char **    POINTER(c_char_p)
    void *                    c_void_p
    const uint8_t *           c_char_p                  (binary input, with a length: bytes
                                                         are passed as they are, ctypes hands
                                                         the library the object's own buffer,
                                                         without a copy or a cast per call)
    uint8_t *                 POINTER(c_uint8)          (an output buffer the caller owns)
    uint8_t **, const uint8_t **   POINTER(POINTER(c_uint8))
    const uint32_t **         POINTER(POINTER(c_uint32))
    size_t *, int64_t *       POINTER(c_size_t), POINTER(c_int64)
    uint64_t *                POINTER(c_uint64)
    const double *            POINTER(c_double)
    cairn_db * (opaque)       POINTER(cairn_db), and likewise for batch, iter, cursor
    cairn_db **               POINTER(POINTER(cairn_db))

The library is loaded from beside this file (libcairn.so is package data),
or from the path in the environment variable CAIRN_LIBRARY when it is set.
Loading refuses a library whose cairn_abi_version() differs from ABI_VERSION.
"""

from __future__ import annotations

import ctypes
import enum
import os
from ctypes import (
    POINTER,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any

#: The ABI version of include/cairn.h this binding was written for.
ABI_VERSION = 1

#: CAIRN_ABSENT: the packed-list length that marks an absent item.
ABSENT = 0xFFFFFFFF

#: CAIRN_ITER_REVERSE: flag for cairn_iter_open() and cairn_iter_open_prefix().
ITER_REVERSE = 1

#: CAIRN_BATCH_KEYS_ONLY: flag for cairn_iter_next_batch().
BATCH_KEYS_ONLY = 1

#: CAIRN_TXN_READ_ONLY: flag for cairn_txn_begin().
TXN_READ_ONLY = 0x1

#: Targets of cairn_watch_open(): CAIRN_WATCH_ALL, CAIRN_WATCH_COLLECTIONS,
#: CAIRN_WATCH_COLLECTION, CAIRN_WATCH_KEY_PREFIX.
WATCH_ALL = 0
WATCH_COLLECTIONS = 1
WATCH_COLLECTION = 2
WATCH_KEY_PREFIX = 3

#: The file name of the shared library inside the package.
LIBRARY_NAME = "libcairn.so"


class Status(enum.IntEnum):
    """enum cairn_status. The numbers are part of the ABI and never change."""

    OK = 0
    NOT_FOUND = 1
    INVALID_ARGUMENT = 2
    IO_ERROR = 3
    CORRUPTION = 4
    BUSY = 5
    CLOSED = 6
    CONFLICT = 7
    CONSTRAINT = 8
    SCHEMA = 9
    NO_SPACE = 10
    INTERNAL = 11
    NO_MEMORY = 12
    INTERRUPTED = 13
    HISTORY_LOST = 14
    READ_ONLY = 15
    DONE = 100


# Opaque handle types: never instantiated, only pointed to. Distinct types
# let ctypes reject an iterator passed where a database is expected.
class cairn_db(ctypes.Structure):
    """Opaque `struct cairn_db`."""


class cairn_batch(ctypes.Structure):
    """Opaque `struct cairn_batch`."""


class cairn_iter(ctypes.Structure):
    """Opaque `struct cairn_iter`."""


class cairn_cursor(ctypes.Structure):
    """Opaque `struct cairn_cursor`."""


class cairn_watch(ctypes.Structure):
    """Opaque `struct cairn_watch`."""


#: The callback types of cairn_watch_subscribe().
cairn_watch_callback = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_size_t)
cairn_destroy_callback = ctypes.CFUNCTYPE(None, c_void_p)

db_p = POINTER(cairn_db)
batch_p = POINTER(cairn_batch)
iter_p = POINTER(cairn_iter)
cursor_p = POINTER(cairn_cursor)
watch_p = POINTER(cairn_watch)
u8_p = POINTER(c_uint8)
u8_pp = POINTER(u8_p)
u32_pp = POINTER(POINTER(c_uint32))
#: `const uint8_t *` input (see the type mapping above).
in_p = c_char_p
char_pp = POINTER(c_char_p)
size_p = POINTER(c_size_t)
u64_p = POINTER(c_uint64)

# The arguments shared by cairn_update_one, cairn_update_many, cairn_replace_one,
# cairn_find_one_and_update and cairn_find_one_and_replace (whose last
# out-parameters are json, json_len).
# fmt: off
_UPDATE_ARGS = (
    db_p,
    c_char_p, c_size_t,  # collection
    c_char_p, c_size_t,  # filter_json
    c_char_p, c_size_t,  # update_json (replacement_json)
    c_char_p, c_size_t,  # options_json
    char_pp, size_p,     # result_json, result_len
    char_pp,             # errmsg
)

# The arguments shared by cairn_find_one, cairn_find_one_and_delete and cairn_explain.
_FIND_JSON_ARGS = (
    db_p,
    c_char_p, c_size_t,  # collection
    c_char_p, c_size_t,  # filter_json
    c_char_p, c_size_t,  # options_json
    char_pp, size_p,     # json, json_len
    char_pp,             # errmsg
)
# fmt: on

# The one table: (name, restype, argtypes) for every function in cairn.h,
# in header order. Add a row here whenever the header gains a function.
FUNCTIONS: tuple[tuple[str, Any, tuple[Any, ...]], ...] = (
    # Versions
    ("cairn_version", c_char_p, ()),
    ("cairn_abi_version", c_int, ()),
    # Status codes, memory, durations
    ("cairn_status_name", c_char_p, (c_int,)),
    ("cairn_free", None, (c_void_p,)),
    ("cairn_parse_duration", c_int, (c_char_p, c_size_t, POINTER(c_int64), char_pp)),
    # Opening and closing a database
    ("cairn_open", c_int, (c_char_p, c_char_p, c_size_t, POINTER(db_p), char_pp)),
    ("cairn_close", c_int, (db_p, char_pp)),
    ("cairn_repair", c_int, (c_char_p, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_stats", c_int, (db_p, char_pp, size_p, char_pp)),
    ("cairn_metrics", c_int, (db_p, char_pp, size_p, char_pp)),
    ("cairn_interrupt", c_int, (db_p,)),
    ("cairn_flush", c_int, (db_p, char_pp)),
    ("cairn_compact_range", c_int, (db_p, in_p, c_size_t, in_p, c_size_t, char_pp)),
    # Key-value
    ("cairn_put", c_int, (db_p, in_p, c_size_t, in_p, c_size_t, c_int64, char_pp)),
    ("cairn_get", c_int, (db_p, in_p, c_size_t, u8_pp, size_p, char_pp)),
    ("cairn_get_into", c_int, (db_p, in_p, c_size_t, u8_p, c_size_t, size_p, char_pp)),
    ("cairn_delete", c_int, (db_p, in_p, c_size_t, char_pp)),
    ("cairn_delete_range", c_int, (db_p, in_p, c_size_t, in_p, c_size_t, char_pp)),
    ("cairn_get_many", c_int, (db_p, in_p, c_size_t, u8_pp, size_p, char_pp)),
    ("cairn_keys", c_int, (db_p, c_char_p, c_size_t, u8_pp, size_p, size_p, char_pp)),
    # Key-value: put if absent, reading and changing a TTL
    ("cairn_put_if_absent", c_int, (db_p, in_p, c_size_t, in_p, c_size_t, c_int64, POINTER(c_int), char_pp)),
    ("cairn_get_ttl", c_int, (db_p, in_p, c_size_t, POINTER(c_int64), char_pp)),
    ("cairn_touch", c_int, (db_p, in_p, c_size_t, c_int64, char_pp)),
    # Write batches
    ("cairn_batch_new", c_int, (POINTER(batch_p), char_pp)),
    ("cairn_batch_free", c_int, (batch_p,)),
    ("cairn_batch_put", c_int, (batch_p, in_p, c_size_t, in_p, c_size_t, c_int64, char_pp)),
    ("cairn_batch_delete", c_int, (batch_p, in_p, c_size_t, char_pp)),
    ("cairn_batch_delete_range", c_int, (batch_p, in_p, c_size_t, in_p, c_size_t, char_pp)),
    ("cairn_batch_clear", c_int, (batch_p,)),
    ("cairn_batch_count", c_int, (batch_p, size_p)),
    ("cairn_write", c_int, (db_p, batch_p, char_pp)),
    # Iterators
    ("cairn_iter_open", c_int, (db_p, in_p, c_size_t, in_p, c_size_t, c_int, POINTER(iter_p), char_pp)),
    ("cairn_iter_open_prefix", c_int, (db_p, in_p, c_size_t, c_int, POINTER(iter_p), char_pp)),
    ("cairn_iter_seek", c_int, (iter_p, in_p, c_size_t, char_pp)),
    ("cairn_iter_next", c_int, (iter_p, u8_pp, size_p, u8_pp, size_p, char_pp)),
    (
        "cairn_iter_next_batch",
        c_int,
        (iter_p, c_size_t, c_size_t, c_int, u8_pp, size_p, u32_pp, size_p, char_pp),
    ),
    ("cairn_iter_close", c_int, (iter_p,)),
    # Documents
    ("cairn_collection_create", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp)),
    ("cairn_collection_drop", c_int, (db_p, c_char_p, c_size_t, char_pp)),
    ("cairn_collection_list", c_int, (db_p, char_pp, size_p, char_pp)),
    ("cairn_insert_one", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_insert_one_with_ttl", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_int64, char_pp, size_p, char_pp)),
    ("cairn_link", c_int, (db_p, in_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, char_pp)),
    ("cairn_unlink", c_int, (db_p, in_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(c_int), char_pp)),
    ("cairn_unlink_all", c_int, (db_p, in_p, c_size_t, size_p, char_pp)),
    ("cairn_key_links", c_int, (db_p, in_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_document_links", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_insert_many", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    (
        "cairn_insert_many_with_options",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp),
    ),
    (
        "cairn_bulk_write",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp),
    ),
    (
        "cairn_find",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp),
    ),
    (
        "cairn_vector_search",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp),
    ),
    (
        "cairn_hybrid_search",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp),
    ),
    ("cairn_graph_create", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp)),
    ("cairn_graph_drop", c_int, (db_p, c_char_p, c_size_t, char_pp)),
    ("cairn_graph_list", c_int, (db_p, char_pp, size_p, char_pp)),
    (
        "cairn_graph_query",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp),
    ),
    (
        "cairn_graph_delete_vertex",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, size_p, size_p, char_pp),
    ),
    ("cairn_cursor_next", c_int, (cursor_p, char_pp, size_p, char_pp)),
    ("cairn_cursor_next_batch", c_int, (cursor_p, c_size_t, c_size_t, char_pp, size_p, u32_pp, size_p, char_pp)),
    ("cairn_cursor_close", c_int, (cursor_p,)),
    ("cairn_count", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, u64_p, char_pp)),
    ("cairn_update_one", c_int, _UPDATE_ARGS),
    ("cairn_update_many", c_int, _UPDATE_ARGS),
    ("cairn_replace_one", c_int, _UPDATE_ARGS),
    ("cairn_delete_one", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, u64_p, char_pp)),
    ("cairn_delete_many", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, u64_p, char_pp)),
    ("cairn_collection_rename", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp)),
    ("cairn_collection_stats", c_int, (db_p, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_find_one", c_int, _FIND_JSON_ARGS),
    ("cairn_find_by_id", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    (
        "cairn_distinct",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp),
    ),
    ("cairn_find_one_and_update", c_int, _UPDATE_ARGS),
    ("cairn_find_one_and_replace", c_int, _UPDATE_ARGS),
    ("cairn_find_one_and_delete", c_int, _FIND_JSON_ARGS),
    (
        "cairn_count_with_options",
        c_int,
        (db_p, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t, u64_p, char_pp),
    ),
    ("cairn_aggregate", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    # Full-text search
    ("cairn_search", c_int, (db_p, c_char_p, c_size_t, in_p, c_size_t, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    ("cairn_explain", c_int, _FIND_JSON_ARGS),
    # Secondary indexes
    ("cairn_index_create", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_index_drop", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, char_pp)),
    ("cairn_index_list", c_int, (db_p, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    # Transactions (a transaction handle is a cairn_db *)
    ("cairn_txn_begin", c_int, (db_p, c_int, POINTER(db_p), char_pp)),
    ("cairn_txn_commit", c_int, (db_p, char_pp)),
    ("cairn_txn_rollback", c_int, (db_p,)),
    # Change feeds
    ("cairn_watch_open", c_int, (db_p, c_int, in_p, c_size_t, c_char_p, c_size_t, POINTER(watch_p), char_pp)),
    ("cairn_watch_next", c_int, (watch_p, c_int, char_pp, size_p, char_pp)),
    ("cairn_watch_subscribe", c_int, (watch_p, cairn_watch_callback, c_void_p, cairn_destroy_callback, char_pp)),
    ("cairn_watch_close", c_int, (watch_p,)),
    # Time series
    ("cairn_ts_series_id", c_int, (db_p, c_char_p, c_size_t, u64_p, char_pp)),
    ("cairn_ts_write", c_int, (db_p, c_char_p, c_size_t, size_p, char_pp)),
    ("cairn_ts_write_float", c_int, (db_p, u64_p, POINTER(c_int64), POINTER(ctypes.c_double), c_size_t, char_pp)),
    ("cairn_ts_write_int", c_int, (db_p, u64_p, POINTER(c_int64), POINTER(c_int64), c_size_t, char_pp)),
    ("cairn_ts_import", c_int, (db_p, c_char_p, c_size_t, c_char_p, c_size_t, size_p, char_pp)),
    ("cairn_ts_delete", c_int, (db_p, c_char_p, c_size_t, size_p, char_pp)),
    ("cairn_ts_range", c_int, (db_p, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    ("cairn_ts_last", c_int, (db_p, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    ("cairn_ts_series", c_int, (db_p, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    ("cairn_ts_aggregate", c_int, (db_p, c_char_p, c_size_t, POINTER(cursor_p), char_pp)),
    ("cairn_ts_set_retention", c_int, (db_p, c_char_p, c_size_t, c_int64, char_pp)),
    ("cairn_ts_create_rule", c_int, (db_p, c_char_p, c_size_t, char_pp)),
    ("cairn_ts_drop_rule", c_int, (db_p, c_char_p, c_size_t, char_pp)),
    ("cairn_ts_settings", c_int, (db_p, char_pp, size_p, char_pp)),
    ("cairn_ts_set_maintenance_interval", c_int, (db_p, c_int64, char_pp)),
    ("cairn_ts_maintain", c_int, (db_p, c_int64, char_pp, size_p, char_pp)),
    ("cairn_ts_compact", c_int, (db_p, size_p, char_pp)),
    # Operations: checkpoints, verification, secondaries, backups
    ("cairn_checkpoint", c_int, (db_p, c_char_p, char_pp, size_p, char_pp)),
    ("cairn_verify", c_int, (c_char_p, c_char_p, c_size_t, char_pp, size_p, char_pp)),
    ("cairn_verify_live", c_int, (db_p, char_pp, size_p, char_pp)),
    ("cairn_catch_up", c_int, (db_p, POINTER(c_uint64), char_pp)),
    ("cairn_backup_create", c_int, (db_p, c_char_p, char_pp, size_p, char_pp)),
    ("cairn_backup_list", c_int, (c_char_p, char_pp, size_p, char_pp)),
    ("cairn_backup_verify", c_int, (c_char_p, c_uint64, char_pp, size_p, char_pp)),
    ("cairn_backup_restore", c_int, (c_char_p, c_uint64, c_char_p, char_pp)),
    ("cairn_backup_purge", c_int, (c_char_p, c_uint32, char_pp, size_p, char_pp)),
    ("cairn_backup_delete", c_int, (c_char_p, c_uint64, char_pp, size_p, char_pp)),
)


def library_path() -> str:
    """Where the library is loaded from: $CAIRN_LIBRARY, else beside this file."""
    override = os.environ.get("CAIRN_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


def _load() -> ctypes.CDLL:
    path = library_path()
    from_env = bool(os.environ.get("CAIRN_LIBRARY"))
    if not os.path.isfile(path):
        if from_env:
            hint = "CAIRN_LIBRARY is set, but names no file; point it at a built libcairn.so"
        else:
            hint = (
                f"{LIBRARY_NAME} should be installed inside the cairn package. Build it with "
                "`make lib`, then reinstall the package (`pip install ./bindings/python`, or "
                "`make python-env`), or set CAIRN_LIBRARY to the library's path"
            )
        raise ImportError(f"cairn: native library not found at {path}: {hint}")
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:
        raise ImportError(f"cairn: cannot load the native library {path}: {exc}") from exc

    # Check the ABI before touching any other symbol: a library of another
    # ABI may lack them or give them other meanings.
    try:
        abi = lib.cairn_abi_version
    except AttributeError:
        raise ImportError(f"cairn: {path} is not a Cairn library (no cairn_abi_version)") from None
    abi.argtypes = []
    abi.restype = c_int
    found = abi()
    if found != ABI_VERSION:
        raise ImportError(
            f"cairn: {path} implements ABI version {found}, but this cairn package was "
            f"written for ABI version {ABI_VERSION}; install the binding that matches the library"
        )

    for name, restype, argtypes in FUNCTIONS:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(
                f"cairn: {path} (ABI version {found}) lacks {name}: the library is older than this binding"
            ) from None
        fn.restype = restype
        fn.argtypes = list(argtypes)
    return lib


#: The loaded library, every function of FUNCTIONS declared on it.
lib: Any = _load()


def status_name(status: int) -> str:
    """cairn_status_name(): "CAIRN_NOT_FOUND", or "CAIRN_UNKNOWN"."""
    name: bytes = lib.cairn_status_name(status)
    return name.decode("ascii")
