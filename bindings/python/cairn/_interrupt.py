"""Ctrl-C during a long call: KeyboardInterrupt promptly, as in pure Python.

Python runs its SIGINT handler (which raises KeyboardInterrupt) only
between bytecodes, so a query running inside libcairn would finish first.
Instead, Python's C-level handler also writes the signal's number to a
"wakeup fd" at once (signal.set_wakeup_fd), even while the main thread is
inside a C call. A daemon thread reads it and calls cairn_interrupt() on
every open database, so the running call returns CAIRN_INTERRUPTED right
away, and Python then raises the KeyboardInterrupt it was holding.

Installed once, lazily, from the main thread, and only when nobody else
(an asyncio loop, for one) has set a wakeup fd; otherwise Ctrl-C works as
before, after the call. Database.interrupt() works from any thread
regardless.
"""

from __future__ import annotations

import signal
import socket
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .database import Database

_databases: weakref.WeakSet[Database] = weakref.WeakSet()
_lock = threading.Lock()
_installed = False


def watch(database: Database) -> None:
    """Lets Ctrl-C interrupt `database`'s running calls."""
    global _installed
    with _lock:
        _databases.add(database)
        if _installed or threading.current_thread() is not threading.main_thread():
            return
        _installed = True
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread of the main interpreter
        reader.close()
        writer.close()
        return
    if previous != -1:
        # Someone else listens for signals this way: leave them be.
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        return
    thread = threading.Thread(target=_relay, args=(reader, writer), name="cairn-interrupt", daemon=True)
    thread.start()


def _relay(reader: socket.socket, writer: socket.socket) -> None:
    # `writer` stays referenced here: closing it would close the wakeup fd.
    while True:
        try:
            received = reader.recv(64)
        except OSError:
            return
        if not received:
            return
        if signal.SIGINT in received:
            with _lock:
                databases = list(_databases)
            for database in databases:
                database.interrupt()
