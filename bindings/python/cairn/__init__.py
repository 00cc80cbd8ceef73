"""Cairn for Python: an embeddable multi-model database.

    import cairn

    with cairn.open("data") as db:
        db.put("user:1", "ann")
        db.put("session:42", b"\\x00\\x01", ttl="30m")
        db.get("user:1")                # b"ann"; None when absent
        db["user:1"]                    # KeyError when absent
        "user:1" in db                  # True
        with db.batch() as b:           # atomic
            b.put("user:2", "bob")
            b.delete("user:1")
        with db.iterate(prefix="user:") as it:
            for key, value in it:
                print(key, value)
        db.keys(suffix=":1", limit=10)  # [b"user:1", ...]

        notes = db.collection("notes")  # JSON documents, MongoDB's query language
        uid = notes.insert_one({"title": "hi", "at": datetime.datetime.now(datetime.timezone.utc)})
        notes.update_one({"_id": uid}, {"$set": {"done": True}})
        for note in notes.find({"done": True}, sort=[("at", -1)], limit=10):
            print(note["title"])        # documents are dicts
        notes.count({"done": True})     # 1
        notes.create_index("at")        # "at_1"; unique=True makes a constraint
        notes.delete_many({})           # 1

        with db.transaction() as txn:   # one snapshot; commits at the end of the block
            accounts = txn.collection("accounts")
            accounts.update_one({"_id": "ann"}, {"$inc": {"balance": -5}})
            accounts.update_one({"_id": "bob"}, {"$inc": {"balance": 5}})

Keys and values are bytes; they may be given as bytes, bytearray, memoryview
or str (encoded as UTF-8). Documents are dicts of JSON values, datetimes
(stored in UTC to the millisecond, naive ones taken as UTC, read back as
aware UTC datetimes) and bytes. Failures raise subclasses of cairn.Error
that carry the library's status code and message (cairn.NotFound,
cairn.Busy, cairn.InvalidArgument, cairn.Conflict, ...).

What `with` means:
    with cairn.open(path) as db:   closes the database on exit. Nothing is
                                   committed or rolled back: each write is
                                   already durable when its call returns.
    with db.batch() as batch:      writes the batch atomically when the block
                                   ends normally, discards it when the block
                                   raises, and frees it either way.
    with db.transaction() as txn:  commits when the block ends normally (a
                                   concurrent write of the same data raises
                                   cairn.Conflict: run it again), rolls back
                                   when the block raises.
    with db.iterate() as it:       closes the iterator (releasing its snapshot).
    with coll.find() as cursor:    closes the cursor; a cursor also closes
                                   itself once exhausted.
Every handle also has an idempotent close(); using a handle after close()
raises cairn.Closed. Handles left open are closed when garbage-collected,
but that is a backstop, not something to rely on.

Threads: a Database (and its Collections) may be shared by any number of
threads; a Transaction, a WriteBatch, an Iterator or a Cursor is used by one
thread at a time.

Processes: a database handle does not cross fork(). In a child, every call
on a Database (or its transactions, iterators and cursors) opened by the
parent raises cairn.InvalidArgument and touches nothing; closing it there
only forgets it. Open the database anew in the child (after the parent has
closed it), as with sqlite3. A damaged database raises cairn.Corruption at
open; cairn.repair(path) rebuilds what survives.

The native library libcairn.so ships inside this package; the environment
variable CAIRN_LIBRARY, when set, names another copy to load instead.
"""

from __future__ import annotations

from . import _ffi
from ._convert import TTL, BytesLike, parse_duration
from .batch import WriteBatch
from .change_stream import ChangeStream
from ._db_handle import Collections
from .collection import Collection
from .cursor import Cursor
from . import backup
from .database import Database, OpenOptions, open, repair, verify
from .errors import (
    BulkWriteError,
    Busy,
    Closed,
    Conflict,
    ConstraintViolation,
    Corruption,
    Error,
    HistoryLost,
    InternalError,
    Interrupted,
    InvalidArgument,
    IOFailure,
    NoMemory,
    NoSpace,
    NotFound,
    ReadOnly,
    SchemaViolation,
)
from .bulk import BulkWriteResult, DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from .graph import Graph
from .iterator import Iterator
from .results import DeleteResult, InsertManyResult, UpdateResult
from .transaction import Transaction
from .vector import vector, vector_bytes

__version__ = "0.1.0"

#: The index key type of a text index: create_index([("body", cairn.TEXT)]).
TEXT = "text"

#: The ABI version of cairn.h this binding was written for (checked at import).
ABI_VERSION = _ffi.ABI_VERSION


def library_version() -> str:
    """The loaded libcairn.so's version string, such as "0.1.0"."""
    version: bytes = _ffi.lib.cairn_version()
    return version.decode("ascii")


__all__ = [
    "vector",
    "vector_bytes",
    "ABI_VERSION",
    "TTL",
    "BulkWriteError",
    "BulkWriteResult",
    "Busy",
    "BytesLike",
    "ChangeStream",
    "Closed",
    "Collection",
    "Collections",
    "Conflict",
    "ConstraintViolation",
    "Corruption",
    "Cursor",
    "Database",
    "DeleteMany",
    "DeleteOne",
    "DeleteResult",
    "Error",
    "Graph",
    "HistoryLost",
    "IOFailure",
    "InsertManyResult",
    "InsertOne",
    "InternalError",
    "Interrupted",
    "InvalidArgument",
    "Iterator",
    "NoMemory",
    "NoSpace",
    "NotFound",
    "OpenOptions",
    "ReadOnly",
    "ReplaceOne",
    "TEXT",
    "SchemaViolation",
    "Transaction",
    "UpdateMany",
    "UpdateOne",
    "UpdateResult",
    "WriteBatch",
    "library_version",
    "open",
    "parse_duration",
    "backup",
    "repair",
    "verify",
]
