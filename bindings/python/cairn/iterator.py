"""Iterator: walks (key, value) pairs of a snapshot in key order (wraps cairn_iter)."""

from __future__ import annotations

from ctypes import byref, c_char_p, c_size_t, string_at
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import BytesLike, to_bytes
from ._ffi import Status, bytes_ptr, lib
from ._managed import Managed

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Iterator"]


def _close_iter(ptr: Any) -> None:
    errors.raise_for_status(lib.cairn_iter_close(ptr))


class Iterator(Managed[Any]):
    """A Python iterator of (key, value) bytes over a consistent snapshot.

    Made by Database.iterate(). Writes made after it was opened are not seen.
    It holds its snapshot until close(), so close it (or use `with`) when
    done; once the database is closed, next() raises Closed. Used by one
    thread at a time.
    """

    _kind = "iterator"

    def __init__(self, db: Database, ptr: Any) -> None:
        super().__init__(ptr, _close_iter)
        self._db = db  # keeps the database object alive while iterating
        # Out-parameters of cairn_iter_next(), reused for every item.
        self._key, self._key_len = _ffi.u8_p(), c_size_t()
        self._value, self._value_len = _ffi.u8_p(), c_size_t()
        self._err = c_char_p()
        self._out: tuple[Any, ...] = (
            byref(self._key),
            byref(self._key_len),
            byref(self._value),
            byref(self._value_len),
            byref(self._err),
        )

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> tuple[bytes, bytes]:
        status = lib.cairn_iter_next(self._handle(), *self._out)
        if status == Status.DONE:
            errors.take_message(self._err)
            raise StopIteration
        errors.raise_for_status(status, self._err)
        # The library lends these views until the next call: copy them now.
        key = string_at(self._key, self._key_len.value)
        n = self._value_len.value
        return key, (string_at(self._value, n) if n else b"")

    def seek(self, key: BytesLike) -> Iterator:
        """Repositions the iterator: forward, the next item is the first key
        >= `key`; in reverse, the last key <= `key`. Bounds still apply.
        Returns the iterator itself, so `for k, v in it.seek(b"m"):` works."""
        k = to_bytes(key)
        errors.call(lib.cairn_iter_seek, self._handle(), bytes_ptr(k), len(k))
        return self


class _KeyIterator(Iterator):
    """An Iterator that reads keys only: cairn_iter_next() is given NULL for
    the value, so values are neither copied by the library nor by Python."""

    def __init__(self, db: Database, ptr: Any) -> None:
        super().__init__(db, ptr)
        self._out = (byref(self._key), byref(self._key_len), None, None, byref(self._err))

    def next_key(self) -> bytes:
        status = lib.cairn_iter_next(self._handle(), *self._out)
        if status == Status.DONE:
            errors.take_message(self._err)
            raise StopIteration
        errors.raise_for_status(status, self._err)
        return string_at(self._key, self._key_len.value)
