"""Iterator: walks (key, value) pairs of a snapshot in key order (wraps cairn_iter).

Items cross from the library in batches (cairn_iter_next_batch): one call
fills a borrowed buffer with many keys and values back to back and an array
of their lengths, and Python splits it with one struct call instead of
crossing ctypes for each item. The batch size is the library's adaptive one
(64 items, doubling up to 4096) unless `batch_size` is given.
"""

from __future__ import annotations

import struct
from collections import deque
from itertools import chain
from collections.abc import Iterator as PyIterator
from ctypes import byref, c_char_p, c_size_t, string_at
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import BytesLike, to_bytes
from ._ffi import Status, lib
from ._managed import Managed

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Iterator"]

_next_batch = lib.cairn_iter_next_batch
_EMPTY: PyIterator[Any] = iter(())
#: Struct objects for batches whose keys (and values) all have one length,
#: the common case of fixed-size keys and records: each splits a whole batch
#: in C. A few shapes at most are kept.
_UNIFORM: dict[tuple[int, int], struct.Struct] = {}
_PAIR_LENGTHS = struct.Struct("=II")


def _close_iter(ptr: Any) -> None:
    errors.raise_for_status(lib.cairn_iter_close(ptr))


def _pieces(data: bytes, lengths: bytes) -> tuple[bytes, ...]:
    """Splits `data` at `lengths` (native uint32 each), in C: the lengths
    become a struct format such as "16s100s16s100s"."""
    fmt = "s".join(map(str, memoryview(lengths).cast("I"))) + "s"
    return struct.unpack("=" + fmt, data)


def _split_pairs(data: bytes, lengths: bytes, count: int) -> PyIterator[tuple[bytes, bytes]]:
    """The (key, value) pairs of one batch."""
    if lengths == lengths[:8] * count:  # every key and every value of one length
        shape = _PAIR_LENGTHS.unpack_from(lengths)
        splitter = _UNIFORM.get(shape)
        if splitter is None:
            if len(_UNIFORM) > 16:
                _UNIFORM.clear()
            splitter = _UNIFORM[shape] = struct.Struct(f"={shape[0]}s{shape[1]}s")
        pairs: PyIterator[tuple[bytes, bytes]] = splitter.iter_unpack(data)
        return pairs
    pieces = iter(_pieces(data, lengths))
    return zip(pieces, pieces)


def _split_keys(data: bytes, lengths: bytes, count: int) -> PyIterator[bytes]:
    """The keys of one keys-only batch."""
    if lengths == lengths[:4] * count:
        (size,) = struct.unpack_from("=I", lengths)
        return iter(struct.unpack("=" + f"{size}s" * count, data))
    return iter(_pieces(data, lengths))


class Iterator(Managed[Any]):
    """A Python iterator of (key, value) bytes over a consistent snapshot.

    Made by Database.iterate(). Writes made after it was opened are not seen.
    It holds its snapshot until close(), so close it (or use `with`) when
    done; once the database is closed, next() raises Closed (a running
    `for` loop raises it at its next batch). Used by one thread at a time.

    Items are read ahead in batches; `for` loops and next() share them, so
    both may be mixed. iter(it) returns an iterator over the same items that
    hands each item on without running Python code for it.
    """

    _kind = "iterator"
    _flags = 0

    def __init__(self, db: Database, ptr: Any, batch_size: int = 0) -> None:
        super().__init__(ptr, _close_iter)
        self._db = db  # keeps the database object alive while iterating
        if batch_size < 0:
            errors.invalid(f"batch_size must be 0 (adaptive) or more, not {batch_size}")
        self._batch_size = batch_size
        self._pending: PyIterator[Any] = _EMPTY
        self._done = False
        # Out-parameters of cairn_iter_next_batch(), made once.
        self._data, self._data_len = _ffi.u8_p(), c_size_t()
        self._lengths, self._count = _ffi.u32_pp._type_(), c_size_t()
        self._err = c_char_p()
        self._out = (
            byref(self._data),
            byref(self._data_len),
            byref(self._lengths),
            byref(self._count),
            byref(self._err),
        )

    def _refill(self) -> bool:
        """Takes the next batch into _pending; False at the end."""
        if self._done:
            self._handle()
            return False
        ptr = self._handle()
        if self._db._ptr is None:
            errors.closed("database")
        status = _next_batch(ptr, self._batch_size, 0, self._flags, *self._out)
        if status == Status.DONE:
            self._done = True
            return False
        errors.raise_for_status(status, self._err)
        count = self._count.value
        pieces = count if self._flags else 2 * count
        # The library lends both buffers until the next call: copy them now
        # (two memcpy calls), then split in Python.
        data = string_at(self._data, self._data_len.value)
        lengths = string_at(self._lengths, 4 * pieces)
        self._pending = self._split(data, lengths, count)
        return True

    def _split(self, data: bytes, lengths: bytes, count: int) -> PyIterator[Any]:
        return _split_pairs(data, lengths, count)

    def _batches(self) -> PyIterator[PyIterator[Any]]:
        """The batches, each an iterator of items, for chain.from_iterable:
        items then flow from the batch to the caller without any Python
        code running per item; this runs once per batch."""
        while True:
            pending = self._pending
            yield pending
            # next() or seek() may have replaced the batch meanwhile: go on
            # with theirs rather than fetching past it.
            if self._pending is pending and not self._refill():
                return

    def _items(self) -> PyIterator[Any]:
        return chain.from_iterable(self._batches())

    def __iter__(self) -> PyIterator[tuple[bytes, bytes]]:
        return self._items()

    def __next__(self) -> tuple[bytes, bytes]:
        if self._db._ptr is None:
            errors.closed("database")
        while True:
            item: tuple[bytes, bytes] | None = next(self._pending, None)
            if item is not None:
                return item
            if not self._refill():
                raise StopIteration

    def _discard_batch(self) -> None:
        """Forgets the items read ahead, also for a generator suspended in
        the middle of them (which then fetches anew)."""
        old, self._pending = self._pending, _EMPTY
        deque(old, maxlen=0)

    def close(self) -> None:
        self._discard_batch()
        super().close()

    def seek(self, key: BytesLike) -> Iterator:
        """Repositions the iterator: forward, the next item is the first key
        >= `key`; in reverse, the last key <= `key`. Bounds still apply.
        Returns the iterator itself, so `for k, v in it.seek(b"m"):` works."""
        k = to_bytes(key)
        errors.call(lib.cairn_iter_seek, self._handle(), k, len(k))
        self._discard_batch()
        self._done = False
        return self


class _KeyIterator(Iterator):
    """An Iterator of keys only (CAIRN_BATCH_KEYS_ONLY): values are neither
    copied by the library nor by Python."""

    _flags = _ffi.BATCH_KEYS_ONLY

    def _split(self, data: bytes, lengths: bytes, count: int) -> PyIterator[Any]:
        return _split_keys(data, lengths, count)

    def __iter__(self) -> PyIterator[bytes]:  # type: ignore[override]
        return self._items()

    def count_rest(self) -> int:
        """Counts the keys left, taking whole batches without splitting them."""
        count = sum(1 for _ in self._pending)
        while self._refill_counting():
            count += self._count.value
        return count

    def _refill_counting(self) -> bool:
        if self._done:
            return False
        status = _next_batch(self._handle(), 4096, 0, self._flags, *self._out)
        if status == Status.DONE:
            self._done = True
            return False
        errors.raise_for_status(status, self._err)
        return True

    def next_key(self) -> bytes:
        key: bytes = Iterator.__next__(self)  # type: ignore[assignment]
        return key
