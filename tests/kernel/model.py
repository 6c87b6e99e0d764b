"""A Python model of the Extism kernel memory (spec section 2), and the encoder of the programs
that tests/plugins/wat/kernel_ops.wat runs.

The model states the rules extism_native's kernel follows: those of the official kernel as
observed (first handle 77, 12-byte headers, bump allocation, first-fit reuse with tail splits of
at least 128 bytes, growth by whole pages), without its defects (metadata outside guest-writable
bytes, no wrap-around on huge sizes, no off-by-one trap at the end of memory).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

PAGE = 65536
ROOT_END = 64      # addresses below read as 0, stores there are ignored
FIRST_BLOCK = 65   # the first header
HEADER = 12
SPLIT_MIN = 128
INITIAL_PAGES = 16
U64 = (1 << 64) - 1

# operation codes of kernel_ops.wat
ALLOC, FREE, LENGTH, LENGTH_UNSAFE, LOAD_U8, LOAD_U64, STORE_U8, STORE_U64 = range(8)
INPUT_LENGTH, INPUT_LOAD_U8, INPUT_LOAD_U64, INPUT_OFFSET, RESET, INPUT_SET = range(8, 14)
GUARDED = 0x80
NO_SLOT = 0xFF
NAMES = ["alloc", "free", "length", "length_unsafe", "load_u8", "load_u64", "store_u8",
         "store_u64", "input_length", "input_load_u8", "input_load_u64", "input_offset",
         "reset", "input_set"]


@dataclass(frozen=True)
class Op:
    """One record of a kernel_ops program: `code` (| GUARDED), a handle-table `slot` or NO_SLOT,
    the address offset `x` and the stored value `y`."""

    code: int
    slot: int = NO_SLOT
    x: int = 0
    y: int = 0

    def encode(self) -> bytes:
        return struct.pack("<BBQQ", self.code, self.slot, self.x & U64, self.y & U64)

    def __repr__(self) -> str:
        name = NAMES[self.code & 31] if (self.code & 31) < len(NAMES) else str(self.code)
        guard = "?" if self.code & GUARDED else ""
        where = f"h[{self.slot}]+{self.x}" if self.slot != NO_SLOT else str(self.x)
        return f"{name}{guard}({where}, {self.y})"


def encode(ops: Iterable[Op]) -> bytes:
    return b"".join(op.encode() for op in ops)


def decode_results(output: bytes) -> List[int]:
    return [struct.unpack_from("<Q", output, i)[0] for i in range(0, len(output), 8)]


@dataclass
class Block:
    off: int
    size: int
    used: int
    live: bool


class KernelModel:
    """The kernel memory of one call, after the host has set `data` as the input."""

    def __init__(self, limit: int = (INITIAL_PAGES + 65520) * PAGE) -> None:
        self.limit = min(limit, 1 << 32)
        self.mem = bytearray(INITIAL_PAGES * PAGE)
        self.region_end = PAGE - ROOT_END  # blocks end at or before the managed capacity
        self.bump = FIRST_BLOCK
        self.blocks: List[Block] = []  # sorted by offset
        self.input = self.input_len = 0

    # ---- allocator ---------------------------------------------------------------------------

    def _header(self, b: Block) -> None:
        self.mem[b.off - HEADER:b.off] = struct.pack("<B3xII", 1 if b.live else 2, b.size,
                                                     b.used)

    def _grow(self, need: int) -> bool:
        shortfall = self.bump + need - self.region_end
        add = -(-shortfall // PAGE) * PAGE
        if add > self.limit or len(self.mem) > self.limit - add:
            return False
        self.mem.extend(bytes(add))
        self.region_end += add
        return True

    def alloc(self, n: int) -> int:
        if n == 0 or n > self.limit:
            return 0
        need = HEADER + n
        if need > self.region_end - self.bump:
            for i, b in enumerate(self.blocks):
                if b.live or b.size < n:
                    continue
                if b.size - n >= SPLIT_MIN:
                    tail = Block(b.off + b.size - n, n, n, True)
                    b.size -= need
                    b.used = 0
                    self._header(b)
                    self.blocks.insert(i + 1, tail)
                    self._header(tail)
                    return tail.off
                b.live, b.used = True, n
                self._header(b)
                return b.off
            if not self._grow(need):
                return 0
        b = Block(self.bump + HEADER, n, n, True)
        self.mem[self.bump:self.bump + need] = bytes(need)  # fresh space reads as zero
        self.bump += need
        self.blocks.append(b)
        self._header(b)
        return b.off

    def _live(self, h: int) -> Optional[Block]:
        for b in self.blocks:
            if b.off == h:
                return b if b.live else None
        return None

    def free(self, h: int) -> None:
        b = self._live(h)
        if b is not None:
            b.live = False
            self._header(b)
            if h == self.input:
                self.input_len = 0

    def length(self, h: int) -> int:
        b = self._live(h)
        return b.used if b is not None else 0

    def reset(self) -> None:
        self.mem[ROOT_END:] = bytes(len(self.mem) - ROOT_END)
        self.bump = FIRST_BLOCK
        self.blocks = []
        self.input = self.input_len = 0

    def in_region(self, h: int, n: int) -> bool:
        end = self.region_end + ROOT_END
        if h < FIRST_BLOCK or h >= end:
            return False
        return n == 0 or n - 1 < end - h

    # ---- loads and stores ---------------------------------------------------------------------

    def _in_bounds(self, a: int, n: int) -> bool:
        return ROOT_END <= a < len(self.mem) and n <= len(self.mem) - a

    def load(self, a: int, n: int) -> int:
        if not self._in_bounds(a, n):
            return 0
        return int.from_bytes(self.mem[a:a + n], "little")

    def store(self, a: int, n: int, value: int) -> None:
        if self._in_bounds(a, n):
            self.mem[a:a + n] = (value & ((1 << (8 * n)) - 1)).to_bytes(n, "little")

    # ---- input --------------------------------------------------------------------------------

    def set_input(self, data: bytes) -> None:
        """What the host does before the call."""
        if data:
            self.input = self.alloc(len(data))
            self.mem[self.input:self.input + len(data)] = data
            self.input_len = len(data)

    def input_load(self, i: int, n: int) -> int:
        if self.input_len < n or i > self.input_len - n:
            return 0
        return int.from_bytes(self.mem[self.input + i:self.input + i + n], "little")

    # ---- programs -----------------------------------------------------------------------------

    def step(self, op: Op, handles: List[int]) -> Tuple[int, Optional[bool]]:
        """Run one operation of a kernel_ops program (`handles` is its handle table): returns its
        result and, for free/length/length_unsafe, whether the address was the start of a live
        block beforehand (None for the others)."""
        base = handles[op.slot % len(handles)] if op.slot != NO_SLOT and handles else 0
        a = (base + op.x) & U64
        code = op.code & 31
        if op.code & GUARDED and base == 0:
            return 0, None
        live = self._live(a) is not None if code in (LENGTH, LENGTH_UNSAFE, FREE) else None
        r = 0
        if code == ALLOC:
            r = self.alloc(a)
            if len(handles) < 256:
                handles.append(r)
        elif code == FREE:
            self.free(a)
        elif code in (LENGTH, LENGTH_UNSAFE):
            r = self.length(a)
        elif code in (LOAD_U8, LOAD_U64):
            r = self.load(a, 1 if code == LOAD_U8 else 8)
        elif code in (STORE_U8, STORE_U64):
            self.store(a, 1 if code == STORE_U8 else 8, op.y)
        elif code == INPUT_LENGTH:
            r = self.input_len
        elif code in (INPUT_LOAD_U8, INPUT_LOAD_U64):
            r = self.input_load(a, 1 if code == INPUT_LOAD_U8 else 8)
        elif code == INPUT_OFFSET:
            r = self.input
            if len(handles) < 256:
                handles.append(r)
        elif code == RESET:
            self.reset()
        elif code == INPUT_SET and self.in_region(a, op.y & U64):
            self.input, self.input_len = a, op.y & U64
        return r, live

    def effective_address(self, op: Op, handles: List[int]) -> int:
        base = handles[op.slot % len(handles)] if op.slot != NO_SLOT and handles else 0
        return (base + op.x) & U64

    def live_block_at(self, a: int) -> Optional[Block]:
        """The live block whose data contains address a, if any."""
        for b in self.blocks:
            if b.live and b.off <= a < b.off + b.used:
                return b
        return None

    def run(self, ops: Sequence[Op]) -> Tuple[List[int], List[Optional[bool]]]:
        """Run a whole program: each operation's result, and the liveness flags of step()."""
        handles: List[int] = []
        results, was_live = [], []
        for op in ops:
            r, live = self.step(op, handles)
            results.append(r)
            was_live.append(live)
        return results, was_live


def expected(ops: Sequence[Op]) -> Tuple[List[int], List[Optional[bool]]]:
    """What kernel_ops.wat outputs for `ops` (the program itself is the call's input)."""
    model = KernelModel()
    model.set_input(encode(ops))
    return model.run(ops)
