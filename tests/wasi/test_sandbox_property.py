"""Property: no path, however it mixes "..", ".", links in and out of the mount, absolute
links, loops and missing names, opens or stats anything outside the mount.  Whatever opens is
checked by identity (device, inode) against the files inside; and the official runtime gives
the same errno for the same path."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wasi_helpers import FOLLOW, READ_RIGHTS, make_tree, raw_plugin

COMPONENTS = [b"..", b".", b"", b"sub", b"deep", b"file", b"inner", b"link_out", b"link_in",
              b"abs_link", b"chain", b"rel_file", b"loop_a", b"dangling", b"outside", b"secret",
              b"mnt", b"x"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("property")
    tree = make_tree(root)
    inside = set()
    for dirpath, dirnames, filenames in os.walk(tree["mnt"]):
        for name in dirnames + filenames + ["."]:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                st_ = os.stat(path)
                inside.add((st_.st_dev, st_.st_ino))
    ours = raw_plugin({str(tree["mnt"]): "/mnt"})
    try:
        theirs = raw_plugin({str(tree["mnt"]): "/mnt"}, official=True)
    except pytest.skip.Exception:
        theirs = None
    return ours, theirs, inside


paths = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=8).map(b"/".join)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=paths, absolute=st.booleans(), follow=st.booleans())
def test_nothing_outside_is_reached(world, path, absolute, follow):
    ours, theirs, inside = world
    if absolute:
        path = b"/" + path
    lookup = FOLLOW if follow else 0
    err, fd = ours.open(path, lookup=lookup, rights=READ_RIGHTS)
    if err == 0:
        e, mem = ours.call("fd_filestat_get", fd, 64, nout=128)
        dev, ino = int.from_bytes(mem[64:72], "little"), int.from_bytes(mem[72:80], "little")
        ours.close(fd)
        assert (dev, ino) in inside, path
    serr, stat = ours.stat(path, lookup=lookup)
    if serr == 0 and stat["filetype"] != 7:  # (a link itself lives inside)
        assert (stat["dev"], stat["ino"]) in inside, path
    if theirs is not None:
        terr, tfd = theirs.open(path, lookup=lookup, rights=READ_RIGHTS)
        if terr == 0:
            theirs.close(tfd)
        assert terr == err, path
