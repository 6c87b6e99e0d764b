"""The extism_sys shim: installing and removing it, and the official `extism` package (PyPI
1.1.1, unchanged) running its documented usage on our engine through it.

The official package runs in a subprocess whose PYTHONPATH puts a shim installed with
``install-extism-sys --target`` first (skipped when `extism` is not installed, required under
EXN_API=1).  CI's 50-api job also runs this file in a fresh venv where the shim was installed
the ordinary way; EXN_SHIM_INSTALLED=1 then makes these tests use that one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import extism_native
from extism_native import _extism_sys, _shim
from extism_native._native import lib as cffi_lib
from conftest import PLUGINS

HERE = Path(__file__).resolve().parent
REQUIRED = os.environ.get("EXN_API") == "1"
PREINSTALLED = os.environ.get("EXN_SHIM_INSTALLED") == "1"


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "extism_native", *args], capture_output=True,
                          text=True, timeout=120, **kwargs)


# ---- the shim's lib and ffi -------------------------------------------------------------------


def test_lib_has_exactly_the_libextism_functions():
    names = {n for n in vars(_extism_sys.lib) if n.startswith("extism_")}
    assert names == set(_extism_sys.LIBEXTISM_FUNCTIONS) and len(names) == 33
    for name in names:  # the very functions of extism_native's own cffi module: one engine
        assert getattr(_extism_sys.lib, name) is getattr(cffi_lib, name)
    assert _extism_sys.lib.ExtismValType_I64 == 1 and _extism_sys.lib.ExtismValType_F64 == 3
    assert _extism_sys.ffi is extism_native._native.ffi


def test_ffi_accepts_what_the_official_package_uses():
    ffi, lib = _extism_sys.ffi, _extism_sys.lib
    logged = []

    @ffi.callback("void(char*, ExtismSize)")
    def drain(ptr, n):  # the official CustomLogger's callback type
        logged.append(ffi.string(ptr, n))

    lib.extism_log_drain(drain)  # nothing buffered: accepted, no call
    assert logged == []

    @ffi.callback("void(ExtismCurrentPlugin*, const ExtismVal*, ExtismSize, ExtismVal*, "
                  "ExtismSize, void*)")
    def host(current, inputs, n_inputs, outputs, n_outputs, user_data):
        pass

    handle = ffi.new_handle(("user", "data"))
    # a Python list of ints for const ExtismValType *, as the official package passes
    fn = lib.extism_function_new(b"f", [1], 1, [1], 1, host, handle, ffi.NULL)
    assert fn != ffi.NULL
    errmsg = ffi.new("char**")
    arr = ffi.new("ExtismFunction*[]", [fn])
    compiled = lib.extism_compiled_plugin_new(b"nope", 4, arr, 1, False, errmsg)
    assert compiled == ffi.NULL
    assert ffi.string(errmsg[0]).startswith(b"Unable to compile Extism plugin: ")
    lib.extism_plugin_new_error_free(errmsg[0])
    lib.extism_function_free(fn)


# ---- installing and removing ------------------------------------------------------------------


def test_install_writes_a_package_pip_knows(tmp_path):
    pkg = _shim.install(tmp_path)
    assert pkg == tmp_path / "extism_sys"
    init = (pkg / "__init__.py").read_text()
    assert "from extism_native._extism_sys import ffi, lib" in init
    (info,) = tmp_path.glob("extism_sys-*.dist-info")
    assert info.name == f"extism_sys-1.13.0+extism.native.{extism_native.__version__}.dist-info"
    meta = (info / "METADATA").read_text()
    assert "Name: extism-sys\n" in meta and "Requires-Dist: extism_native" in meta
    assert (info / "INSTALLER").read_text().strip() == "extism_native"
    record = (info / "RECORD").read_text().splitlines()
    listed = {line.split(",")[0] for line in record}
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert listed == written
    assert _shim.find_installed([str(tmp_path)]) == (pkg, True)
    # again: replaces our own shim without --force
    assert _shim.install(tmp_path) == pkg
    assert len(list(tmp_path.glob("extism_sys-*.dist-info"))) == 1


def fake_real_extism_sys(target: Path) -> None:
    (target / "extism_sys").mkdir(parents=True)
    (target / "extism_sys" / "__init__.py").write_text("lib = ffi = None\n")
    (target / "extism_sys" / "libextism_sys.so").write_bytes(b"\x7fELF")
    info = target / "extism_sys-1.41.0.dist-info"
    info.mkdir()
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("extism_sys/__init__.py,,\nextism_sys/libextism_sys.so,,\n"
                                 "../../../bin/elsewhere,,\n")


def test_install_refuses_a_real_extism_sys_unless_forced(tmp_path):
    fake_real_extism_sys(tmp_path)
    out = cli("install-extism-sys", "--target", str(tmp_path))
    assert out.returncode == 1
    assert "not extism_native's" in out.stderr and "pip uninstall extism-sys" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert (tmp_path / "extism_sys" / "libextism_sys.so").exists()  # untouched
    out = cli("uninstall-extism-sys", "--target", str(tmp_path))
    assert out.returncode == 1 and "not extism_native's shim" in out.stderr
    out = cli("install-extism-sys", "--target", str(tmp_path), "--force")
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "extism_sys" / "libextism_sys.so").exists()
    assert not (tmp_path / "extism_sys-1.41.0.dist-info").exists()
    assert _shim.find_installed([str(tmp_path)])[1] is True


def test_uninstall_removes_everything(tmp_path):
    _shim.install(tmp_path)
    out = cli("uninstall-extism-sys", "--target", str(tmp_path))
    assert out.returncode == 0 and "removed" in out.stdout
    assert list(tmp_path.iterdir()) == []
    out = cli("uninstall-extism-sys", "--target", str(tmp_path))
    assert out.returncode == 0 and "no extism_sys shim" in out.stdout


def test_info_reports_the_shim(tmp_path):
    _shim.install(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = cli("info", env=env)
    assert out.returncode == 0
    assert f"extism_sys: {tmp_path / 'extism_sys'} (extism_native shim)" in out.stdout


# ---- the official package on the shim ---------------------------------------------------------


@pytest.fixture(scope="module")
def official_report(tmp_path_factory):
    """Run official_usage.py with the official package on our shim; returns (report, stderr,
    log file text)."""
    if not PREINSTALLED and importlib.util.find_spec("extism") is None:
        if REQUIRED:
            pytest.fail("the official extism package is required when EXN_API=1")
        pytest.skip("the official extism package is not installed")
    tmp = tmp_path_factory.mktemp("shim")
    env = dict(os.environ)
    if not PREINSTALLED:
        _shim.install(tmp / "site")
        env["PYTHONPATH"] = os.pathsep.join([str(tmp / "site"), env.get("PYTHONPATH", "")])
    log = tmp / "extism.log"
    out = subprocess.run([sys.executable, "-X", "dev", str(HERE / "official_usage.py"),
                          str(PLUGINS), str(log)], capture_output=True, text=True, timeout=300,
                         env=env, cwd=tmp)
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout), out.stderr, log.read_text()


def test_official_package_imports_our_shim(official_report):
    report, _, _ = official_report
    assert report["version"] == extism_native.__version__  # not the Rust runtime's
    assert Path(report["extism_sys"]).read_text().count(_shim.MARKER) == 1


def test_official_count_vowels_and_errors(official_report):
    r, _, _ = official_report
    assert r["count_vowels"] == [4, 3, 5]
    assert r["function_exists"] == [True, False]
    assert len(r["id"]) == 36
    assert r["errors"] == ["function not found: nope", "something went wrong: bad",
                           "Error code: 7", "unreachable executed"]
    assert r["buffer"] == "b'raw'"
    assert r["bad_manifest"].startswith("Unable to compile Extism plugin: invalid manifest")
    assert r["not_wasm"].startswith("Unable to compile Extism plugin: ")


def test_official_host_functions(official_report):
    r, stderr, _ = official_report
    assert r["explicit"] == 'explicit {"count": 3} test'
    assert r["inferred"] == 'inferred {"count": 3} ud'
    assert r["inferred_json"] == "json 3"
    assert r["host_context"] == ["context ctx 4", '{"count": 2}']
    assert r["registry_default"] == "Hello, you!"
    # the official package swallows host exceptions (cffi prints them): the call goes on with
    # zero results, as on its own runtime - and nothing crashes
    assert r["raises"] == ""
    assert "RuntimeError: raised in a host function" in stderr


def test_official_timeout_and_cancel(official_report):
    r, _, _ = official_report
    text, seconds = r["timeout"]
    assert text == "timeout" and 0.25 < seconds < 5
    assert r["after_timeout"] == 5
    text, seconds = r["cancel"]
    assert text == "cancelled" and 0.15 < seconds < 5


def test_official_compiled_plugins(official_report):
    r, _, _ = official_report
    assert r["compiled"] == [2, 2, 2, 4]  # each instance has its own vars
    assert r["compiled_owned"] == [False, False, False]
    assert r["after_compiled_free"] == 3
    assert r["freed"] == [-1, None]


def test_official_log_file_and_side_by_side(official_report):
    r, _, log = official_report
    lines = [line for line in log.splitlines() if "hello log" in line]
    assert len(lines) == 3 and "INFO extism::pdk: info: hello log" in lines[0]
    assert r["side_by_side"] == ["cba", "zyx"]
