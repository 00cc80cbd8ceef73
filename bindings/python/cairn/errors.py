"""Exceptions: one class per status code of cairn.h, all under cairn.Error.

Every failing call into the library returns a status and a message; the one
function raise_for_status() turns the pair into the matching exception (and
frees the message with cairn_free). A status this version does not know
becomes a plain cairn.Error, as the header asks.

An insert_many() with ordered= or atomic= that fails on some documents raises
a BulkWriteError that is also the class of its first failure's status
(bulk_write_error()), so both `except cairn.ConstraintViolation` and
`except cairn.BulkWriteError` catch it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, NoReturn

from . import _ffi
from ._ffi import Status

__all__ = [
    "BulkWriteError",
    "Busy",
    "Closed",
    "Conflict",
    "ConstraintViolation",
    "Corruption",
    "Error",
    "HistoryLost",
    "IOFailure",
    "InternalError",
    "Interrupted",
    "InvalidArgument",
    "NoMemory",
    "NoSpace",
    "NotFound",
    "SchemaViolation",
    "error_for",
]


class Error(Exception):
    """A Cairn call failed.

    Attributes:
        code: the status number from enum cairn_status (e.g. 1).
        status: its symbolic name (e.g. "CAIRN_NOT_FOUND").
        message: the library's message naming the problem.
    """

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(code, status, message)
        self.code = code
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} ({self.status})" if self.message else self.status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, status={self.status!r}, message={self.message!r})"


class NotFound(Error):
    """CAIRN_NOT_FOUND: the key, document or object does not exist."""


class InvalidArgument(Error, ValueError):
    """CAIRN_INVALID_ARGUMENT: bad input (bad JSON, unknown option, size limit...).

    Also a ValueError, so code that catches ValueError catches it too.
    """


class IOFailure(Error):
    """CAIRN_IO_ERROR: the operating system reported an I/O failure."""


class Corruption(Error):
    """CAIRN_CORRUPTION: a file's contents failed a checksum or format check."""


class Busy(Error):
    """CAIRN_BUSY: another process has the database directory open."""


class Closed(Error):
    """CAIRN_CLOSED: the handle (or its database) was closed."""


class Conflict(Error):
    """CAIRN_CONFLICT: a concurrent transaction wrote the same data."""


class ConstraintViolation(Error):
    """CAIRN_CONSTRAINT: a unique constraint would be violated."""


class SchemaViolation(Error):
    """CAIRN_SCHEMA: a document does not satisfy its collection's schema."""


class NoSpace(Error):
    """CAIRN_NO_SPACE: the disk or file system is full."""


class InternalError(Error):
    """CAIRN_INTERNAL: a bug in Cairn; please report it."""


class Interrupted(Error):
    """CAIRN_INTERRUPTED: Database.interrupt() (or Ctrl-C in the main
    thread) stopped the operation; nothing was damaged."""


class NoMemory(Error):
    """CAIRN_NO_MEMORY: an allocation the input asked for (a large value,
    document or batch) failed; nothing was written."""


class HistoryLost(Error):
    """CAIRN_HISTORY_LOST: a watch's start point (or the point a slow watch
    fell behind to) is older than the change feed's retained history; resume
    from a later point or start now. Events are never skipped silently."""


class ReadOnly(Error):
    """CAIRN_READ_ONLY: a write on a database opened with read_only=True or
    secondary=True; write through the handle that opened it for writing."""


_CLASSES: dict[int, type[Error]] = {
    Status.NOT_FOUND: NotFound,
    Status.INVALID_ARGUMENT: InvalidArgument,
    Status.IO_ERROR: IOFailure,
    Status.CORRUPTION: Corruption,
    Status.BUSY: Busy,
    Status.CLOSED: Closed,
    Status.CONFLICT: Conflict,
    Status.CONSTRAINT: ConstraintViolation,
    Status.SCHEMA: SchemaViolation,
    Status.NO_SPACE: NoSpace,
    Status.INTERNAL: InternalError,
    Status.NO_MEMORY: NoMemory,
    Status.INTERRUPTED: Interrupted,
    Status.HISTORY_LOST: HistoryLost,
    Status.READ_ONLY: ReadOnly,
}


class BulkWriteError(Error):
    """Documents of Collection.insert_many(..., ordered=..., atomic=...), or
    requests of Collection.bulk_write(), failed.

    Raised as a subclass of both BulkWriteError and the class of the first
    failure's status (ConstraintViolation, SchemaViolation, InvalidArgument,
    ...); code, status and message are that failure's. The documents that
    were inserted stay inserted (none with atomic=True).

        try:
            people.insert_many(docs, ordered=False)
        except cairn.BulkWriteError as exc:
            exc.inserted_ids  # [2, 3]: the _ids that went in, in order
            exc.errors        # [{"index": 1, "status": "CAIRN_CONSTRAINT", "message": "..."}]

    Attributes (besides code, status and message):
        inserted_ids: the _ids of the documents inserted, in order.
        errors: one dict per failed document (or request), in order:
            "index" (its position in the list given), "status" (a name
            such as "CAIRN_SCHEMA") and "message".
        result: from bulk_write(), the BulkWriteResult of what was done.
    """

    inserted_ids: list[Any]
    errors: list[dict[str, Any]]
    #: From Collection.bulk_write(): the BulkWriteResult of the requests
    #: that were applied (None from insert_many()).
    result: Any = None

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        inserted_ids: list[Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(code, status, message)
        self.inserted_ids = [] if inserted_ids is None else inserted_ids
        self.errors = [] if errors is None else errors


def error_for(code: int, message: str) -> Error:
    """The exception for status `code` (an unknown code gives a plain Error)."""
    return _CLASSES.get(code, Error)(code, _ffi.status_name(code), message)


def _bulk_class(base: type[Error]) -> type[BulkWriteError]:
    """BulkWriteError mixed into `base`, named "Bulk" + its name and kept in
    this module so that pickle finds it."""
    name = f"Bulk{base.__name__}"
    namespace = {"__doc__": f"A BulkWriteError that is also a {base.__name__}.", "__module__": __name__}
    cls = type(name, (BulkWriteError, base), namespace)
    globals()[name] = cls
    return cls


_BULK_CLASSES: dict[int, type[BulkWriteError]] = {code: _bulk_class(cls) for code, cls in _CLASSES.items()}


def bulk_write_error(code: int, message: str, inserted_ids: list[Any], errors: list[dict[str, Any]]) -> BulkWriteError:
    """The BulkWriteError for an insert_many whose first failure has status
    `code` (an unknown code gives a plain BulkWriteError)."""
    cls = _BULK_CLASSES.get(code, BulkWriteError)
    return cls(code, _ffi.status_name(code), message, inserted_ids, errors)


def take_message(errmsg: ctypes.c_char_p | None) -> str:
    """Reads a message the library returned through `char **errmsg`, frees
    it with cairn_free() and resets the pointer to NULL. "" when NULL."""
    if not errmsg:
        return ""
    text = errmsg.value or b""
    _ffi.lib.cairn_free(errmsg)
    errmsg.value = None
    return text.decode("utf-8", "replace")


def raise_for_status(status: int, errmsg: ctypes.c_char_p | None = None) -> None:
    """Raises the exception for a failed call, or returns if `status` is OK.

    `errmsg` is the `char *` the call filled through its `char **errmsg`
    parameter (None for the few functions without one); it is freed in every
    case, so each call's message is freed exactly once, here.
    """
    message = take_message(errmsg)
    if status != Status.OK:
        raise error_for(status, message)


def call(fn: Callable[..., int], *args: Any) -> None:
    """Calls a fallible C function, appending the `char **errmsg` argument,
    and raises the exception for its status."""
    errmsg = ctypes.c_char_p()
    raise_for_status(fn(*args, ctypes.byref(errmsg)), errmsg)


def closed(what: str) -> NoReturn:
    """Raises Closed for use of a handle the binding already closed."""
    raise error_for(Status.CLOSED, f"{what} is closed")


def invalid(message: str) -> NoReturn:
    """Raises InvalidArgument for an argument the binding cannot pass on."""
    raise error_for(Status.INVALID_ARGUMENT, message)
