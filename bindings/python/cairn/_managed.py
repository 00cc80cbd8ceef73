"""The one base class of every handle (Database, Transaction, WriteBatch, Iterator, Cursor).

A handle owns one opaque C pointer. close() releases it exactly once, even
when several threads call close() at the same time; later calls are no-ops.
Any other use after close raises cairn.Closed before reaching the library.
`with handle:` closes on exit (WriteBatch and Transaction refine that: see
batch.py and transaction.py), and __del__ closes a handle that was never
closed, as a backstop only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

from . import errors

P = TypeVar("P")
H = TypeVar("H", bound="Managed[Any]")


class Managed(Generic[P]):
    """Owns one C handle of type P (a ctypes pointer)."""

    #: What error messages call this kind of handle ("database", ...).
    _kind: ClassVar[str] = "handle"

    _ptr: P | None

    def __init__(self, ptr: P, release: Callable[[P], None]) -> None:
        self._ptr = ptr
        self._release = release
        self._close_lock = threading.Lock()

    def _handle(self) -> P:
        """The C pointer, or Closed if this handle was closed."""
        ptr = self._ptr
        if ptr is None:
            errors.closed(self._kind)
        return ptr

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._ptr is None

    def close(self) -> None:
        """Releases the handle. Idempotent and safe to call from any thread."""
        ptr = self._detach()
        if ptr is not None:
            self._release(ptr)

    def _detach(self) -> P | None:
        """Marks the handle closed without releasing it and returns the C
        pointer (None if it was already closed), for a call that frees the
        handle itself, such as cairn_txn_commit(). Exactly one caller gets
        the pointer, even when several threads race."""
        with self._close_lock:
            ptr, self._ptr = self._ptr, None
        return ptr

    def __enter__(self: H) -> H:
        self._handle()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A backstop for handles nobody closed; never raise from here. The
        # attribute may be missing when __init__ failed half way.
        if getattr(self, "_ptr", None) is None:
            return
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else "open"
        return f"<cairn.{type(self).__name__} {state}>"
