"""What C -> Python callbacks (log sinks, host functions, WASI output, HTTP) need to find
their way back.

Every Plugin registers one :class:`PluginContext` in the slab and passes its key to C as the
call's host context and as its callbacks' user data.  A callback finds there the object given
as ``host_context`` to ``Plugin.call``, where to park an exception raised by user code
(``Plugin.call`` raises it again once the guest has stopped), and the plugin's log sink.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ._native import slab

class PluginContext:
    """Per-plugin state reachable from C callbacks (registered in the slab)."""

    __slots__ = ("owner", "error", "host_context", "log_target", "log_level", "c_key",
                 "outputs", "http_transport", "__weakref__")

    def __init__(self, owner: int) -> None:
        self.owner = owner  # id() of the Plugin
        self.error: Optional[BaseException] = None
        self.host_context: Any = None
        self.log_target: Any = None
        self.log_level: Optional[int] = None
        self.outputs: Dict[int, Any] = {}  # WASI fd -> callable or capture buffer
        self.http_transport: Any = None  # None: extism_native.http.default_transport
        self.c_key = slab.add(self)

    def close(self) -> None:
        slab.remove(self.c_key)


def context_of(c_key: Any) -> Optional[PluginContext]:
    """The context registered under a pointer from C, if any."""
    obj = slab.get(c_key)
    return obj if type(obj) is PluginContext else None
