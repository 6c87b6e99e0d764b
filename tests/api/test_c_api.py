"""The libextism C API as installed: what the shared library exports, the headers and the
Cython .pxd, and three users of it (a C program, a ctypes script, a Cython extension), each
calling a plugin with a host function.

Tests that need a C compiler or Cython skip when they are missing, unless EXN_API=1 (CI's
50-api job), where they are required.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import extism_native
from extism_native import c_api
from extism_native._extism_sys import LIBEXTISM_FUNCTIONS
from conftest import needs_source, wasm_path

HERE = Path(__file__).resolve().parent
CSRC = HERE.parents[1] / "csrc"
REQUIRED = os.environ.get("EXN_API") == "1"


def need(condition: bool, what: str) -> None:
    """Skip (or, under EXN_API=1, fail) when a tool is missing."""
    if not condition:
        if REQUIRED:
            pytest.fail(f"{what} is required when EXN_API=1")
        pytest.skip(f"{what} is not available")


def declared_functions(header: Path, prefix: str) -> set:
    """Names of the functions a header declares (EXTISM_API ... name(...))."""
    text = header.read_text()
    return set(re.findall(r"EXTISM_API[^;(]*?\b(" + prefix + r"\w+)\s*\(", text))


def c_compiler():
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    return shutil.which(cc) or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


@needs_source
def test_headers_declare_the_33_functions():
    assert declared_functions(CSRC / "extism.h", "extism_") == set(LIBEXTISM_FUNCTIONS)
    assert len(LIBEXTISM_FUNCTIONS) == 33


@needs_source
def test_get_include_has_the_installed_headers_and_pxd():
    include = Path(extism_native.get_include())
    assert include.is_absolute()
    for name in ("extism.h", "extism_native.h", "extism.pxd"):
        # the installed copies are the ones in csrc/ (a stale install would fail here)
        assert (include / name).read_bytes() == (CSRC / name).read_bytes(), name


@needs_source
def test_pxd_declares_every_function():
    pxd = (CSRC / "extism.pxd").read_text()
    declared = set(re.findall(r"\b(extism_\w+)\(", pxd))
    assert declared == set(LIBEXTISM_FUNCTIONS)


@needs_source
def test_library_exports_every_public_function():
    path = extism_native.library_path()
    assert os.path.isabs(path) and os.path.isfile(path)
    assert extism_native.library_path is c_api.library_path
    lib = ctypes.CDLL(path)
    names = (declared_functions(CSRC / "extism.h", "extism_")
             | declared_functions(CSRC / "extism_native.h", "exn_"))
    missing = [n for n in sorted(names) if not hasattr(lib, n)]
    assert not missing
    lib.extism_version.restype = ctypes.c_char_p
    assert lib.extism_version().decode() == extism_native.__version__


@needs_source
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF symbol table")
def test_library_exports_nothing_else():
    nm = shutil.which("nm")
    need(nm is not None, "nm")
    out = subprocess.run([nm, "-D", "--defined-only", extism_native.library_path()],
                         capture_output=True, text=True, check=True).stdout
    exported = {line.split()[-1] for line in out.splitlines()
                if len(line.split()) == 3 and line.split()[1] in "TDBRVW"}
    public = (declared_functions(CSRC / "extism.h", "extism_")
              | declared_functions(CSRC / "extism_native.h", "exn_"))
    assert exported == public, sorted(exported ^ public)


def test_extension_kwargs():
    kwargs = c_api.extension_kwargs()
    assert kwargs["include_dirs"] == [extism_native.get_include()]
    assert kwargs["libraries"] == ["extism_native"]
    assert kwargs["library_dirs"] == [os.path.dirname(extism_native.library_path())]


def run_python(args, **kwargs):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          **kwargs)


def test_ctypes_script_calls_a_plugin_with_a_host_function():
    out = run_python([str(HERE / "ctypes_host_function.py"), str(wasm_path("host_vowels")),
                      "hello world"])
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["version"] == extism_native.__version__
    assert report["rc"] == 0 and report["error"] is None
    assert report["output"] == 'ctypes host saw 12 bytes: {"count": 3}'
    assert report["host_context_calls"] == 1
    assert report["exists"] == [True, False]
    assert report["missing"][0] == -1 and "nope" in report["missing"][1]
    # free_user_data ran exactly once, with the user data, and only at plugin free
    assert report["freed_before_plugin_free"] == 0 and report["freed"] == [True]
    assert report["load_error"][0] is None
    assert report["load_error"][1].startswith("Unable to compile Extism plugin: ")
    rc, text, seconds = report["cancel"]
    assert rc == 134 and text == "cancelled" and 0.15 < seconds < 5
    assert report["after_cancel"] == [0, True]  # the instance is still usable


def test_c_program_built_with_info_flags(tmp_path):
    cc = c_compiler()
    need(cc is not None and sys.platform != "win32", "a C compiler (POSIX)")
    flags = {}
    for what in ("--cflags", "--libs"):
        out = run_python(["-m", "extism_native", "info", what])
        assert out.returncode == 0, out.stderr
        flags[what] = out.stdout.split()
    exe = tmp_path / "host_function"
    build = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", *flags["--cflags"],
                            str(HERE / "c" / "host_function.c"), "-o", str(exe),
                            *flags["--libs"]], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe), str(wasm_path("host_vowels")), "aaa e"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f'C host saw {{"count": 4}}\nfreed 1, version '
                          f'{extism_native.__version__}\n')


BUILD_SCRIPT = textwrap.dedent("""
    import sys
    from setuptools import Distribution, Extension
    from Cython.Build import cythonize
    import extism_native.c_api as c_api

    ext = Extension("hostfn_ext", ["hostfn_ext.pyx"], **c_api.extension_kwargs())
    modules = cythonize([ext], include_path=[c_api.get_include()], quiet=True)
    dist = Distribution({"ext_modules": modules, "script_name": "setup.py"})
    cmd = dist.get_command_obj("build_ext")
    cmd.inplace = True
    cmd.ensure_finalized()
    cmd.run()
""")


def test_cython_extension_calls_a_plugin_with_a_host_function(tmp_path):
    try:
        import Cython  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError:
        need(False, "Cython and setuptools")
    need(c_compiler() is not None, "a C compiler")
    shutil.copy(HERE / "cython" / "hostfn_ext.pyx", tmp_path)
    (tmp_path / "build.py").write_text(BUILD_SCRIPT)
    build = run_python(["build.py"], cwd=tmp_path)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    # Cython compiles the .pyx against extism.pxd without a warning of its own
    assert "warning: hostfn_ext.pyx" not in build.stderr, build.stderr
    check = textwrap.dedent(f"""
        import hostfn_ext
        print(hostfn_ext.version())
        print(hostfn_ext.count_vowels(open({str(wasm_path("host_vowels"))!r}, "rb").read(),
                                      b"hello world"))
    """)
    run = run_python(["-c", check], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    version, result = run.stdout.splitlines()
    assert version == extism_native.__version__
    assert result == "(0, b'cython host saw {\"count\": 3}', None, 1)"
