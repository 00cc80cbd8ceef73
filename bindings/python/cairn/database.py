"""Database: an open database directory (wraps cairn_db)."""

from __future__ import annotations

import datetime
import json
import os
import random
import sys
import time
from collections.abc import Callable
from itertools import islice
from collections.abc import Iterator as PyIterator
from ctypes import byref, c_char_p, c_size_t, c_uint64
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, cast

from . import _ffi, _interrupt, errors
from ._convert import BytesLike, take_buffer, to_bytes, to_json_text, unpack
from ._db_handle import DbHandle
from ._ffi import lib
from .batch import WriteBatch
from .change_stream import ChangeStream, open_watch
from .collection import name_arg
from .errors import Conflict
from .iterator import Iterator, _KeyIterator
from .timeseries import TimeSeries
from .transaction import Transaction

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["Database", "OpenOptions", "open", "repair", "verify"]

T = TypeVar("T")


class OpenOptions(TypedDict, total=False):
    """The options of cairn.open() and cairn.repair(), as keyword arguments;
    include/cairn.h documents each and its default. A type checker catches
    a misspelt option; the library refuses an unknown one at run time
    (InvalidArgument naming it)."""

    create_if_missing: bool
    error_if_exists: bool
    sync: Literal["always", "interval", "never"]
    sync_interval_ms: int
    memtable_size_mb: int
    block_size: int
    compression: Literal["zstd", "lz4", "none"]
    upper_level_compression: Literal["zstd", "lz4", "none"]
    bloom_bits_per_key: int
    block_cache_mb: int
    graph_cache_mb: int
    level_size_ratio: int
    max_open_tables: int
    paranoid_recovery: bool
    mmap_reads: bool
    change_feed: bool | dict[str, int]
    read_only: bool
    secondary: bool
    lock_timeout_ms: int


def _json_arg(obj: Any) -> tuple[bytes | None, int]:
    """A JSON options argument: (NULL, 0) means "{}" per the header."""
    if not obj:
        return None, 0
    text = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return text, len(text)


def _close_db(ptr: Any) -> None:
    errors.call(lib.cairn_close, ptr)


def open(path: str | os.PathLike[str], **options: Unpack[OpenOptions]) -> Database:
    """Opens (by default creates) the database in directory `path`.

    Keyword arguments become the JSON options object of cairn_open():
    create_if_missing (bool, default True), error_if_exists (bool, default
    False), sync ("always", the default, "interval" or "never"),
    sync_interval_ms, memtable_size_mb, block_size, compression ("zstd",
    "lz4" or "none"), upper_level_compression, bloom_bits_per_key,
    block_cache_mb, graph_cache_mb, level_size_ratio, max_open_tables, paranoid_recovery,
    mmap_reads, read_only (open beside a writer in another process, or on
    read-only files, as of now; writes raise ReadOnly), secondary (as
    read_only, and Database.catch_up() follows the writer), lock_timeout_ms
    (wait that long for another handle's lock instead of raising Busy);
    include/cairn.h documents each one and its default.
    An unknown option raises InvalidArgument; another process holding the
    directory raises Busy.

        with cairn.open("data", sync="never") as db:
            db.put("greeting", "hello")
    """
    raw_path = os.fsencode(path)
    if b"\0" in raw_path:
        errors.invalid("path contains a NUL byte")
    text, text_len = _json_arg(options)
    out = _ffi.db_p()
    errors.call(lib.cairn_open, raw_path, text, text_len, byref(out))
    return Database(out, os.fsdecode(raw_path))


def repair(path: str | os.PathLike[str], **options: Unpack[OpenOptions]) -> dict[str, Any]:
    """Rebuilds the manifest of a damaged database from the tables and log
    segments its directory still holds (cairn_repair), and returns the
    report: "tables", "entries", "log_records", "set_aside" (files moved to
    the "lost" subdirectory, never deleted, with the reason), "old_manifest",
    "range_deletions_lost" and "notes". Run it when open() raises
    cairn.Corruption; it never runs by itself, and the database must not be
    open (cairn.Busy). Keyword arguments are open()'s options.
    """
    raw_path = os.fsencode(path)
    if b"\0" in raw_path:
        errors.invalid("path contains a NUL byte")
    text, text_len = _json_arg(options)
    report, report_len = c_char_p(), c_size_t()
    errors.call(lib.cairn_repair, raw_path, text, text_len, byref(report), byref(report_len))
    result: dict[str, Any] = json.loads(take_buffer(report, report_len.value))
    return result


def verify(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Verifies the database in directory `path` (cairn_verify): every table
    block and live log record checksum, damage reported by file. Returns the
    report: "ok" (True when every file verified), "files" (each with "file",
    "kind", "bytes", "ok" and "error" when damaged), "files_damaged", ...
    Damage does not raise; a missing database raises NotFound."""
    raw_path = os.fsencode(path)
    if b"\0" in raw_path:
        errors.invalid("path contains a NUL byte")
    report, report_len = c_char_p(), c_size_t()
    errors.call(lib.cairn_verify, raw_path, None, 0, byref(report), byref(report_len))
    result: dict[str, Any] = json.loads(take_buffer(report, report_len.value))
    return result


def _path_arg(path: str | os.PathLike[str], what: str) -> bytes:
    raw = os.fsencode(path)
    if b"\0" in raw:
        errors.invalid(f"{what} contains a NUL byte")
    return raw


class Database(DbHandle):
    """An open database directory; create one with cairn.open().

    Safe to use from any number of threads at once. `with db:` closes the
    database on exit (it does not commit anything: every write is already
    durable when its call returns, per the sync option).

    Keys are 1 to 65536 bytes, values 0 to 256 MiB; both may be given as
    bytes, bytearray, memoryview or str (encoded as UTF-8), and are always
    returned as bytes. put, get, delete, get_many, db[key], `key in db`,
    collection(), create_collection() and list_collections() are shared with
    Transaction (see _db_handle.py).
    """

    _kind = "database"

    def __init__(self, ptr: Any, path: str) -> None:
        super().__init__(ptr, _close_db)
        #: The directory this database was opened from.
        self.path = path
        _interrupt.watch(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<cairn.Database {self.path!r} {state}>"

    @property
    def _database(self) -> Database:
        return self

    @property
    def _transaction(self) -> None:
        return None

    # -- Key-value (put, get, delete, get_many: see DbHandle) ---------------------

    @property
    def timeseries(self) -> TimeSeries:
        """The time-series operations (cairn.timeseries.TimeSeries): write,
        import_lines, range, last, aggregate, ..."""
        return TimeSeries(self)

    def delete_range(self, start: BytesLike, end: BytesLike) -> None:
        """Deletes every key k with start <= k < end, atomically."""
        s, e = to_bytes(start, "start"), to_bytes(end, "end")
        errors.call(lib.cairn_delete_range, self._handle(), s, len(s), e, len(e))

    # -- The key-value store as a mapping (as rocksdict and sqlitedict) --------
    #
    # db[key], db[key] = value, del db[key] and `key in db` (DbHandle), and
    # here iteration over keys, len(), keys(), values() and items(). Each
    # reads one snapshot taken when it starts.

    def __iter__(self) -> PyIterator[bytes]:
        """`for key in db`: every key in ascending order, over a snapshot;
        values are not read."""
        with self._key_iterator(None, None, None, False) as it:
            yield from it

    def __len__(self) -> int:
        """len(db): the number of live keys. A scan of every key (values are
        not read, and keys are only counted, not copied out), so it takes
        time in proportion to the database's size."""
        with self._key_iterator(None, None, None, False) as it:
            return it.count_rest()

    def _key_iterator(
        self, prefix: BytesLike | None, start: BytesLike | None, end: BytesLike | None, reverse: bool
    ) -> _KeyIterator:
        return _KeyIterator(self, self._open_iter(prefix, start, end, reverse, "takes"))

    def _open_iter(
        self, prefix: BytesLike | None, start: BytesLike | None, end: BytesLike | None, reverse: bool, what: str
    ) -> Any:
        """cairn_iter_open or cairn_iter_open_prefix; the new handle."""
        flags = _ffi.ITER_REVERSE if reverse else 0
        out = _ffi.iter_p()
        handle = self._handle()
        if prefix is not None:
            if start is not None or end is not None:
                raise TypeError(f"{what} start/end or prefix, not both")
            p = to_bytes(prefix, "prefix")
            errors.call(lib.cairn_iter_open_prefix, handle, p, len(p), flags, byref(out))
        else:
            s = b"" if start is None else to_bytes(start, "start")
            e = b"" if end is None else to_bytes(end, "end")
            errors.call(lib.cairn_iter_open, handle, s, len(s), e, len(e), flags, byref(out))
        return out

    def keys(
        self,
        prefix: BytesLike | None = None,
        suffix: BytesLike | None = None,
        contains: BytesLike | None = None,
        limit: int | None = None,
        offset: int | None = None,
        *,
        start: BytesLike | None = None,
        end: BytesLike | None = None,
        reverse: bool = False,
    ) -> list[bytes]:
        """Keys in ascending order (descending with `reverse`) that start with
        `prefix`, or lie in start <= k < end, and end with `suffix` and
        contain `contains` (each optional), then skipping `offset` and
        returning at most `limit` of them. Values are not read.

        prefix, start and end may be any bytes; suffix and contains (which
        the library matches, cairn_keys) are text or UTF-8 bytes."""
        if suffix is not None or contains is not None:
            if start is not None or end is not None or reverse:
                raise TypeError("keys(): suffix and contains do not combine with start, end or reverse")
            return self._keys_matching(prefix, suffix, contains, limit, offset)
        return self._walk_keys(prefix, start, end, reverse, limit, offset)

    def _walk_keys(
        self,
        prefix: BytesLike | None,
        start: BytesLike | None,
        end: BytesLike | None,
        reverse: bool,
        limit: int | None,
        offset: int | None,
    ) -> list[bytes]:
        skip, wanted = _paging(limit, offset)
        with self._key_iterator(prefix, start, end, reverse) as it:
            return list(islice(it, skip, None if wanted is None else skip + wanted))

    def _keys_matching(
        self,
        prefix: BytesLike | None,
        suffix: BytesLike | None,
        contains: BytesLike | None,
        limit: int | None,
        offset: int | None,
    ) -> list[bytes]:
        options: dict[str, Any] = {}
        for name, text in (("prefix", prefix), ("suffix", suffix), ("contains", contains)):
            if text is not None:
                options[name] = to_json_text(text, name)
        for name, number in (("limit", limit), ("offset", offset)):
            if number is not None:
                options[name] = number
        raw, raw_len = _json_arg(options)
        keys, keys_len = _ffi.u8_p(), c_size_t()
        errors.call(lib.cairn_keys, self._handle(), raw, raw_len, byref(keys), byref(keys_len), None)
        return cast("list[bytes]", unpack(take_buffer(keys, keys_len.value)))

    def items(
        self,
        prefix: BytesLike | None = None,
        *,
        start: BytesLike | None = None,
        end: BytesLike | None = None,
        reverse: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[tuple[bytes, bytes]]:
        """(key, value) pairs in key order (descending with `reverse`), of the
        keys starting with `prefix` (any bytes) or in start <= k < end, after
        skipping `offset`, at most `limit`; over one snapshot."""
        skip, wanted = _paging(limit, offset)
        iterator = (
            self.iterate(prefix=prefix, reverse=reverse) if prefix is not None
            else self.iterate(start, end, reverse=reverse)
        )
        with iterator as it:
            return list(islice(it, skip, None if wanted is None else skip + wanted))

    def values(
        self,
        prefix: BytesLike | None = None,
        *,
        start: BytesLike | None = None,
        end: BytesLike | None = None,
        reverse: bool = False,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[bytes]:
        """The values of items() with the same arguments, in key order."""
        return [value for _, value in self.items(prefix, start=start, end=end, reverse=reverse,
                                                 limit=limit, offset=offset)]

    # -- Batches and iterators ----------------------------------------------

    def batch(self) -> WriteBatch:
        """A new WriteBatch bound to this database: `with` writes it atomically
        when the block ends normally and discards it when the block raises.

            with db.batch() as b:
                b.put("a", "1")
                b.delete("b")
        """
        self._handle()
        return WriteBatch(self)

    def write(self, batch: WriteBatch) -> None:
        """Applies every operation in `batch` atomically and durably. The batch
        is left unchanged and may be written again."""
        if not isinstance(batch, WriteBatch):
            raise TypeError(f"write() takes a WriteBatch, not {type(batch).__name__}")
        errors.call(lib.cairn_write, self._handle(), batch._handle())

    def iterate(
        self,
        start: BytesLike | None = None,
        end: BytesLike | None = None,
        *,
        prefix: BytesLike | None = None,
        reverse: bool = False,
        batch_size: int = 0,
    ) -> Iterator:
        """An Iterator of (key, value) over a snapshot taken now.

        Walks the keys k with start <= k < end (either bound may be None), or
        the keys that begin with `prefix`; in descending order when `reverse`.
        Items are read ahead `batch_size` at a time (0, the default: the
        library's adaptive size, 64 doubling up to 4096).

            with db.iterate(prefix="user:") as it:
                for key, value in it:
                    ...
        """
        return Iterator(self, self._open_iter(prefix, start, end, reverse, "iterate() takes"), batch_size)

    # -- Transactions -----------------------------------------------------------

    def transaction(self, *, read_only: bool = False) -> Transaction:
        """Begins a Transaction at a snapshot of the whole database taken now
        (cairn_txn_begin). It sees its own writes, and its writes become
        visible to others all at once when it commits. With read_only, its
        writes raise InvalidArgument.

        `with` commits when the block ends normally and rolls back when it
        raises; a commit that meets a concurrent write of the same data
        raises Conflict and writes nothing, and the whole transaction must
        be run again:

            with db.transaction() as txn:
                accounts = txn.collection("accounts")
                accounts.update_one({"_id": "ann"}, {"$inc": {"balance": -5}})
                accounts.update_one({"_id": "bob"}, {"$inc": {"balance": 5}})
        """
        flags = _ffi.TXN_READ_ONLY if read_only else 0
        out = _ffi.db_p()
        errors.call(lib.cairn_txn_begin, self._handle(), flags, byref(out))
        return Transaction(self, out, read_only=read_only)

    def run_transaction(
        self,
        fn: Callable[[Transaction], T],
        *,
        max_retries: int = 10,
        read_only: bool = False,
        initial_backoff: float = 0.001,
        max_backoff: float = 0.25,
    ) -> T:
        """Runs fn(txn) in a transaction and commits it, running it again
        from the start when it meets a concurrent write (Conflict), as
        pymongo's with_transaction does; returns what fn returned.

        Between attempts it sleeps initial_backoff seconds, doubling each
        time up to max_backoff, times a random factor in [0.5, 1) so that
        contending writers spread out. After max_retries retries the last
        Conflict is raised. Any other exception rolls back and propagates at
        once. fn may run several times: keep side effects outside the
        database out of it.

            def transfer(txn):
                accounts = txn.collection("accounts")
                accounts.update_one({"_id": "ann"}, {"$inc": {"balance": -5}})
                accounts.update_one({"_id": "bob"}, {"$inc": {"balance": 5}})
            db.run_transaction(transfer, max_retries=5)
        """
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        attempt = 0
        while True:
            try:
                with self.transaction(read_only=read_only) as txn:
                    result = fn(txn)
                return result
            except Conflict:
                if attempt >= max_retries:
                    raise
            delay = min(max_backoff, initial_backoff * (2**attempt))
            time.sleep(delay * random.uniform(0.5, 1.0))
            attempt += 1

    # -- Documents (collection, create_collection, list_collections: see DbHandle)

    def drop_collection(self, name: str) -> None:
        """Drops the collection `name` and every document in it; dropping a
        missing collection is not an error."""
        raw = name_arg(name)
        errors.call(lib.cairn_collection_drop, self._handle(), raw, len(raw))

    # -- Change feeds -----------------------------------------------------------

    def watch(
        self,
        collection: str | None = None,
        *,
        key_prefix: BytesLike | None = None,
        collections: bool = False,
        filter: dict[str, Any] | None = None,
        full_document: Literal["default", "off", "updateLookup", "whenAvailable", "required"] | None = None,
        full_document_before_change: Literal["off", "whenAvailable", "required"] | None = None,
        resume_after: dict[str, int] | None = None,
        start_at_operation_time: int | datetime.datetime | None = None,
        timeout: float | None = None,
    ) -> ChangeStream:
        """Watches the change feed (the database must be opened with
        change_feed=True): every change, or those of one `collection`, of
        every collection (`collections=True`) or of the keys starting with
        `key_prefix`, each passing `filter` (MongoDB's language over the
        event). Starts now, after the event whose "_id" is `resume_after`,
        or at `start_at_operation_time` (a sequence number or a datetime).
        Iterating the stream ends after `timeout` seconds without an event
        (None: it waits until the stream is closed). include/cairn.h,
        "Change feeds", describes the events and the other options.

            with db.watch(key_prefix=b"user:", timeout=5) as stream:
                for event in stream:
                    print(event["operationType"], event["key"])
        """
        targets = sum(1 for chosen in (collection is not None, key_prefix is not None, collections) if chosen)
        if targets > 1:
            raise TypeError("watch(): give at most one of collection, key_prefix and collections=True")
        kind, target = _ffi.WATCH_ALL, b""
        if collection is not None:
            kind, target = _ffi.WATCH_COLLECTION, name_arg(collection)
        elif key_prefix is not None:
            kind, target = _ffi.WATCH_KEY_PREFIX, to_bytes(key_prefix, "key_prefix")
        elif collections:
            kind = _ffi.WATCH_COLLECTIONS
        options: dict[str, Any] = {}
        if filter is not None:
            options["filter"] = filter
        if full_document is not None:
            options["fullDocument"] = full_document
        if full_document_before_change is not None:
            options["fullDocumentBeforeChange"] = full_document_before_change
        if resume_after is not None:
            options["resumeAfter"] = resume_after
        if start_at_operation_time is not None:
            options["startAtOperationTime"] = start_at_operation_time
        return open_watch(self, kind, target, options, timeout)

    # -- Introspection ----------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters ("puts", "gets", "writes", ...) and sizes ("live_keys",
        "wal_bytes", ...) as a dict; new fields may appear in later versions."""
        text, text_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_stats, self._handle(), byref(text), byref(text_len))
        result: dict[str, Any] = json.loads(take_buffer(text, text_len.value))
        return result

    def metrics(self) -> str:
        """The statistics in Prometheus text exposition format."""
        text, text_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_metrics, self._handle(), byref(text), byref(text_len))
        return take_buffer(text, text_len.value).decode("utf-8")

    def interrupt(self) -> None:
        """Stops every call running on this database now, from any thread
        (sqlite3_interrupt): queries and open cursors, aggregations,
        iterators, index builds being waited for, manual compactions. Each
        raises Interrupted; calls started afterwards are not affected.
        Ctrl-C in the main thread does this by itself, so a long query
        raises KeyboardInterrupt promptly. A closed database is left alone."""
        ptr = self._ptr
        if ptr is not None:
            # A close racing with this is harmless: the library recognizes
            # a closed handle and returns CAIRN_CLOSED.
            lib.cairn_interrupt(ptr)

    def flush(self) -> None:
        """Writes the memtable to a table now and waits for it."""
        errors.call(lib.cairn_flush, self._handle())

    # -- Operations ---------------------------------------------------------------

    def checkpoint(self, directory: str | os.PathLike[str]) -> dict[str, Any]:
        """Writes a consistent copy of the database into `directory` (absent
        or empty) while writes go on (cairn_checkpoint); the copy opens with
        cairn.open(). Returns the report: "sequence" (the copy holds every
        write up to it), "linked_tables", "copied_tables", "log_bytes", ..."""
        report, report_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_checkpoint, self._handle(), _path_arg(directory, "directory"), byref(report), byref(report_len))
        result: dict[str, Any] = json.loads(take_buffer(report, report_len.value))
        return result

    def verify(self) -> dict[str, Any]:
        """Verifies this database's live files while writes go on
        (cairn_verify_live); the report is cairn.verify()'s, with "sequence"."""
        report, report_len = c_char_p(), c_size_t()
        errors.call(lib.cairn_verify_live, self._handle(), byref(report), byref(report_len))
        result: dict[str, Any] = json.loads(take_buffer(report, report_len.value))
        return result

    def catch_up(self) -> int:
        """Brings a database opened with secondary=True up to its writer's last
        write (cairn_catch_up); returns the sequence now visible."""
        sequence = c_uint64()
        errors.call(lib.cairn_catch_up, self._handle(), byref(sequence))
        return sequence.value

    def backup(self, backup_dir: str | os.PathLike[str]) -> dict[str, Any]:
        """Backs the database up into `backup_dir` (cairn.backup.create)."""
        from . import backup

        return backup.create(self, backup_dir)

    def compact_range(self, start: BytesLike | None = None, end: BytesLike | None = None) -> None:
        """Compacts the tables overlapping [start, end] (None: unbounded) down
        to the deepest level, dropping overwritten, deleted and expired data."""
        s = to_bytes(start, "start") if start is not None else b""
        e = to_bytes(end, "end") if end is not None else b""
        errors.call(lib.cairn_compact_range, self._handle(), s, len(s), e, len(e))


def _paging(limit: int | None, offset: int | None) -> tuple[int, int | None]:
    """(how many to skip, how many to return or None for all) from the
    limit and offset arguments; a negative one is InvalidArgument."""
    for name, number in (("limit", limit), ("offset", offset)):
        if number is not None and (not isinstance(number, int) or number < 0):
            errors.invalid(f"{name} must be an int >= 0, not {number!r}")
    return (offset or 0), (limit or None)
