"""The compiled cffi binding and the registry through which C refers to Python objects.

C never holds a PyObject*: whatever C must hand back to Python (a plugin's log sink, later
host functions) is registered here under an integer id, passed to C as ``void *`` user data and
looked up when C calls back through an ``extern "Python"`` trampoline.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Dict

from ._cffi import ffi, lib  # type: ignore[import-not-found]

__all__ = ["ffi", "lib", "Slab", "slab"]


class Slab:
    """Objects registered for C under integer ids (thread-safe)."""

    def __init__(self) -> None:
        self._items: Dict[int, Any] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, obj: Any) -> int:
        with self._lock:
            key = next(self._ids)
            self._items[key] = obj
        return key

    def get(self, key: int) -> Any:
        return self._items.get(key)

    def remove(self, key: int) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def to_c(key: int) -> Any:
        return ffi.cast("void *", key)

    @staticmethod
    def from_c(ptr: Any) -> int:
        return int(ffi.cast("uintptr_t", ptr))


slab = Slab()
