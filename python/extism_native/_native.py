"""The compiled cffi binding and the registry through which C refers to Python objects.

C never holds a reference to a user's object: whatever C must hand back to Python (a plugin's
callback context, host functions) is registered here and given to C as an opaque ``void *``
key, and callbacks look it up by that key (an int-keyed dict).  The host-function shim in
``_ffi_build.py`` keeps a few module-level objects of ``extism_native.host_function`` (this
registry's dict among them) for the life of the process, and nothing else.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict

from ._cffi import ffi, lib

__all__ = ["ffi", "lib", "Slab", "slab"]


class Slab:
    """Objects registered for C under opaque ``void *`` keys (thread-safe registration).

    A key is a small integer cast to a pointer; the map is keyed by the integer, so a callback
    that receives the key as ``uintptr_t`` finds its object with one int-keyed lookup."""

    def __init__(self) -> None:
        self._items: Dict[int, Any] = {}  # key (as an int) -> object
        self._ids = itertools.count(1)
        # re-entrant: a finalizer (Plugin.__del__, ffi.gc destructors freeing host function
        # user data) may run on this thread while it holds the lock, whenever the garbage
        # collector runs (on PyPy, at almost any allocation) and removes its own entry
        self._lock = threading.RLock()

    def add(self, obj: Any) -> Any:
        """Register obj; returns the ``void *`` key to give to C."""
        with self._lock:
            key = next(self._ids)
            self._items[key] = obj
        return ffi.cast("void *", key)

    @staticmethod
    def _int(key: Any) -> int:
        return key if type(key) is int else int(ffi.cast("uintptr_t", key))

    def get(self, key: Any) -> Any:
        """The object registered under a key from C (``void *`` or int), or None."""
        return self._items.get(self._int(key))

    def remove(self, key: Any) -> None:
        with self._lock:
            self._items.pop(self._int(key), None)

    def __len__(self) -> int:
        return len(self._items)


slab = Slab()
