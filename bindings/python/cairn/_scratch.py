"""Each thread's out-parameters for the calls made most often.

A ctypes out-parameter costs an object and a byref() per call, which is
more than some calls cost in the library. These are made once per thread
instead (ctypes releases the GIL during a call, so threads cannot share
them): the message pointer every fallible call takes, a length, a text
pointer and its length for calls that return JSON, and the buffer
cairn_get_into() copies values into.
"""

from __future__ import annotations

import threading
from ctypes import byref, c_char_p, c_size_t, c_uint8

__all__ = ["scratch"]


class _Scratch(threading.local):
    def __init__(self) -> None:
        self.err = c_char_p()
        self.err_ref = byref(self.err)
        self.size = c_size_t()
        self.size_ref = byref(self.size)
        self.text = c_char_p()
        self.text_ref = byref(self.text)
        self.text_len = c_size_t()
        self.text_len_ref = byref(self.text_len)
        self.cap = 0
        self.grow(4096)

    def grow(self, needed: int) -> None:
        """Makes the value buffer at least `needed` bytes (a power of two)."""
        cap = 4096
        while cap < needed:
            cap *= 2
        if self.cap >= cap:
            return
        self.cap = cap
        self.buf = (c_uint8 * cap)()
        self.view = memoryview(self.buf).cast("B")
        #: What get() needs, in one attribute: each attribute of a
        #: threading.local costs a lookup in the thread's dictionary.
        self.get_args = (self.buf, cap, self.size_ref, self.err_ref, self.size, self.view)


#: The calling thread's out-parameters.
scratch = _Scratch()
