"""Cursor: the documents a find() or aggregate() returned, one dict at a time (wraps cairn_cursor)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from ctypes import byref, c_char_p, c_size_t, string_at
from typing import TYPE_CHECKING, Any

from . import errors
from ._extended_json import loads
from ._ffi import Status, lib
from ._managed import Managed

if TYPE_CHECKING:
    from ._db_handle import DbHandle

__all__ = ["Cursor"]

_next_batch = lib.cairn_cursor_next_batch


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

    def __init__(
        self,
        owner: DbHandle,
        ptr: Any,
        *,
        reopen: Callable[[Any, int | None, int | None], Any] | None = None,
        options: tuple[Any, int | None, int | None] = (None, None, None),
        batch_size: int = 0,
    ) -> None:
        super().__init__(ptr, _close_cursor)
        self._owner = owner  # keeps the database (or transaction) object alive while iterating
        self._exhausted = False
        # find()'s cursors can be reshaped before iteration: sort(), skip()
        # and limit() record the options, and the first next() runs the
        # query again with them (_reopen opens a cairn_cursor).
        self._reopen = reopen
        self._sort, self._skip, self._limit = options
        self._started = False
        self._stale = False
        # Documents arrive in batches (cairn_cursor_next_batch), each one
        # JSON array decoded by one loads() call; _batch holds the rest of
        # the current one. The out-parameters are made once.
        self._batch: list[dict[str, Any]] = []
        self._position = 0
        self._batch_size = batch_size
        self._json, self._json_len, self._count, self._err = c_char_p(), c_size_t(), c_size_t(), c_char_p()
        self._out = (byref(self._json), byref(self._json_len), None, byref(self._count), byref(self._err))

    def __iter__(self) -> Cursor:
        return self

    # -- pymongo's chaining, before iteration ------------------------------------

    def sort(self, key_or_list: str | Mapping[str, int] | Iterable[tuple[str, int]], direction: int = 1) -> Cursor:
        """Sorts the results: sort("age", -1), sort([("age", -1), ("name", 1)])
        or sort({"age": -1}). Only before iteration; returns the cursor."""
        self._reshape("sort")
        self._sort = [(key_or_list, direction)] if isinstance(key_or_list, str) else key_or_list
        return self

    def skip(self, count: int) -> Cursor:
        """Skips the first `count` results. Only before iteration; returns the cursor."""
        self._reshape("skip")
        self._skip = count
        return self

    def limit(self, count: int) -> Cursor:
        """Returns at most `count` results (0: no limit). Only before
        iteration; returns the cursor."""
        self._reshape("limit")
        self._limit = count
        return self

    def _reshape(self, what: str) -> None:
        self._handle()
        if self._reopen is None:
            raise TypeError(f"{what}() works on a cursor from find(), not from aggregate()")
        if self._started:
            errors.invalid(f"{what}() after iteration began; call it before the first document")
        self._stale = True

    def _run_again(self) -> None:
        """Opens the query with the options sort(), skip() and limit() set,
        in place of the cursor find() opened."""
        assert self._reopen is not None
        new = self._reopen(self._sort, self._skip, self._limit)
        with self._close_lock:
            old, self._ptr = self._ptr, new
        if old is None:  # closed meanwhile
            self._ptr = None
            _close_cursor(new)
            errors.closed(self._kind)
        _close_cursor(old)
        self._stale = False

    def __next__(self) -> dict[str, Any]:
        position = self._position
        if position < len(self._batch):
            self._position = position + 1
            return self._batch[position]
        if self._exhausted:
            raise StopIteration
        self._fetch()
        self._position = 1
        return self._batch[0]

    def close(self) -> None:
        """Closes the cursor, dropping the documents it had read ahead."""
        self._batch = []
        self._position = 0
        super().close()

    def _fetch(self) -> None:
        """Takes the next batch into _batch, or closes the cursor and raises
        StopIteration at the end."""
        if self._stale:
            self._run_again()
        self._started = True
        status = _next_batch(self._handle(), self._batch_size, 0, *self._out)
        if status == Status.DONE:
            errors.take_message(self._err)
            self._exhausted = True
            self._batch = []
            self.close()
            raise StopIteration
        errors.raise_for_status(status, self._err)
        # The library lends the text until the next call: decode it now,
        # the whole batch in one call.
        self._batch = loads(string_at(self._json, self._json_len.value))
