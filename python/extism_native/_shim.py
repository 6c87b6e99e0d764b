"""Install (and remove) the ``extism_sys`` shim that runs the official ``extism`` package on
extism_native's engine.

``install()`` writes into a site-packages directory:

* ``extism_sys/__init__.py``: three lines re-exporting ``ffi`` and ``lib`` from
  :mod:`extism_native._extism_sys` (so upgrading extism_native upgrades the shim);
* ``extism_sys-<API>+extism.native.<version>.dist-info/``: metadata naming the distribution
  ``extism-sys`` at the libextism API version we serve, so pip sees the official package's
  ``extism-sys`` requirement as satisfied (and does not fetch the Rust runtime), ``pip
  uninstall extism-sys`` removes the shim, and ``INSTALLER`` says ``extism_native``.

A real ``extism_sys`` (anything without our marker) is never overwritten unless ``force``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.machinery
import shutil
import site
import sys
import sysconfig
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

__all__ = ["API_VERSION", "ShimError", "default_target", "find_installed", "install",
           "uninstall"]

API_VERSION = "1.13.0"
"""The libextism API version the shim serves (Extism runtime v1.13)."""

MARKER = "EXTISM_NATIVE_SHIM = True"
_INSTALLER = "extism_native"


class ShimError(Exception):
    """The shim cannot be installed or removed (the message says why and what to do)."""


def _shim_version() -> str:
    from . import __version__

    return f"{API_VERSION}+extism.native.{__version__}"


def _init_text() -> str:
    from . import __version__

    return (
        '"""extism_sys provided by extism_native %s: the official extism package runs on\n'
        "extism_native's engine.  Written by `python -m extism_native install-extism-sys`;\n"
        'remove with `python -m extism_native uninstall-extism-sys`."""\n'
        "from extism_native._extism_sys import ffi, lib\n\n"
        '__all__ = ["ffi", "lib"]\n'
        "%s\n" % (__version__, MARKER))


def _metadata_text() -> str:
    from . import __version__

    return (
        "Metadata-Version: 2.1\n"
        "Name: extism-sys\n"
        f"Version: {_shim_version()}\n"
        "Summary: extism_sys compatibility shim: runs the official extism package on "
        "extism_native's engine\n"
        f"Requires-Dist: extism_native>={__version__}\n"
        "License: BSD-3-Clause\n")


def default_target(user: bool = False) -> Path:
    """Where ``install`` writes by default: the running interpreter's site-packages (``purelib``,
    where pip installs), or the user site-packages if ``user``."""
    if user:
        return Path(site.getusersitepackages())
    return Path(sysconfig.get_paths()["purelib"])


def _dist_infos(target: Path) -> List[Path]:
    if not target.is_dir():
        return []
    return sorted(p for p in target.iterdir()
                  if p.is_dir() and p.name.lower().startswith(("extism_sys-", "extism-sys-"))
                  and p.name.endswith(".dist-info"))


def _is_ours(target: Path) -> bool:
    init = target / "extism_sys" / "__init__.py"
    pkg_ours = (not (target / "extism_sys").exists()
                or (init.is_file() and MARKER in init.read_text(errors="replace")))
    infos_ours = all((d / "INSTALLER").is_file()
                     and (d / "INSTALLER").read_text().strip() == _INSTALLER
                     for d in _dist_infos(target))
    return pkg_ours and infos_ours


def find_installed(path: Optional[Iterable[str]] = None) -> Optional[Tuple[Path, bool]]:
    """The ``extism_sys`` package Python would import from ``path`` (default ``sys.path``):
    ``(package directory, True if it is our shim)``, or None if there is none."""
    importlib.invalidate_caches()
    spec = importlib.machinery.PathFinder.find_spec("extism_sys", list(path or sys.path))
    if spec is None or not spec.origin:
        return None
    origin = Path(spec.origin)
    ours = origin.name == "__init__.py" and MARKER in origin.read_text(errors="replace")
    return origin.parent, ours


def _record_line(target: Path, path: Path) -> str:
    data = path.read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path.relative_to(target).as_posix()},sha256={digest},{len(data)}"


def _remove_distribution(target: Path) -> None:
    """Remove every extism_sys package and dist-info at ``target`` (files listed in RECORD
    first, then the directories)."""
    for info in _dist_infos(target):
        record = info / "RECORD"
        if record.is_file():
            for line in record.read_text(errors="replace").splitlines():
                rel = line.rsplit(",", 2)[0] if line else ""
                if not rel or rel.startswith(("/", "..")) or ".." in Path(rel).parts:
                    continue
                f = target / rel
                if f.is_file() or f.is_symlink():
                    f.unlink()
        shutil.rmtree(info, ignore_errors=True)
    shutil.rmtree(target / "extism_sys", ignore_errors=True)


def install(target: Optional[Path] = None, force: bool = False) -> Path:
    """Write the shim package and its metadata into ``target`` (default: :func:`default_target`).

    Replaces an earlier shim.  Returns the package directory written.

    Raises:
        ShimError: ``target`` holds a real ``extism_sys`` (and not ``force``), or cannot be
            written.
    """
    target = Path(target) if target is not None else default_target()
    if not _is_ours(target):
        if not force:
            raise ShimError(
                f"{target} already has an extism_sys that is not extism_native's (probably the "
                "official Rust runtime from PyPI): remove it first with `pip uninstall "
                "extism-sys`, or pass --force to replace it")
    try:
        target.mkdir(parents=True, exist_ok=True)
        _remove_distribution(target)
        pkg = target / "extism_sys"
        pkg.mkdir()
        (pkg / "__init__.py").write_text(_init_text(), encoding="utf-8")
        info = target / f"extism_sys-{_shim_version()}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(_metadata_text(), encoding="utf-8")
        (info / "INSTALLER").write_text(_INSTALLER + "\n", encoding="utf-8")
        (info / "top_level.txt").write_text("extism_sys\n", encoding="utf-8")
        files = [pkg / "__init__.py", info / "METADATA", info / "INSTALLER",
                 info / "top_level.txt"]
        lines = [_record_line(target, f) for f in files]
        lines.append(f"{(info / 'RECORD').relative_to(target).as_posix()},,")
        (info / "RECORD").write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ShimError(f"cannot write the shim into {target}: {exc.strerror or exc}"
                        " (use --target DIR or --user)") from None
    return pkg


def uninstall(target: Optional[Path] = None) -> bool:
    """Remove the shim from ``target`` (default: :func:`default_target`).

    Returns False if there was nothing to remove.

    Raises:
        ShimError: the ``extism_sys`` there is not our shim (use pip to remove it).
    """
    target = Path(target) if target is not None else default_target()
    if not (target / "extism_sys").exists() and not _dist_infos(target):
        return False
    if not _is_ours(target):
        raise ShimError(f"the extism_sys in {target} is not extism_native's shim: remove it "
                        "with `pip uninstall extism-sys`")
    try:
        _remove_distribution(target)
    except OSError as exc:
        raise ShimError(f"cannot remove the shim from {target}: {exc}") from None
    return True

