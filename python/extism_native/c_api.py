"""The libextism C API of extism_native, for C, C++, Cython and ctypes code.

The package ships:

* ``include/extism.h``: the libextism API (names, types and semantics of Extism runtime
  v1.13, 33 functions); ``include/extism_native.h``: our ``exn_*`` additions;
  ``include/extism.pxd``: a Cython declaration of ``extism.h``;
* ``lib/``: ``libextism_native`` as a shared library exporting exactly those functions
  (``libextism_native.so`` on Linux, ``libextism_native.dylib`` on macOS,
  ``extism_native.dll`` plus its import library ``extism_native.lib`` on Windows).

The shared library holds its own copy of the engine: plugins created through it are not
visible to the ``extism_native`` Python classes in the same process (and the reverse), and
its process-wide state (``extism_log_file``, ...) is its own.  Both copies work side by side.

Build a C program::

    cc $(python -m extism_native info --cflags) app.c $(python -m extism_native info --libs)

Build a Cython extension with setuptools::

    from setuptools import Extension
    from Cython.Build import cythonize
    import extism_native.c_api as c_api

    ext = Extension("myext", ["myext.pyx"], **c_api.extension_kwargs())
    setup(ext_modules=cythonize([ext], include_path=[c_api.get_include()]))

Load it with ctypes::

    import ctypes, extism_native
    libextism = ctypes.CDLL(extism_native.library_path())
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List

__all__ = ["get_include", "library_path", "library_dir", "extension_kwargs", "LIBRARY_NAME"]

LIBRARY_NAME = "extism_native"
"""The name to link with (``-lextism_native``)."""

_PACKAGE = Path(__file__).resolve().parent


def get_include() -> str:
    """Absolute path of the directory holding ``extism.h``, ``extism_native.h`` and
    ``extism.pxd`` (for ``-I``, ``include_dirs`` and Cython's ``include_path``).

    Raises:
        FileNotFoundError: the headers are not installed (a source checkout, not an install).
    """
    include = _PACKAGE / "include"
    if not (include / "extism.h").is_file():
        raise FileNotFoundError(f"extism.h is not installed in {include}: install extism_native "
                                "with pip to get the C headers")
    return str(include)


def _candidates() -> List[str]:
    if sys.platform == "win32":
        return ["extism_native.dll", "libextism_native.dll"]
    if sys.platform == "darwin":
        return ["libextism_native.dylib", "libextism_native.so"]
    return ["libextism_native.so"]


def library_path() -> str:
    """Absolute path of the installed ``libextism_native`` shared library (``.so``,
    ``.dylib`` or ``.dll``), e.g. for ``ctypes.CDLL(library_path())``.

    Raises:
        FileNotFoundError: the shared library was not built (``-DEXN_SHARED=OFF``).
    """
    lib = _PACKAGE / "lib"
    for name in _candidates():
        if (lib / name).is_file():
            return str(lib / name)
    raise FileNotFoundError(f"libextism_native is not installed in {lib} (looked for "
                            f"{', '.join(_candidates())}); it is built unless EXN_SHARED=OFF")


def library_dir() -> str:
    """Directory of the shared library (and, on Windows, of its import library), for ``-L``
    and ``library_dirs``."""
    return os.path.dirname(library_path())


def extension_kwargs() -> Dict[str, List[str]]:
    """Keyword arguments for a ``setuptools.Extension`` that uses the C API: include and
    library directories, the library, and (not on Windows) the run-time search path, so the
    built extension finds ``libextism_native`` where extism_native is installed.  On Windows
    the DLL directory must be made known at run time instead, e.g. with
    ``os.add_dll_directory(extism_native.c_api.library_dir())`` before the import."""
    kwargs = {
        "include_dirs": [get_include()],
        "library_dirs": [library_dir()],
        "libraries": [LIBRARY_NAME],
    }
    if sys.platform == "darwin":  # setuptools turns runtime_library_dirs into -L on macOS
        kwargs["extra_link_args"] = ["-Wl,-rpath," + library_dir()]
    elif sys.platform != "win32":
        kwargs["runtime_library_dirs"] = [library_dir()]
    return kwargs
