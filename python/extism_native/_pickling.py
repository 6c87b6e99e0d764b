"""Pickling support shared by CompiledPlugin, Plugin, PluginPool, Function and WASI.

Objects of this package pickle as what they were made from (see ``Plugin.__reduce__``): the
bytes the C core got and the options, with Python callables - host functions, loggers,
transports, WASI output callbacks - pickled as :mod:`pickle` handles functions, by reference to
a module-level name.  Each such part is tried with the standard pickle before the object is
handed to the pickler, so a part that cannot travel fails with a :class:`pickle.PicklingError`
naming it ("cannot pickle the logger of plugin 'kitchen': ...") instead of an error about some
inner object, and nothing the user set is silently left out.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any, Optional

_SIMPLE = (type(None), bool, int, float, str, bytes)

HINT = ("pickle stores functions by reference (module and qualified name), so only functions "
        "defined at the top level of a module can travel - not lambdas, functions defined "
        "inside another function, or objects holding them")


class PartPicklingError(pickle.PicklingError):
    """A part of an extism_native object cannot be pickled (the message names it)."""


def check(what: str, value: Any) -> None:
    """Raise PartPicklingError naming `what` if `value` cannot be pickled.

    The standard pickle decides, also when another pickler (cloudpickle) asked: the parts of a
    plugin travel by reference whatever carries them."""
    if isinstance(value, _SIMPLE):
        return
    try:
        pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except PartPicklingError as exc:  # an inner part, named: say what it belongs to
        raise PartPicklingError(f"cannot pickle {what}: {exc}") from exc
    except Exception as exc:
        raise PartPicklingError(f"cannot pickle {what} ({value!r}): {exc}; {HINT}") from exc


def global_name(obj: Any) -> Optional[str]:
    """The qualified name under which `obj` is reachable from its module, or None."""
    module_name = getattr(obj, "__module__", None)
    qualname = obj.__dict__.get("__qualname__") if hasattr(obj, "__dict__") else None
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return qualname if found is obj else None


def unpicklable(what: str, why: str) -> pickle.PicklingError:
    """The error for an object that never travels."""
    return PartPicklingError(f"cannot pickle {what}: {why}")
