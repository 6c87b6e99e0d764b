"""fd_* functions through the raw caller: results, exact errnos for odd arguments (bad
descriptors, pointers outside memory, huge counts, unaligned structures) and the memory they
write (wazero style: every byte of the result area is checked)."""

from __future__ import annotations

import os
import struct

import pytest

from wasi_helpers import (EBADF, EFAULT, EINVAL, EISDIR, ENOTCAPABLE, ENOTSUP, EPERM, ESPIPE,
                          FD_READ, FD_SEEK, FD_TELL, FD_WRITE, O_CREAT, O_DIRECTORY, O_TRUNC,
                          READ_RIGHTS, RIGHTS_ALL, filestat, raw, tree)  # noqa: F401 (fixtures)

MEMORY = 131072  # wasi_raw has exactly 2 pages
FDS = ["fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
       "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
       "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
       "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write"]


def open_file(raw, name=b"file", rights=RIGHTS_ALL, oflags=0):
    err, fd = raw.open(name, rights=rights, oflags=oflags)
    assert err == 0
    return fd


@pytest.mark.parametrize("function", FDS)
@pytest.mark.parametrize("fd", [5, 99, 2**31, 2**32 - 1])
def test_closed_descriptors_are_ebadf(raw, function, fd):
    args = [fd, 0, 0, 0, 0]
    if function == "fd_renumber":
        args = [fd, 3]
    assert raw.errno(function, *args) == EBADF


def test_read_write_seek_tell(raw, tree):
    fd = open_file(raw)
    assert raw.read(fd, 5) == (0, b"hello")
    assert raw.seek(fd, 0, 1) == (0, 5)
    assert raw.seek(fd, -5, 2) == (0, 6)
    assert raw.read(fd, 100) == (0, b"world")
    assert raw.read(fd, 100) == (0, b"")  # end of file
    assert raw.seek(fd, 0, 0) == (0, 0)
    assert raw.write(fd, b"HELLO") == (0, 5)
    err, mem = raw.call("fd_tell", fd, 8, nout=16)
    assert (err, struct.unpack_from("<Q", mem, 8)[0]) == (0, 5)
    assert raw.seek(fd, 100, 0) == (0, 100)  # past the end is allowed
    assert raw.write(fd, b"!") == (0, 1)
    assert (tree["mnt"] / "file").read_bytes() == b"HELLO world" + bytes(89) + b"!"
    assert raw.seek(fd, -1, 0)[0] == EINVAL
    assert raw.seek(fd, 0, 3)[0] == EINVAL  # unknown whence (the official runtime traps)
    assert raw.close(fd) == 0
    assert raw.close(fd) == EBADF


def test_scatter_gather(raw, tree):
    fd = open_file(raw)
    # three buffers, one empty, read in order
    iovs = struct.pack("<IIIIII", 256, 3, 300, 0, 260, 20)
    err, mem = raw.call("fd_read", fd, 64, 3, 8, image=bytes(64) + iovs, nout=512)
    assert err == 0 and struct.unpack_from("<I", mem, 8)[0] == 11
    assert mem[256:259] == b"hel" and mem[260:268] == b"lo world" and mem[268:280] == bytes(12)
    # gathered write
    raw.seek(fd, 0, 0)
    image = bytearray(512)
    image[64:88] = struct.pack("<IIIIII", 256, 2, 300, 0, 400, 3)
    image[256:258], image[400:403] = b"AB", b"CDE"
    err, mem = raw.call("fd_write", fd, 64, 3, 8, image=bytes(image), nout=16)
    assert err == 0 and struct.unpack_from("<I", mem, 8)[0] == 5
    assert (tree["mnt"] / "file").read_bytes() == b"ABCDE world"


def test_pread_pwrite_leave_the_position(raw, tree):
    fd = open_file(raw)
    image = struct.pack("<II", 64, 5) + bytes(56)
    err, mem = raw.call("fd_pread", fd, 0, 1, 6, 8, image=image, nout=80)
    assert err == 0 and mem[64:69] == b"world" and struct.unpack_from("<I", mem, 8)[0] == 5
    image = struct.pack("<II", 64, 3) + bytes(56) + b"XYZ"
    err, mem = raw.call("fd_pwrite", fd, 0, 1, 20, 8, image=image, nout=16)
    assert err == 0 and struct.unpack_from("<I", mem, 8)[0] == 3
    assert raw.seek(fd, 0, 1) == (0, 0)
    assert (tree["mnt"] / "file").read_bytes() == b"hello world" + bytes(9) + b"XYZ"
    assert raw.errno("fd_pread", fd, 0, 1, 2**63, 8, image=image) == EINVAL


def test_stdio_descriptors(raw):
    assert raw.read(0, 10) == (0, b"")  # empty stdin: end of file
    assert raw.write(0, b"x")[0] == EBADF
    assert raw.read(1, 10)[0] == EBADF
    assert raw.write(1, b"out") == (0, 3) and raw.write(2, b"err") == (0, 3)
    assert raw.plugin.read_stdout() == b"out" and raw.plugin.read_stderr() == b"err"
    for fd in (0, 1, 2):
        assert raw.seek(fd, 0, 1)[0] == ESPIPE
        assert raw.errno("fd_tell", fd, 8) == ESPIPE
        assert raw.errno("fd_pread", fd, 0, 0, 0, 8) == ESPIPE
        assert raw.errno("fd_pwrite", fd, 0, 0, 0, 8) == ESPIPE
        for function in ("fd_sync", "fd_datasync", "fd_filestat_set_size", "fd_allocate",
                         "fd_advise"):
            assert raw.errno(function, fd, 0, 1, 0) == EBADF, function
        assert raw.errno("fd_filestat_set_times", fd, 0, 0, 2) == EBADF
        assert raw.errno("fd_readdir", fd, 0, 10, 0, 100) == EBADF
        assert raw.errno("fd_prestat_get", fd, 0) == EBADF


def test_fdstat(raw):
    err, mem = raw.call("fd_fdstat_get", 1, 64, nout=88)
    filetype, flags, base, inheriting = struct.unpack_from("<BxHxxxxQQ", mem, 64)
    # stdio: a character device without seek/tell rights (a terminal, to wasi-libc's isatty)
    assert (err, filetype, flags) == (0, 2, 0)
    assert base & FD_WRITE and not base & (FD_SEEK | FD_TELL) and inheriting == 0
    err, mem = raw.call("fd_fdstat_get", 3, 64, nout=88)
    filetype, flags, base, inheriting = struct.unpack_from("<BxHxxxxQQ", mem, 64)
    assert (err, filetype) == (0, 3) and inheriting & FD_READ and inheriting & FD_WRITE
    fd = open_file(raw, rights=READ_RIGHTS)
    err, mem = raw.call("fd_fdstat_get", fd, 64, nout=88)
    filetype, flags, base, inheriting = struct.unpack_from("<BxHxxxxQQ", mem, 64)
    assert (err, filetype, flags) == (0, 4, 0)
    assert base & FD_READ and not base & FD_WRITE  # opened for reading only
    assert mem[65] == 0 and mem[68:72] == bytes(4)  # the padding is written as zeros


def test_fdstat_flags(raw, tree):
    fd = open_file(raw)
    assert raw.errno("fd_fdstat_set_flags", fd, 1) == 0  # APPEND
    err, mem = raw.call("fd_fdstat_get", fd, 0, nout=24)
    assert struct.unpack_from("<H", mem, 2)[0] == 1
    raw.seek(fd, 0, 0)
    raw.write(fd, b"!")
    assert (tree["mnt"] / "file").read_bytes() == b"hello world!"
    assert raw.errno("fd_fdstat_set_flags", fd, 0x10) == ENOTSUP  # SYNC after open
    assert raw.errno("fd_fdstat_set_flags", fd, 0x20) == EINVAL
    assert raw.errno("fd_fdstat_set_flags", 1, 4) == 0  # stdio: NONBLOCK recorded


def test_rights_can_only_be_dropped(raw):
    fd = open_file(raw)
    err, mem = raw.call("fd_fdstat_get", fd, 0, nout=24)
    base = struct.unpack_from("<Q", mem, 8)[0]
    assert base & FD_WRITE and base & FD_READ
    assert raw.errno("fd_fdstat_set_rights", fd, base & ~FD_WRITE, 0) == 0
    assert raw.write(fd, b"x")[0] == EBADF  # (POSIX's answer for a read-only descriptor)
    assert raw.errno("fd_fdstat_set_rights", fd, RIGHTS_ALL, 0) == ENOTCAPABLE
    assert raw.errno("fd_fdstat_set_rights", fd, FD_READ, 0) == 0
    assert raw.seek(fd, 0, 0)[0] == ENOTCAPABLE
    assert raw.read(fd, 3) == (0, b"hel")
    assert raw.errno("fd_filestat_get", fd, 0) == ENOTCAPABLE
    assert raw.errno("fd_sync", fd) == ENOTCAPABLE
    # a directory that lost PATH_OPEN opens nothing
    assert raw.errno("fd_fdstat_set_rights", 3, 0, 0) == 0
    assert raw.open(b"file")[0] == ENOTCAPABLE


def test_filestat_and_sizes(raw, tree):
    fd = open_file(raw)
    err, mem = raw.call("fd_filestat_get", fd, 64, nout=128)
    st = filestat(mem[64:128])
    host = os.stat(tree["mnt"] / "file")
    assert err == 0 and st["filetype"] == 4 and st["size"] == 11 and st["nlink"] == 1
    assert (st["dev"], st["ino"], st["mtim"]) == (host.st_dev, host.st_ino, host.st_mtime_ns)
    assert raw.errno("fd_filestat_set_size", fd, 3) == 0
    assert (tree["mnt"] / "file").read_bytes() == b"hel"
    assert raw.errno("fd_filestat_set_size", fd, 6) == 0
    assert (tree["mnt"] / "file").read_bytes() == b"hel\0\0\0"
    assert raw.errno("fd_filestat_set_size", 3, 0) == EISDIR
    err, mem = raw.call("fd_filestat_get", 1, 64, nout=128)
    assert err == 0 and filestat(mem[64:128]) == dict(dev=0, ino=0, filetype=2, nlink=0, size=0,
                                                       atim=0, mtim=0, ctim=0)


def test_set_times(raw, tree):
    fd = open_file(raw)
    assert raw.errno("fd_filestat_set_times", fd, 10**18, 2 * 10**18 + 7, 1 | 4) == 0
    st = os.stat(tree["mnt"] / "file")
    assert (st.st_atime_ns, st.st_mtime_ns) == (10**18, 2 * 10**18 + 7)
    assert raw.errno("fd_filestat_set_times", fd, 0, 5, 4) == 0  # only mtim
    st = os.stat(tree["mnt"] / "file")
    assert (st.st_atime_ns, st.st_mtime_ns) == (10**18, 5)
    assert raw.errno("fd_filestat_set_times", fd, 0, 0, 8) == 0  # mtim = now
    assert os.stat(tree["mnt"] / "file").st_mtime_ns > 10**18
    for bad in (1 | 2, 4 | 8, 0x10):
        assert raw.errno("fd_filestat_set_times", fd, 0, 0, bad) == EINVAL


def test_allocate_sync_advise(raw, tree):
    fd = open_file(raw)
    assert raw.errno("fd_allocate", fd, 0, 4096) == 0
    assert os.path.getsize(tree["mnt"] / "file") == 4096
    assert raw.errno("fd_allocate", fd, 10, 5) == 0  # inside: nothing changes
    assert os.path.getsize(tree["mnt"] / "file") == 4096
    assert raw.errno("fd_allocate", fd, 0, 0) == EINVAL
    assert raw.errno("fd_allocate", fd, 2**63, 2**63) == 22  # EFBIG
    assert raw.errno("fd_allocate", 3, 0, 1) == EISDIR
    read_only = open_file(raw, rights=READ_RIGHTS)
    assert raw.errno("fd_allocate", read_only, 0, 1) == ENOTCAPABLE
    assert raw.errno("fd_sync", fd) == 0 and raw.errno("fd_datasync", fd) == 0
    assert raw.errno("fd_sync", 3) == 0  # a directory can be synced
    for advice in range(6):
        assert raw.errno("fd_advise", fd, 0, 100, advice) == 0
    assert raw.errno("fd_advise", fd, 0, 100, 6) == EINVAL
    assert raw.errno("fd_advise", fd, 2**64 - 1, 2, 0) == EINVAL


def test_directories_are_not_read_like_files(raw):
    err, fd = raw.open(b"sub", oflags=O_DIRECTORY, rights=READ_RIGHTS)
    assert err == 0
    assert raw.read(fd, 10)[0] == EBADF
    assert raw.write(fd, b"x")[0] == EBADF
    assert raw.seek(fd, 0, 0)[0] == EBADF
    assert raw.errno("fd_tell", fd, 8) == EBADF
    assert raw.errno("fd_pread", fd, 0, 0, 0, 8) == EBADF


def test_renumber(raw):
    fd = open_file(raw)
    other = open_file(raw, b"sub/inner")
    assert raw.errno("fd_renumber", fd, other) == 0
    assert raw.read(other, 5) == (0, b"hello")  # `other` is now the first file
    assert raw.read(fd, 1)[0] == EBADF
    assert raw.errno("fd_renumber", other, 50) == EBADF  # the target must be open
    assert raw.errno("fd_renumber", other, other) == 0
    assert raw.errno("fd_renumber", other, 1) == 0  # stdout replaced by the file
    assert raw.read(1, 6) == (0, b" world")
    # a preopen can move; it stays a preopen
    assert raw.errno("fd_renumber", 3, 0) == 0
    assert raw.errno("fd_prestat_get", 0, 0) == 0 and raw.errno("fd_prestat_get", 3, 0) == EBADF


def test_lowest_free_descriptor_is_reused(raw):
    fds = [open_file(raw) for _ in range(5)]
    assert fds == [5, 6, 7, 8, 9]
    raw.close(7)
    assert open_file(raw) == 7


def test_descriptor_limit(raw):
    fds = []
    while True:
        err, fd = raw.open(b"file", rights=READ_RIGHTS)
        if err:
            break
        fds.append(fd)
    assert err == 33 and len(fds) == 4096 - 5  # EMFILE after 4096 descriptors
    for fd in fds:
        raw.close(fd)
    assert raw.open(b"file", rights=READ_RIGHTS)[0] == 0


def test_prestat(raw):
    err, mem = raw.call("fd_prestat_get", 3, 64, nout=72)
    assert err == 0 and mem[64:72] == bytes([0, 0, 0, 0, 4, 0, 0, 0])
    err, mem = raw.call("fd_prestat_dir_name", 3, 64, 4, nout=72)
    assert err == 0 and mem[64:72] == b"/mnt\0\0\0\0"
    err, mem = raw.call("fd_prestat_dir_name", 3, 64, 100, nout=72)
    assert err == 0 and mem[64:72] == b"/mnt\0\0\0\0"  # no NUL written
    assert raw.errno("fd_prestat_dir_name", 3, 64, 3) == 37  # ENAMETOOLONG
    fd = open_file(raw)
    assert raw.errno("fd_prestat_get", fd, 0) == EBADF


# ---- pointers and counts -----------------------------------------------------------------------

@pytest.mark.parametrize("function, args", [
    ("fd_fdstat_get", (1, MEMORY - 23)), ("fd_fdstat_get", (1, MEMORY)),
    ("fd_fdstat_get", (1, 2**32 - 1)), ("fd_filestat_get", (3, MEMORY - 63)),
    ("fd_prestat_get", (3, MEMORY - 7)), ("fd_prestat_dir_name", (3, MEMORY - 3, 4)),
    ("fd_tell", (5, MEMORY - 7)), ("fd_seek", (5, 0, 0, MEMORY - 4)),
    ("fd_read", (0, MEMORY - 4, 1, 0)), ("fd_read", (0, 0, 1, MEMORY - 3)),
    ("fd_write", (1, 0, 2**29, 64)), ("fd_write", (1, MEMORY - 8, 2, 64)),
    ("fd_readdir", (3, MEMORY - 10, 11, 0, 0)), ("fd_readdir", (3, 0, 10, 0, MEMORY - 2)),
    ("fd_readdir", (3, 2**32 - 1, 2, 0, 0)),
])
def test_pointers_outside_memory_are_efault(raw, function, args):
    raw.open(b"file")  # fd 5
    assert raw.errno(function, *args) == EFAULT


def test_a_buffer_outside_memory_is_efault_and_nothing_is_written(raw, tree):
    fd = open_file(raw)
    image = struct.pack("<IIII", 256, 2, MEMORY - 1, 2)  # the second buffer pokes out
    assert raw.errno("fd_write", fd, 64, 2, 8, image=bytes(64) + image) == EFAULT
    assert raw.errno("fd_read", fd, 64, 2, 8, image=bytes(64) + image) == EFAULT
    assert (tree["mnt"] / "file").read_bytes() == b"hello world"
    assert raw.seek(fd, 0, 1) == (0, 0)  # and nothing was read either


def test_buffer_at_the_very_end_of_memory(raw):
    image = struct.pack("<II", MEMORY - 3, 3)
    assert raw.errno("fd_write", 1, 0, 1, 8, image=image) == 0
    assert raw.errno("random_get", MEMORY - 1, 1) == 0
    assert raw.errno("random_get", MEMORY, 0) == 0
    assert raw.errno("random_get", MEMORY, 1) == EFAULT


def test_huge_iovec_counts_and_lengths(raw):
    # 2000 empty buffers: the first 1024 are used (a short, here empty, transfer)
    err, mem = raw.call("fd_write", 1, 0, 2000, 65000, nout=65008)
    assert err == 0 and struct.unpack_from("<I", mem, 65000)[0] == 0
    # lengths adding up past 4 GiB
    image = struct.pack("<IIII", 0, 2**32 - 1, 0, 2**32 - 1)
    assert raw.errno("fd_write", 1, 0, 2, 64, image=image) == EFAULT  # (and they do not fit)
    # the whole of memory, twice: 256 KiB from one call
    image = struct.pack("<IIII", 0, MEMORY, 0, MEMORY)
    err, mem = raw.call("fd_write", 1, 0, 2, 64, image=image, nout=72)
    assert err == 0 and struct.unpack_from("<I", mem, 64)[0] == 2 * MEMORY
    assert len(raw.plugin.read_stdout()) == 2 * MEMORY


def test_unaligned_structures_work(raw):
    # results at odd addresses are written byte by byte (the official runtime traps instead)
    err, mem = raw.call("fd_fdstat_get", 3, 65, nout=96)
    assert err == 0 and mem[65] == 3
    image = bytearray(128)
    image[33:41] = struct.pack("<II", 101, 3)
    image[101:104] = b"odd"
    err, mem = raw.call("fd_write", 1, 33, 1, 77, image=bytes(image), nout=96)
    assert err == 0 and struct.unpack_from("<I", mem, 77)[0] == 3
    assert raw.plugin.read_stdout() == b"odd"


# ---- fd_readdir -------------------------------------------------------------------------------

def test_readdir_lists_with_cookies(raw, tree):
    err, entries, used = raw.readdir(3)
    assert err == 0 and used < 4096
    names = [n for *_, n in entries]
    assert names[:2] == [b".", b".."]
    assert sorted(names[2:]) == sorted(n.encode() for n in os.listdir(tree["mnt"]))
    assert [nxt for nxt, *_ in entries] == list(range(1, len(entries) + 1))
    types = {n: t for _, _, t, n in entries}
    assert types[b"file"] == 4 and types[b"sub"] == 3 and types[b"link_out"] == 7
    inos = {n: i for _, i, _, n in entries}
    assert inos[b"file"] == os.lstat(tree["mnt"] / "file").st_ino
    assert inos[b"."] == os.stat(tree["mnt"]).st_ino
    # resuming from a cookie continues the same listing
    err, rest, _ = raw.readdir(3, cookie=3)
    assert rest == entries[3:]
    assert raw.readdir(3, cookie=10**6)[2] == 0


def test_readdir_cuts_the_last_entry_when_full(raw):
    err, entries, used = raw.readdir(3)
    first = 24 + len(entries[0][3])
    err, mem = raw.call("fd_readdir", 3, 64, first + 10, 0, 8, nout=64 + first + 10)
    assert err == 0 and struct.unpack_from("<I", mem, 8)[0] == first + 10  # full: call again
    assert raw.readdir(3, buf_len=0)[2] == 0


def test_readdir_sees_changes_at_cookie_0(raw, tree):
    names = lambda: sorted(n for *_, n in raw.readdir(3)[1])  # noqa: E731
    before = names()
    (tree["mnt"] / "new").write_bytes(b"")
    assert names() == sorted(before + [b"new"])


def test_readdir_of_a_file_is_ebadf(raw):
    fd = open_file(raw)
    assert raw.errno("fd_readdir", fd, 0, 100, 0, 200) == EBADF


def test_ro_descriptor_writes(raw):
    err, fd = raw.open(b"f", dirfd=4, rights=READ_RIGHTS)
    assert err == 0
    assert raw.errno("fd_fdstat_set_flags", fd, 1) == EPERM
    assert raw.errno("fd_allocate", fd, 0, 1) == EPERM
    assert raw.errno("fd_filestat_set_size", fd, 0) == EPERM
    assert raw.open(b"f", dirfd=4, rights=READ_RIGHTS, oflags=O_TRUNC)[0] == EPERM
    assert raw.open(b"f", dirfd=4, rights=READ_RIGHTS, fdflags=1)[0] == EPERM  # APPEND
    assert raw.open(b"x", dirfd=4, rights=READ_RIGHTS, oflags=O_CREAT)[0] == EPERM
