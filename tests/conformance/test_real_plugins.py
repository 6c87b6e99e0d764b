"""The real plugins of ../shared/plugins (built by the official toolchains) give the same bytes
here as on the official package, call after call (real_plugins.py has the table)."""

from __future__ import annotations

import pytest

import extism_native
from real_plugins import BY_NAME, CALLS, available, make_plugin

official = pytest.importorskip("extism")

pytestmark = pytest.mark.skipif(not available(), reason="../shared/plugins is not there")

ROUNDS = 3  # state carried from call to call (allocators, vars, runtimes) must not drift


def outcome(plugin, function, data, error_type):
    try:
        return ("ok", bytes(plugin.call(function, data)))
    except error_type as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_same_bytes_as_the_official_runtime(call):
    theirs = ours = None
    for i in range(ROUNDS):
        if i == 0 or call.one_call:
            theirs = make_plugin(official, call)
            ours = make_plugin(extism_native, call, log_level="off")
        a = outcome(theirs, call.function, call.input, official.Error)
        b = outcome(ours, call.function, call.input, extism_native.Error)
        assert a[0] == "ok", f"the official package fails: {a}"
        assert b == a
        if call.expected is not None:
            assert b[1] == call.expected


def test_a_second_call_of_javy_fails_on_both_runtimes():
    """Javy's runtime takes one call per instance: the second one traps on both (so the table
    runs it on a fresh instance each time)."""
    call = BY_NAME["javy_foo"]
    theirs = make_plugin(official, call)
    ours = make_plugin(extism_native, call, log_level="off")
    for plugin, error in ((theirs, official.Error), (ours, extism_native.Error)):
        assert outcome(plugin, call.function, call.input, error) == ("ok", b"")
        assert outcome(plugin, call.function, call.input, error)[0] == "error"
