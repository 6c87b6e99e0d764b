"""What a host function sees of the plugin calling it: kernel memory, the call's host context,
and a way to fail the call."""

from __future__ import annotations

import functools
import uuid
from enum import IntEnum
from typing import Any, List, Optional, Union

from . import _pickling, errors
from ._callbacks import context_of
from ._native import ffi, lib


class ValType(IntEnum):
    """WebAssembly value types of host-function parameters and results.

    ``PTR`` (a kernel memory handle) is an alias of ``I64``.  (In the official package ``I64``
    is the alias of ``PTR``; the values are the same.)
    """

    I32 = 0
    I64 = 1
    PTR = 1
    F32 = 2
    F64 = 3
    V128 = 4
    FUNC_REF = 5
    EXTERN_REF = 6


class Val:
    """A typed value passed to or returned from an explicitly typed host function.

    Attributes:
        t: the :class:`ValType`.
        value: the Python value (int or float); set it on results.
    """

    __slots__ = ("t", "value")

    def __init__(self, t: ValType, v: Union[int, float]) -> None:
        self.t = t if t.__class__ is ValType else ValType(t)
        self.value = v

    def _assign(self, v: Union[int, float]) -> None:
        self.value = v

    def __repr__(self) -> str:
        return f"Val({self.t}, {self.value})"


class Memory:
    """A block of kernel memory: ``offset`` (its handle) and ``length``."""

    __slots__ = ("offset", "length")

    def __init__(self, offs: int, length: int) -> None:
        self.offset = offs
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return f"Memory(offset={self.offset}, length={self.length})"


def _handle(value: Union[int, Val, Memory]) -> int:
    if isinstance(value, Val):
        return int(value.value)
    if isinstance(value, Memory):
        return value.offset
    return int(value)


_GONE = ("this CurrentPlugin belongs to a host call that has returned: a host function may "
         "use its CurrentPlugin only while it runs")


class CurrentPlugin:
    """The plugin a host function was called from.  Only valid during that host call: kept
    past it, every method raises :class:`UsageError`.

    Kernel memory is addressed by handles (offsets, 0 = null) as the guest sees them.  Views
    returned by :meth:`memory` and :meth:`input_buffer` alias kernel memory and are released
    when the host function returns; a slice of one kept past the host call still refers to
    this plugin's kernel memory, which is then kept until the plugin object is collected (it
    never becomes another plugin's memory) - but its contents belong to later calls: copy what
    you need to keep (:meth:`read`).
    """

    __slots__ = ("pointer", "_views")

    def __init__(self, pointer: Any) -> None:
        self.pointer = pointer  # None once the host call has returned
        self._views: Optional[List[memoryview]] = None

    # ---- memory ------------------------------------------------------------------------------

    def _span(self, offset: int, length: int) -> Any:
        """A pointer to [offset, offset + length) after a bounds check."""
        pointer = self.pointer
        if pointer is None:
            raise errors.UsageError(_GONE)
        size = lib.exn_current_plugin_memory_size(pointer)
        if offset < 0 or length < 0 or offset > size or length > size - offset:
            raise IndexError(f"kernel memory range {offset}+{length} is outside the "
                             f"{size} bytes of kernel memory")
        return lib.extism_current_plugin_memory(pointer) + offset

    def memory(self, mem: Memory) -> memoryview:
        """A writable view of a block of kernel memory (released when the host call ends)."""
        start = self._span(mem.offset, mem.length)
        # A slice of the view can outlive its release: let it keep the C plugin alive, and the
        # plugin keep its kernel memory until then (even if closed), so it never reads or
        # writes memory that another plugin got since.
        ctx = context_of(lib.extism_current_plugin_host_context(self.pointer))
        owner = ctx.plugin_ref if ctx is not None else None
        lib.exn_current_plugin_keep_memory(self.pointer)
        keep = ffi.gc(ffi.cast("uint8_t *", start), functools.partial(_keep, owner))
        view = memoryview(ffi.buffer(keep, mem.length))
        if self._views is None:
            self._views = []
        self._views.append(view)
        return view

    def read(self, offset: Union[int, Val, Memory], length: Optional[int] = None) -> bytes:
        """A copy of kernel memory at a handle; by default the whole block."""
        offset = _handle(offset)
        if length is None:
            pointer = self.pointer
            if pointer is None:
                raise errors.UsageError(_GONE)
            length = lib.extism_current_plugin_memory_length(pointer, offset)
        return ffi.buffer(self._span(offset, length), length)[:] if length else b""

    def write(self, offset: Union[int, Val, Memory], data: bytes) -> None:
        """Copy data into kernel memory at a handle."""
        data = bytes(data)
        if data:
            ffi.memmove(self._span(_handle(offset), len(data)), data, len(data))
        elif self.pointer is None:
            raise errors.UsageError(_GONE)

    def _live(self) -> Any:
        pointer = self.pointer
        if pointer is None:
            raise errors.UsageError(_GONE)
        return pointer

    def alloc(self, size: int) -> Memory:
        """Allocate a block of kernel memory.

        Raises:
            OutOfMemoryError: kernel memory is exhausted.
        """
        pointer = self._live()
        if size < 0:
            raise ValueError("size must not be negative")
        if size == 0:
            return Memory(0, 0)
        offset = lib.extism_current_plugin_memory_alloc(pointer, size)
        if not offset:
            raise errors.OutOfMemoryError(f"cannot allocate {size} bytes of kernel memory")
        return Memory(offset, size)

    def alloc_bytes(self, data: Union[bytes, str]) -> int:
        """Allocate a block holding data (str as UTF-8) and return its handle (0 for empty)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        mem = self.alloc(len(data))
        self.write(mem.offset, data)
        return mem.offset

    def free(self, mem: Union[Memory, int, Val]) -> None:
        """Free a block (anything that is not a live block is ignored)."""
        lib.extism_current_plugin_memory_free(self._live(), _handle(mem))

    def memory_at_offset(self, offs: Union[int, Val]) -> Memory:
        """The block at a handle (length 0 if it is not a live block)."""
        offset = _handle(offs)
        return Memory(offset, lib.extism_current_plugin_memory_length(self._live(), offset))

    # ---- the official package's helpers ------------------------------------------------------

    def return_bytes(self, output: Val, b: bytes) -> None:
        """Put b in a new block and make it the output value."""
        output.value = self.alloc_bytes(b)

    def return_string(self, output: Val, s: str) -> None:
        """Put s (UTF-8) in a new block and make it the output value."""
        output.value = self.alloc_bytes(s)

    def input_buffer(self, input: Val) -> memoryview:
        """A view of the block an input value points to."""
        return self.memory(self.memory_at_offset(input))

    def input_bytes(self, input: Val) -> bytes:
        """A copy of the block an input value points to."""
        return self.read(input)

    def input_string(self, input: Val) -> str:
        """The block an input value points to, decoded as UTF-8."""
        return self.read(input).decode("utf-8")

    # ---- the call -------------------------------------------------------------------------------

    def host_context(self) -> Any:
        """The object passed as ``host_context`` to the ``Plugin.call`` running now, or None."""
        ctx = context_of(lib.extism_current_plugin_host_context(self._live()))
        return ctx.host_context if ctx is not None else None

    def set_error(self, message: Optional[str]) -> None:
        """Set the plugin's error, as the guest's ``error_set`` does: unless the guest clears
        it, the call raises PluginCallError with this message.  ``None`` clears it."""
        data = message.encode("utf-8") if message else b""
        if lib.exn_current_plugin_set_error(self._live(), data, len(data)):
            raise errors.OutOfMemoryError("cannot store the error message")

    @property
    def id(self) -> uuid.UUID:
        """The plugin's id."""
        return uuid.UUID(bytes=ffi.buffer(lib.exn_current_plugin_id(self._live()), 16)[:])

    def _release(self) -> None:
        views, self._views = self._views, None
        for view in views or ():
            try:
                view.release()
            except BufferError:  # something exported from it still lives: see memory()
                pass

    def _retire(self) -> None:
        """The host call is over (the PyPy path; on CPython the C shim does this)."""
        self._release()
        self.pointer = None

    def __reduce__(self) -> Any:
        raise _pickling.unpicklable("a CurrentPlugin", "it is the plugin of one host call in "
                                    "this process (copy what the host function needs)")


def _keep(owner: Any, _start: Any) -> None:
    """Finalizer of a memory view's pointer: `owner` (the C plugin) was kept alive until now."""
