"""path_* functions through the raw caller: what they do to host files inside a mount, and
their errnos (the ways out are in test_sandbox.py)."""

from __future__ import annotations

import os
import struct


from wasi_helpers import (EBADF, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTCAPABLE, ENOTDIR,
                          ENOTEMPTY, FOLLOW, O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, READ_RIGHTS,
                          RIGHTS_ALL, raw, tree)  # noqa: F401 (fixtures)


def test_open_flags(raw, tree):
    mnt = tree["mnt"]
    err, fd = raw.open(b"new", oflags=O_CREAT, rights=RIGHTS_ALL)
    assert err == 0 and (mnt / "new").read_bytes() == b""
    assert raw.write(fd, b"abc") == (0, 3)
    assert raw.open(b"new", oflags=O_CREAT | O_EXCL)[0] == EEXIST
    err, fd2 = raw.open(b"new", oflags=O_TRUNC, rights=RIGHTS_ALL)
    assert err == 0 and (mnt / "new").read_bytes() == b""
    assert raw.open(b"file", oflags=O_DIRECTORY)[0] == ENOTDIR
    assert raw.open(b"sub", rights=RIGHTS_ALL)[0] == EISDIR  # a directory cannot be written
    err, dfd = raw.open(b"sub", rights=READ_RIGHTS)  # without O_DIRECTORY: still a directory
    assert err == 0
    err, mem = raw.call("fd_fdstat_get", dfd, 0, nout=24)
    assert mem[0] == 3
    assert raw.open(b"missing")[0] == ENOENT
    assert raw.open(b"file", oflags=0x10)[0] == EINVAL
    assert raw.open(b"file", fdflags=0x20)[0] == EINVAL
    err, afd = raw.open(b"file", rights=RIGHTS_ALL, fdflags=1)  # APPEND
    assert raw.write(afd, b"!") == (0, 1)
    assert (mnt / "file").read_bytes() == b"hello world!"


def test_open_relative_to_an_opened_directory(raw, tree):
    err, dfd = raw.open(b"sub", oflags=O_DIRECTORY, rights=READ_RIGHTS)
    assert err == 0
    err, fd = raw.open(b"inner", dirfd=dfd, rights=READ_RIGHTS)
    assert err == 0 and raw.read(fd, 10) == (0, b"inner")
    err, fd = raw.open(b"made", dirfd=dfd, oflags=O_CREAT, rights=RIGHTS_ALL)
    assert err == 0 and (tree["mnt"] / "sub" / "made").exists()
    assert raw.path1("path_create_directory", b"d2", dirfd=dfd) == 0
    assert (tree["mnt"] / "sub" / "d2").is_dir()


def test_open_following_links(raw):
    err, fd = raw.open(b"rel_file", lookup=FOLLOW, rights=READ_RIGHTS)
    assert err == 0 and raw.read(fd, 5) == (0, b"hello")
    assert raw.open(b"rel_file", rights=READ_RIGHTS)[0] == ELOOP
    err, fd = raw.open(b"link_in/inner", rights=READ_RIGHTS)  # links on the way are followed
    assert err == 0
    err, fd = raw.open(b"link_in/", rights=READ_RIGHTS)  # a trailing '/' follows too
    assert err == 0
    assert raw.open(b"dangling", lookup=FOLLOW, rights=READ_RIGHTS)[0] == ENOENT


def test_create_through_a_dangling_link_inside(raw, tree):
    err, fd = raw.open(b"dangling", lookup=FOLLOW, oflags=O_CREAT, rights=RIGHTS_ALL)
    assert err == 0 and (tree["mnt"] / "missing").exists()
    os.unlink(tree["mnt"] / "missing")
    # with EXCL the link itself is in the way
    assert raw.open(b"dangling", lookup=FOLLOW, oflags=O_CREAT | O_EXCL)[0] == EEXIST


def test_directories(raw, tree):
    mnt = tree["mnt"]
    assert raw.path1("path_create_directory", b"a") == 0 and (mnt / "a").is_dir()
    assert raw.path1("path_create_directory", b"a") == EEXIST
    assert raw.path1("path_create_directory", b"a/b/") == 0 and (mnt / "a" / "b").is_dir()
    assert raw.path1("path_create_directory", b"x/y") == ENOENT
    assert raw.path1("path_remove_directory", b"a") == ENOTEMPTY
    assert raw.path1("path_remove_directory", b"a/b/") == 0
    assert raw.path1("path_remove_directory", b"a") == 0 and not (mnt / "a").exists()
    assert raw.path1("path_remove_directory", b"file") == ENOTDIR
    assert raw.path1("path_remove_directory", b"link_in") == ENOTDIR  # the link, not followed
    assert raw.path1("path_remove_directory", b".") == EINVAL
    assert raw.path1("path_remove_directory", b"missing") == ENOENT


def test_unlink(raw, tree):
    mnt = tree["mnt"]
    assert raw.path1("path_unlink_file", b"sub") == EISDIR
    assert raw.path1("path_unlink_file", b"file/") == ENOTDIR
    assert raw.path1("path_unlink_file", b"link_in") == 0  # removes the link only
    assert not os.path.lexists(mnt / "link_in") and (mnt / "sub").is_dir()
    assert raw.path1("path_unlink_file", b"file") == 0 and not (mnt / "file").exists()
    assert raw.path1("path_unlink_file", b"file") == ENOENT


def test_rename(raw, tree):
    mnt = tree["mnt"]
    assert raw.rename(b"file", b"sub/moved") == 0
    assert (mnt / "sub" / "moved").read_bytes() == b"hello world"
    assert raw.rename(b"sub/moved", b"sub/inner") == 0  # replaces a file
    assert (mnt / "sub" / "inner").read_bytes() == b"hello world"
    (mnt / "empty").mkdir()
    assert raw.rename(b"sub", b"empty") == 0  # replaces an empty directory
    assert (mnt / "empty" / "inner").exists() and not (mnt / "sub").exists()
    assert raw.rename(b"empty", b"link_out") == ENOTDIR  # (onto a link: not a directory)
    assert raw.rename(b"missing", b"x") == ENOENT
    assert raw.rename(b"empty", b"empty/deep/inside") == EINVAL  # into itself
    assert raw.rename(b"link_out", b"renamed_link") == 0  # the link moves, not its target
    assert os.readlink(mnt / "renamed_link") == "../outside"
    # between two descriptors of the same mount
    err, dfd = raw.open(b"empty", oflags=O_DIRECTORY, rights=READ_RIGHTS)
    assert raw.rename(b"inner", b"back", old_fd=dfd, new_fd=3) == 0
    assert (mnt / "back").exists()


def test_symlink_and_readlink(raw, tree):
    mnt = tree["mnt"]
    assert raw.symlink(b"sub/inner", b"ln") == 0 and os.readlink(mnt / "ln") == "sub/inner"
    assert raw.readlink(b"ln") == (0, b"sub/inner")
    assert raw.readlink(b"ln", buf_len=3) == (0, b"sub")  # cut to the buffer
    assert raw.readlink(b"file")[0] == EINVAL
    assert raw.symlink(b"x", b"file") == EEXIST
    # a relative text that points out can be stored (it is never followed out)
    assert raw.symlink(b"../outside/secret", b"out") == 0
    assert raw.open(b"out", lookup=FOLLOW, rights=READ_RIGHTS)[0] == 63
    for bad, errno in ((b"x\0", EINVAL), (b"", ENOENT), (b"\xff", 25)):
        assert raw.symlink(bad, b"bad") == errno


def test_hard_links(raw, tree):
    mnt = tree["mnt"]
    assert raw.link(b"file", b"hard") == 0
    assert os.stat(mnt / "hard").st_ino == os.stat(mnt / "file").st_ino
    assert raw.link(b"file", b"hard") == EEXIST
    assert raw.link(b"rel_file", b"hard_to_link") == 0  # the link itself
    assert os.readlink(mnt / "hard_to_link") == "sub/../file"
    assert raw.link(b"rel_file", b"hard_followed", lookup=FOLLOW) == 0  # its target, resolved
    assert os.stat(mnt / "hard_followed").st_ino == os.stat(mnt / "file").st_ino
    assert raw.link(b"sub", b"dir_link") == 63  # EPERM: no hard links to directories


def test_filestat(raw, tree):
    mnt = tree["mnt"]
    err, st = raw.stat(b"file")
    host = os.stat(mnt / "file")
    assert err == 0 and (st["ino"], st["size"], st["filetype"], st["nlink"]) == \
        (host.st_ino, 11, 4, 1)
    assert (st["atim"], st["mtim"], st["ctim"]) == (host.st_atime_ns, host.st_mtime_ns,
                                                    host.st_ctime_ns)
    assert raw.stat(b"link_in")[1]["filetype"] == 7
    assert raw.stat(b"link_in", lookup=FOLLOW)[1]["filetype"] == 3
    assert raw.stat(b"sub/")[1]["filetype"] == 3
    assert raw.stat(b".")[1]["ino"] == os.stat(mnt).st_ino
    assert raw.stat(b"loop_a", lookup=FOLLOW)[0] == ELOOP
    assert raw.stat(b"dangling", lookup=FOLLOW)[0] == ENOENT


def test_path_set_times(raw, tree):
    mnt = tree["mnt"]
    image, (at,) = raw.paths(b"rel_file")
    # without FOLLOW the link itself gets the times
    assert raw.errno("path_filestat_set_times", 3, 0, at, 8, 10**18, 2 * 10**18, 1 | 4,
                     image=image) == 0
    assert os.lstat(mnt / "rel_file").st_mtime_ns == 2 * 10**18
    assert os.stat(mnt / "file").st_mtime_ns != 2 * 10**18
    assert raw.errno("path_filestat_set_times", 3, FOLLOW, at, 8, 0, 3 * 10**18, 4,
                     image=image) == 0
    assert os.stat(mnt / "file").st_mtime_ns == 3 * 10**18
    assert raw.errno("path_filestat_set_times", 3, 0, at, 8, 0, 0, 3, image=image) == EINVAL


def test_rights_of_the_directory_are_checked(raw):
    err, mem = raw.call("fd_fdstat_get", 3, 0, nout=24)
    base, inheriting = struct.unpack_from("<QQ", mem, 8)
    path_create_directory, path_unlink_file = 1 << 9, 1 << 26
    assert raw.errno("fd_fdstat_set_rights", 3, base & ~(path_create_directory |
                                                         path_unlink_file), inheriting) == 0
    assert raw.path1("path_create_directory", b"x") == ENOTCAPABLE
    assert raw.path1("path_unlink_file", b"file") == ENOTCAPABLE
    assert raw.path1("path_remove_directory", b"sub/deep") == 0  # still allowed


def test_path_arguments_on_non_directories(raw):
    err, fd = raw.open(b"file", rights=READ_RIGHTS)
    for function in ("path_create_directory", "path_unlink_file", "path_remove_directory"):
        assert raw.path1(function, b"x", dirfd=fd) == ENOTDIR
        assert raw.path1(function, b"x", dirfd=1) == ENOTDIR
        assert raw.path1(function, b"x", dirfd=77) == EBADF
    assert raw.errno("path_open", 3, 0, 131070, 10, 0, 0, 0, 0, 0) == 21  # EFAULT
    assert raw.errno("path_open", 3, 0, 64, 1, 0, 0, 0, 0, 131070) == 21
