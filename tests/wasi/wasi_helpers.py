"""Helpers for the WASI tests (imported by them, fixtures included): the raw caller plugin
(wasi_raw.wasm: any WASI function with any arguments, memory image in and out), host
directory trees to mount, and the same plugin on the official runtime for side-by-side
checks.  (Not a conftest.py: tests elsewhere import the top-level conftest by that name.)"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import pytest

import extism_native

# (the same directory as tests/conftest.py's PLUGINS)
PLUGINS = Path(os.environ.get("EXN_TEST_PLUGINS",
                              Path(__file__).parent.parent / "plugins" / "wasm"))


def wasm(name: str) -> bytes:
    """Bytes of a committed test plugin."""
    return (PLUGINS / f"{name}.wasm").read_bytes()

# errno values (WASI preview 1)
ESUCCESS, EBADF, EEXIST, EFAULT, EILSEQ, EINVAL = 0, 8, 20, 21, 25, 28
EISDIR, ELOOP, EMFILE, ENAMETOOLONG, ENOENT, ENOTDIR = 31, 32, 33, 37, 44, 54
ENOTEMPTY, ENOTSUP, EPERM, ESPIPE, ENOTCAPABLE, EXDEV = 55, 58, 63, 70, 76, 75

RIGHTS_ALL = (1 << 30) - 1
FD_READ, FD_SEEK, FD_WRITE, FD_TELL = 1 << 1, 1 << 2, 1 << 6, 1 << 5
READ_RIGHTS = RIGHTS_ALL & ~FD_WRITE
O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
FOLLOW = 1
PATH_AT = 1024  # where path arguments are placed in the image


class Raw:
    """wasi_raw.wasm on one runtime: ``call(name, *args, image=, nout=)`` runs the WASI
    function ``name`` with the given arguments after copying ``image`` to guest address 0, and
    returns ``(errno, memory[0:nout])``."""

    def __init__(self, plugin: Any, official: bool = False) -> None:
        self.plugin = plugin
        self.official = official

    def call(self, name: str, *args: int, image: bytes = b"", nout: int = 64) -> Tuple[int, bytes]:
        slots = [nout] + [a & (2**64 - 1) for a in args] + [0] * (9 - len(args))
        out = bytes(self.plugin.call(name, struct.pack("<10Q", *slots) + image))
        return struct.unpack_from("<Q", out)[0], out[8:]

    def errno(self, name: str, *args: int, image: bytes = b"") -> int:
        return self.call(name, *args, image=image, nout=0)[0]

    # ---- helpers for the functions that take paths ----------------------------------------

    @staticmethod
    def paths(*paths: bytes) -> Tuple[bytes, list]:
        """An image with each path at PATH_AT + 4096 * i; returns it and the offsets."""
        image = bytearray(PATH_AT + 4096 * len(paths) + 16)
        offsets = []
        for i, p in enumerate(paths):
            at = PATH_AT + 4096 * i
            image[at:at + len(p)] = p
            offsets.append(at)
        return bytes(image), offsets

    def open(self, path: bytes, dirfd: int = 3, lookup: int = 0, oflags: int = 0,
             rights: int = RIGHTS_ALL, inheriting: int = RIGHTS_ALL, fdflags: int = 0
             ) -> Tuple[int, int]:
        """path_open; returns (errno, new fd)."""
        image, (at,) = self.paths(path)
        err, mem = self.call("path_open", dirfd, lookup, at, len(path), oflags, rights,
                             inheriting, fdflags, 0, image=image, nout=8)
        return err, struct.unpack_from("<I", mem)[0]

    def path1(self, name: str, path: bytes, dirfd: int = 3) -> int:
        """A function taking (fd, path, path_len): path_create_directory and the like."""
        image, (at,) = self.paths(path)
        return self.errno(name, dirfd, at, len(path), image=image)

    def stat(self, path: bytes, dirfd: int = 3, lookup: int = 0) -> Tuple[int, Dict[str, int]]:
        image, (at,) = self.paths(path)
        err, mem = self.call("path_filestat_get", dirfd, lookup, at, len(path), 64, image=image,
                             nout=128)
        return err, filestat(mem[64:128])

    def rename(self, old: bytes, new: bytes, old_fd: int = 3, new_fd: int = 3) -> int:
        image, (a, b) = self.paths(old, new)
        return self.errno("path_rename", old_fd, a, len(old), new_fd, b, len(new), image=image)

    def symlink(self, target: bytes, new: bytes, dirfd: int = 3) -> int:
        image, (a, b) = self.paths(target, new)
        return self.errno("path_symlink", a, len(target), dirfd, b, len(new), image=image)

    def link(self, old: bytes, new: bytes, lookup: int = 0, old_fd: int = 3,
             new_fd: int = 3) -> int:
        image, (a, b) = self.paths(old, new)
        return self.errno("path_link", old_fd, lookup, a, len(old), new_fd, b, len(new),
                          image=image)

    def readlink(self, path: bytes, buf_len: int = 512, dirfd: int = 3) -> Tuple[int, bytes]:
        image, (at,) = self.paths(path)
        err, mem = self.call("path_readlink", dirfd, at, len(path), 64, buf_len, 32,
                             image=image, nout=64 + max(buf_len, 0))
        used = struct.unpack_from("<I", mem, 32)[0]
        return err, mem[64:64 + used]

    def write(self, fd: int, data: bytes) -> Tuple[int, int]:
        image = struct.pack("<II", 64, len(data)) + bytes(56) + data
        err, mem = self.call("fd_write", fd, 0, 1, 8, image=image, nout=16)
        return err, struct.unpack_from("<I", mem, 8)[0]

    def read(self, fd: int, n: int) -> Tuple[int, bytes]:
        image = struct.pack("<II", 64, n)
        err, mem = self.call("fd_read", fd, 0, 1, 8, image=image, nout=64 + n)
        got = struct.unpack_from("<I", mem, 8)[0]
        return err, mem[64:64 + got]

    def seek(self, fd: int, offset: int, whence: int) -> Tuple[int, int]:
        err, mem = self.call("fd_seek", fd, offset, whence, 8, nout=16)
        return err, struct.unpack_from("<Q", mem, 8)[0]

    def close(self, fd: int) -> int:
        return self.errno("fd_close", fd)

    def readdir(self, fd: int = 3, buf_len: int = 4096, cookie: int = 0
                ) -> Tuple[int, list, int]:
        """fd_readdir; returns (errno, [(d_next, ino, type, name)], bufused)."""
        err, mem = self.call("fd_readdir", fd, 64, buf_len, cookie, 8, nout=64 + buf_len)
        used = struct.unpack_from("<I", mem, 8)[0]
        buf, entries, at = mem[64:64 + used], [], 0
        while at + 24 <= used:
            nxt, ino, namlen, typ = struct.unpack_from("<QQIB", buf, at)
            entries.append((nxt, ino, typ, buf[at + 24:at + 24 + namlen]))
            at += 24 + namlen
        return err, entries, used


def filestat(b: bytes) -> Dict[str, int]:
    dev, ino, ftype, nlink, size, atim, mtim, ctim = struct.unpack("<QQB7xQQQQQ", b)
    return dict(dev=dev, ino=ino, filetype=ftype, nlink=nlink, size=size, atim=atim, mtim=mtim,
                ctim=ctim)


def make_tree(root: Path) -> Dict[str, Path]:
    """The standard layout: root/mnt (mounted read-write), root/ro (mounted "ro:"), and
    root/outside (never mounted; holds a sentinel) with links pointing out of the mount."""
    mnt, ro, outside = root / "mnt", root / "ro", root / "outside"
    for d in (mnt / "sub" / "deep", ro / "d", outside):
        d.mkdir(parents=True)
    (mnt / "file").write_bytes(b"hello world")
    (mnt / "sub" / "inner").write_bytes(b"inner")
    (ro / "f").write_bytes(b"read only")
    (outside / "secret").write_bytes(b"secret")
    os.symlink("../outside", mnt / "link_out")
    os.symlink(str(outside / "secret"), mnt / "abs_link")
    os.symlink("sub", mnt / "link_in")
    os.symlink("link_out", mnt / "chain")
    os.symlink("sub/../file", mnt / "rel_file")
    os.symlink("loop_b", mnt / "loop_a")
    os.symlink("loop_a", mnt / "loop_b")
    os.symlink("missing", mnt / "dangling")
    return {"mnt": mnt, "ro": ro, "outside": outside}


def snapshot(root: Path) -> Dict[str, Tuple[str, bytes, int, int]]:
    """Every entry under root: (kind, content or link text, mtime_ns, mode)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if os.path.islink(p):
                out[str(p.relative_to(root))] = ("link", os.readlink(p).encode(), st.st_mtime_ns,
                                                 st.st_mode)
            elif p.is_dir():
                out[str(p.relative_to(root))] = ("dir", b"", st.st_mtime_ns, st.st_mode)
            else:
                out[str(p.relative_to(root))] = ("file", p.read_bytes(), st.st_mtime_ns,
                                                 st.st_mode)
    return out


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path)


def raw_plugin(paths: Optional[Dict[str, str]] = None, wasi: Any = True,
               official: bool = False) -> Raw:
    manifest = {"wasm": [{"data": wasm("wasi_raw")}]}
    if paths is not None:
        manifest["allowed_paths"] = paths
    if official:
        extism = pytest.importorskip("extism")
        return Raw(extism.Plugin(manifest, wasi=True, functions=[]), official=True)
    return Raw(extism_native.Plugin(manifest, wasi=wasi), official=False)


@pytest.fixture
def raw(tree) -> Raw:
    """wasi_raw on our runtime with tree's mnt at fd 3 ("/mnt") and ro at fd 4 ("/ro")."""
    return raw_plugin({str(tree["mnt"]): "/mnt", "ro:" + str(tree["ro"]): "/ro"},
                      wasi=extism_native.WASI(stdout="capture", stderr="capture"))


@pytest.fixture
def make_raw() -> Callable[..., Raw]:
    return raw_plugin


def run_command(name: str, args: list, paths: Optional[Dict[str, str]] = None,
                **wasi: Any) -> Tuple[int, bytes, bytes]:
    """Run the WASI command plugin `name` (through `_start`) once on our runtime; returns
    (exit code, stdout, stderr)."""
    manifest: Dict[str, Any] = {"wasm": [{"data": wasm(name)}]}
    if paths:
        manifest["allowed_paths"] = paths
    options = extism_native.WASI(args=[name] + list(args), stdout="capture", stderr="capture",
                                 **wasi)
    with extism_native.Plugin(manifest, wasi=options) as plugin:
        try:
            plugin.call("_start")
            code = 0
        except extism_native.ExitError as exc:
            code = exc.code
        return code, plugin.read_stdout(), plugin.read_stderr()


def steps(stdout: bytes) -> Dict[str, str]:
    """The "name result" lines a test program prints, as a dict."""
    out = {}
    for line in stdout.decode().splitlines():
        name, _, result = line.rpartition(" ")
        if name:
            out[name] = result
    return out


def fd_of(raw: Raw, guest: bytes) -> int:
    """The preopened descriptor whose name is `guest` (the official runtime orders preopens by
    host path, ours by manifest order)."""
    for fd in range(3, 64):
        err, mem = raw.call("fd_prestat_get", fd, 0, nout=8)
        if err:
            break
        length = struct.unpack_from("<I", mem, 4)[0]
        err, mem = raw.call("fd_prestat_dir_name", fd, 64, length, nout=64 + length)
        if mem[64:64 + length] == guest:
            return fd
    raise LookupError(guest)
