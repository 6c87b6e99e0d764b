"""A real distributed engine (issue 18 item 2): Dask's LocalCluster with 2 worker processes maps
plugin calls over 1,000 inputs, with the plugins shipped by pickling - a CompiledPlugin
scattered once to every worker, a Plugin scattered the same way - and the results must be those
of the same calls in this process.  Skipped when `distributed` is not installed; CI installs it
(.ci/jobs/44-distributed.sh)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest

import extism_native as extism
import fanout
from conftest import ROOT, needs_source, wasm

if os.environ.get("EXN_REQUIRE_DISTRIBUTED"):  # CI's job 44: a missing package is a failure
    import distributed
else:
    distributed = pytest.importorskip("distributed")

N = 1000


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.CRITICAL)
    with cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def run(client, plugin, function, inputs):
    """Scatter `plugin` to every worker (pickled once), map `function` over `inputs`: the pids
    and outputs, in input order."""
    [shipped] = client.scatter([plugin], broadcast=True, hash=False)
    futures = client.map(fanout.call_on, inputs, plugin=shipped, function=function, pure=False)
    results = client.gather(futures)
    return [pid for pid, _ in results], [out for _, out in results]


def check_workers(client, pids):
    workers = client.run(os.getpid)  # {address: pid} of the worker processes
    assert len(workers) == 2
    assert set(pids) <= set(workers.values()) and os.getpid() not in pids
    assert len(set(pids)) == 2, "the calls should have run on both workers"


def test_compiled_plugin_broadcast_to_two_workers(client):
    inputs = fanout.texts(N)
    compiled = extism.CompiledPlugin(fanout.kitchen(), name="kitchen")
    here = compiled.instantiate()
    expected = [here.call("reverse", data) for data in inputs]
    vowels = [fanout.without_total(here.call("count_vowels", data)) for data in inputs]
    assert len(set(expected)) == N
    pids, got = run(client, compiled, "reverse", inputs)
    assert got == expected
    check_workers(client, pids)
    pids, got = run(client, compiled, "count_vowels", inputs)
    assert [fanout.without_total(out) for out in got] == vowels


def test_plugin_with_host_function_and_config_scattered(client):
    inputs = fanout.texts(N)
    plugin = extism.Plugin(wasm("host_vowels"), functions=[fanout.hello_world])
    expected = [plugin.call("count_vowels", data) for data in inputs]
    assert len(set(expected)) > 10
    pids, got = run(client, plugin, "count_vowels", inputs)
    assert got == expected
    check_workers(client, pids)
    # config, including a change made after creation, travels
    kitchen = extism.Plugin(fanout.kitchen(), config={"vowels": "x"})
    kitchen.update_config({"vowels": "xyz "})
    expected = [fanout.without_total(kitchen.call("count_vowels", data)) for data in inputs]
    _, got = run(client, kitchen, "count_vowels", inputs)
    assert [fanout.without_total(out) for out in got] == expected


@pytest.mark.skipif(not fanout.real_plugins.available(), reason="../shared/plugins is not there")
def test_real_plugin_broadcast(client):
    call = fanout.real_plugins.BY_NAME["rust_reflect_1k"]
    compiled = extism.CompiledPlugin(call.path.read_bytes(), functions=[fanout.host_reflect])
    inputs = [call.input[: i % 1024] + str(i).encode() for i in range(N)]
    here = compiled.instantiate()
    expected = [here.call(call.function, data) for data in inputs]
    assert expected == inputs  # reflect: the output is the input, through the host function
    pids, got = run(client, compiled, call.function, inputs)
    assert got == expected
    check_workers(client, pids)


@needs_source
def test_readme_recipe(tmp_path):
    """README's Dask recipe (a `doctest: skip` block there: it starts a cluster) runs as a
    script and prints what its `# ->` comment says."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "LocalCluster" in b]
    [want] = re.findall(r"#\s*->\s*(.*?)\s*$", block, re.M)
    script = tmp_path / "recipe.py"
    script.write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [want]
