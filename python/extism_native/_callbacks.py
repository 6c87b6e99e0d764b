"""What C -> Python callbacks (log sinks, host functions) need to find their way back.

Every Plugin registers one :class:`PluginContext` in the slab and passes its id to C as the
call's host context.  A callback finds it there: the object given as ``host_context`` to
``Plugin.call``, where to park an exception raised by user code (``Plugin.call`` raises it
again once the guest has stopped), and the plugin's log sink.

While a callback runs, the plugin is marked on the current thread, so that a call back into the
same plugin is reported as a re-entrant call instead of deadlocking on the plugin's lock.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from ._native import Slab, slab

_local = threading.local()


class PluginContext:
    """Per-plugin state reachable from C callbacks (registered in the slab)."""

    __slots__ = ("key", "owner", "error", "host_context", "log_target", "log_level", "c_key",
                 "outputs", "http_transport", "__weakref__")

    def __init__(self, owner: int) -> None:
        self.owner = owner  # id() of the Plugin
        self.error: Optional[BaseException] = None
        self.host_context: Any = None
        self.log_target: Any = None
        self.log_level: Optional[int] = None
        self.outputs: Dict[int, Any] = {}  # WASI fd -> callable or capture buffer
        self.http_transport: Any = None  # None: extism_native.http.default_transport
        self.key = slab.add(self)
        self.c_key = Slab.to_c(self.key)

    def close(self) -> None:
        slab.remove(self.key)


def context_of(c_key: Any) -> Optional[PluginContext]:
    """The context registered under a host-context pointer from C, if any."""
    obj = slab.get(Slab.from_c(c_key))
    return obj if isinstance(obj, PluginContext) else None


def enter(ctx: PluginContext) -> List[int]:
    """Mark the current thread as running a callback of ctx's plugin; pass the result to
    :func:`leave`."""
    plugins = getattr(_local, "plugins", None)
    if plugins is None:
        plugins = _local.plugins = []
    plugins.append(ctx.owner)
    return plugins


def leave(plugins: List[int]) -> None:
    plugins.pop()


def in_callback(plugin: Any) -> bool:
    """True if the current thread is running a callback of ``plugin``."""
    return id(plugin) in getattr(_local, "plugins", ())
