"""WriteBatch: puts, deletes and range deletes applied atomically (wraps cairn_batch)."""

from __future__ import annotations

from ctypes import byref, c_size_t
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import TTL, BytesLike, to_bytes, ttl_to_ms
from ._ffi import lib
from ._managed import Managed

if TYPE_CHECKING:
    from .database import Database

__all__ = ["WriteBatch"]


def _free_batch(ptr: Any) -> None:
    errors.raise_for_status(lib.cairn_batch_free(ptr))


class WriteBatch(Managed[Any]):
    """Operations that Database.write() applies all or nothing, in order.

    `with db.batch() as b:` writes the batch to db when the block ends
    normally and discards it when the block raises; the batch is closed
    either way. A batch made directly (`cairn.WriteBatch()`) is written with
    `db.write(batch)`, may be written again or to another database, and
    `with` merely closes it. Used by one thread at a time.
    """

    _kind = "write batch"

    def __init__(self, db: Database | None = None) -> None:
        out = _ffi.batch_p()
        errors.call(lib.cairn_batch_new, byref(out))
        super().__init__(out, _free_batch)
        self._db = db

    def put(self, key: BytesLike, value: BytesLike, *, ttl: TTL | None = None, ttl_ms: int | None = None) -> None:
        """Adds a put; arguments as Database.put()."""
        k, v = to_bytes(key), to_bytes(value, "value")
        ms = ttl_to_ms(ttl, ttl_ms)
        errors.call(lib.cairn_batch_put, self._handle(), k, len(k), v, len(v), ms)

    def delete(self, key: BytesLike) -> None:
        """Adds a delete of `key`."""
        k = to_bytes(key)
        errors.call(lib.cairn_batch_delete, self._handle(), k, len(k))

    def delete_range(self, start: BytesLike, end: BytesLike) -> None:
        """Adds a delete of every key k with start <= k < end."""
        s, e = to_bytes(start, "start"), to_bytes(end, "end")
        errors.call(lib.cairn_batch_delete_range, self._handle(), s, len(s), e, len(e))

    def clear(self) -> None:
        """Removes every operation, so the batch can be reused."""
        errors.raise_for_status(lib.cairn_batch_clear(self._handle()))

    def __len__(self) -> int:
        """The number of operations in the batch."""
        count = c_size_t()
        errors.raise_for_status(lib.cairn_batch_count(self._handle(), byref(count)))
        return count.value

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._db is not None:
                self._db.write(self)
        finally:
            self.close()
