"""What a host function sees of the plugin calling it: kernel memory, the call's host context,
and a way to fail the call."""

from __future__ import annotations

import uuid
from enum import IntEnum
from typing import Any, List, Optional, Union

from . import errors
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


class CurrentPlugin:
    """The plugin a host function was called from.  Only valid during that host call.

    Kernel memory is addressed by handles (offsets, 0 = null) as the guest sees them.  Views
    returned by :meth:`memory` and :meth:`input_buffer` alias kernel memory and are released
    when the host function returns.
    """

    __slots__ = ("pointer", "_views")

    def __init__(self, pointer: Any) -> None:
        self.pointer = pointer
        self._views: Optional[List[memoryview]] = None

    # ---- memory ------------------------------------------------------------------------------

    def _span(self, offset: int, length: int) -> Any:
        """A pointer to [offset, offset + length) after a bounds check."""
        size = lib.exn_current_plugin_memory_size(self.pointer)
        if offset < 0 or length < 0 or offset > size or length > size - offset:
            raise IndexError(f"kernel memory range {offset}+{length} is outside the "
                             f"{size} bytes of kernel memory")
        return lib.extism_current_plugin_memory(self.pointer) + offset

    def memory(self, mem: Memory) -> memoryview:
        """A writable view of a block of kernel memory (released when the host call ends)."""
        view = memoryview(ffi.buffer(self._span(mem.offset, mem.length), mem.length))
        if self._views is None:
            self._views = []
        self._views.append(view)
        return view

    def read(self, offset: Union[int, Val, Memory], length: Optional[int] = None) -> bytes:
        """A copy of kernel memory at a handle; by default the whole block."""
        offset = _handle(offset)
        if length is None:
            length = lib.extism_current_plugin_memory_length(self.pointer, offset)
        return ffi.buffer(self._span(offset, length), length)[:] if length else b""

    def write(self, offset: Union[int, Val, Memory], data: bytes) -> None:
        """Copy data into kernel memory at a handle."""
        data = bytes(data)
        if data:
            ffi.memmove(self._span(_handle(offset), len(data)), data, len(data))

    def alloc(self, size: int) -> Memory:
        """Allocate a block of kernel memory.

        Raises:
            OutOfMemoryError: kernel memory is exhausted.
        """
        if size < 0:
            raise ValueError("size must not be negative")
        if size == 0:
            return Memory(0, 0)
        offset = lib.extism_current_plugin_memory_alloc(self.pointer, size)
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
        lib.extism_current_plugin_memory_free(self.pointer, _handle(mem))

    def memory_at_offset(self, offs: Union[int, Val]) -> Memory:
        """The block at a handle (length 0 if it is not a live block)."""
        offset = _handle(offs)
        return Memory(offset, lib.extism_current_plugin_memory_length(self.pointer, offset))

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
        ctx = context_of(lib.extism_current_plugin_host_context(self.pointer))
        return ctx.host_context if ctx is not None else None

    def set_error(self, message: Optional[str]) -> None:
        """Set the plugin's error, as the guest's ``error_set`` does: unless the guest clears
        it, the call raises PluginCallError with this message.  ``None`` clears it."""
        data = message.encode("utf-8") if message else b""
        if lib.exn_current_plugin_set_error(self.pointer, data, len(data)):
            raise errors.OutOfMemoryError("cannot store the error message")

    @property
    def id(self) -> uuid.UUID:
        """The plugin's id."""
        return uuid.UUID(bytes=ffi.buffer(lib.exn_current_plugin_id(self.pointer), 16)[:])

    def _release(self) -> None:
        views, self._views = self._views, None
        for view in views or ():
            try:
                view.release()
            except BufferError:
                pass
