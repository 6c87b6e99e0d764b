"""Guest-runtime initialisation (spec section 3.4): which initialiser runs, in what order,
exactly once per instance.  Each init_*.wat plugin records the initialisers it saw as digits."""

from __future__ import annotations

import pytest

import extism_native as extism
from conftest import u64s, wasm


@pytest.mark.parametrize("name, trace", [
    ("init_haskell", 12),   # _initialize, then hs_init(0, 0); __wasm_call_ctors is not called
    ("init_ctors", 3),      # __wasm_call_ctors is preferred over _initialize
    ("init_reactor", 1),    # _initialize alone
    ("init_badtype", 0),    # a wrongly typed _initialize disables initialisation
    ("init_start", 41),     # the start section runs at instantiation, _initialize at first call
])
def test_initialisers_run_once_in_order(name, trace):
    for wasi in (False, True):
        with extism.Plugin(wasm(name), wasi=wasi) as plugin:
            for _ in range(3):
                assert u64s(plugin.call("trace")) == [trace]


def test_failed_initialisation_fails_each_call_with_a_clear_message():
    with extism.Plugin(wasm("init_trap")) as plugin:
        for _ in range(2):
            with pytest.raises(extism.Trap, match=r"initialising the plugin \(_initialize\)"):
                plugin.call("trace")
