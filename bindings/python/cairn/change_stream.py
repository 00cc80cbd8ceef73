"""ChangeStream: a watch of the change feed (wraps cairn_watch).

Made by Database.watch() (and Collection.watch()); include/cairn.h,
"Change feeds", describes the events and the options. Events are dicts as
MongoDB's change events, with Extended JSON turned into Python values: the
key and value of a key-value event are bytes, wallTime is an aware
datetime.
"""

from __future__ import annotations

import threading
import time
from ctypes import byref, c_char_p, c_size_t
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import take_buffer
from ._ffi import Status, lib
from ._managed import Managed
from ._extended_json import loads

if TYPE_CHECKING:
    from .database import Database

__all__ = ["ChangeStream"]

#: The longest one C call waits, so that Ctrl-C (handled between calls) and
#: close() from another thread take effect promptly.
_SLICE_MS = 200


def _close_watch(ptr: Any) -> None:
    lib.cairn_watch_close(ptr)


class ChangeStream(Managed[Any]):
    """The changes of a database, a collection or a key prefix, in commit
    order, from a start point on; resumable with an event's "_id".

    Iterating yields each event (a dict) as it comes. With `timeout` (in
    seconds, given to watch()) iteration ends when no event came within
    that time; without one it waits for the next event until the stream is
    closed, from any thread, which ends the iteration. `with` closes the
    stream on exit. next_event(timeout) returns one event or None.

        with db.watch(collection="orders", filter={"operationType": "insert"}) as stream:
            for event in stream:
                handle(event["fullDocument"])
                save(stream.resume_token)

    One thread iterates at a time; close() may come from any thread.
    HistoryLost is raised when the stream's start point, or a point it fell
    behind to, is older than the retained history.
    """

    _kind = "change stream"

    def __init__(self, owner: Database, ptr: Any, timeout: float | None) -> None:
        super().__init__(ptr, _close_watch)
        self._owner = owner  # keeps the database object alive while watching
        self._timeout = timeout
        self._resume_token: dict[str, int] | None = None
        self._lock = threading.Lock()

    @property
    def resume_token(self) -> dict[str, int] | None:
        """The "_id" of the last event returned (pass it as resume_after=
        to continue after it), or None before the first."""
        return self._resume_token

    def next_event(self, timeout: float | None = 0.0) -> dict[str, Any] | None:
        """The next event, waiting up to `timeout` seconds (None: until one
        comes); None when none came in time or the stream was closed
        meanwhile by another thread."""
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._lock:
            while True:
                if self._ptr is None:
                    return None
                if deadline is None:
                    slice_ms = _SLICE_MS
                else:
                    slice_ms = min(_SLICE_MS, max(0, int((deadline - time.monotonic()) * 1000)))
                event, event_len, err = c_char_p(), c_size_t(), c_char_p()
                status = lib.cairn_watch_next(self._ptr, slice_ms, byref(event), byref(event_len), byref(err))
                if status == Status.OK:
                    errors.take_message(err)
                    result: dict[str, Any] = loads(take_buffer(event, event_len.value))
                    self._resume_token = result.get("_id")
                    return result
                if status == Status.DONE:
                    errors.take_message(err)
                    if deadline is not None and time.monotonic() >= deadline:
                        return None
                    continue
                if status == Status.CLOSED and self._ptr is None:
                    errors.take_message(err)
                    return None  # closed by another thread while waiting
                errors.raise_for_status(status, err)

    def __iter__(self) -> ChangeStream:
        return self

    def __next__(self) -> dict[str, Any]:
        self._handle()
        event = self.next_event(self._timeout)
        if event is None:
            raise StopIteration
        return event

    def close(self) -> None:
        """Closes the stream; an iteration waiting in another thread ends.
        Idempotent."""
        ptr = self._detach()
        if ptr is not None:
            _close_watch(ptr)


def open_watch(
    owner: Database,
    kind: int,
    target: bytes,
    options: dict[str, Any],
    timeout: float | None,
) -> ChangeStream:
    """cairn_watch_open() with the options as JSON text."""
    from ._extended_json import dumps

    text = dumps(options, "watch options") if options else None
    out = _ffi.watch_p()
    errors.call(
        lib.cairn_watch_open,
        owner._handle(),
        kind,
        target,
        len(target),
        text,
        len(text) if text else 0,
        byref(out),
    )
    return ChangeStream(owner, out, timeout)
