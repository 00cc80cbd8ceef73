"""Cursor: the documents a find() or aggregate() returned, one dict at a time (wraps cairn_cursor)."""

from __future__ import annotations

from ctypes import byref, c_char_p, c_size_t, string_at
from typing import TYPE_CHECKING, Any

from . import errors
from ._extended_json import loads
from ._ffi import Status, lib
from ._managed import Managed

if TYPE_CHECKING:
    from ._db_handle import DbHandle

__all__ = ["Cursor"]


def _close_cursor(ptr: Any) -> None:
    errors.raise_for_status(lib.cairn_cursor_close(ptr))


class Cursor(Managed[Any]):
    """A Python iterator of documents (dicts) read at one snapshot.

    Made by Collection.find() and aggregate(). A cursor opened in a
    transaction reads its snapshot and the writes it had made when the
    cursor was opened. It closes itself once exhausted, and then
    keeps raising StopIteration as iterators do; to stop early, close() it
    or use `with`, which closes it on exit. Any use after close() raises
    Closed, and so does next() once the database is closed. Used by one
    thread at a time.

        with users.find({"age": {"$gte": 18}}, sort={"name": 1}) as cursor:
            for user in cursor:
                print(user["name"])
    """

    _kind = "cursor"

    def __init__(self, owner: DbHandle, ptr: Any) -> None:
        super().__init__(ptr, _close_cursor)
        self._owner = owner  # keeps the database (or transaction) object alive while iterating
        self._exhausted = False
        # Out-parameters of cairn_cursor_next(), reused for every document.
        self._json, self._json_len, self._err = c_char_p(), c_size_t(), c_char_p()
        self._out = (byref(self._json), byref(self._json_len), byref(self._err))

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._exhausted:
            raise StopIteration
        status = lib.cairn_cursor_next(self._handle(), *self._out)
        if status == Status.DONE:
            errors.take_message(self._err)
            self._exhausted = True
            self.close()
            raise StopIteration
        errors.raise_for_status(status, self._err)
        # The library lends the text until the next call: decode it now.
        document: dict[str, Any] = loads(string_at(self._json, self._json_len.value))
        return document
