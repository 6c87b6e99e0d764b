"""What C -> Python callbacks (log sinks, host functions, WASI output, HTTP) need to find
their way back.

Every Plugin registers one :class:`PluginContext` in the slab and passes its key to C as the
call's host context and as its callbacks' user data.  A callback finds there the object given
as ``host_context`` to ``Plugin.call``, where to park an exception raised by user code
(``Plugin.call`` raises it again once the guest has stopped), and the plugin's log sink.
"""

from __future__ import annotations

from threading import get_ident
from typing import Any, Dict, Optional

from ._native import slab


class PluginContext:
    """Per-plugin state reachable from C callbacks (registered in the slab).

    What belongs to one call - the ``host_context`` object and an exception a callback parks
    for ``Plugin.call`` - is kept per thread: a thread runs at most one call of a plugin at a
    time (a host function cannot re-enter its own plugin), while other threads' calls of the
    same plugin may wait for it or run before and after it."""

    __slots__ = ("owner", "_errors", "_contexts", "log_target", "log_level", "c_key",
                 "outputs", "http_transport", "plugin_ref", "__weakref__")

    def __init__(self, owner: int) -> None:
        self.owner = owner  # id() of the Plugin
        self._errors: Dict[int, BaseException] = {}  # thread id -> exception of its call
        self._contexts: Dict[int, Any] = {}  # thread id -> host_context of its call
        self.log_target: Any = None
        self.log_level: Optional[int] = None
        self.outputs: Dict[int, Any] = {}  # WASI fd -> callable or capture buffer
        self.http_transport: Any = None  # None: extism_native.http.default_transport
        self.plugin_ref: Any = None  # the C plugin object (memory views keep it alive)
        self.c_key = slab.add(self)

    @property
    def error(self) -> Optional[BaseException]:
        """The exception parked by a callback of the call running on this thread."""
        return self._errors.get(get_ident())

    @error.setter
    def error(self, exc: Optional[BaseException]) -> None:
        if exc is None:
            self._errors.pop(get_ident(), None)
        else:
            self._errors[get_ident()] = exc

    def take_error(self) -> Optional[BaseException]:
        """The parked exception of this thread's call, forgotten here."""
        return self._errors.pop(get_ident(), None) if self._errors else None

    @property
    def host_context(self) -> Any:
        """The ``host_context`` of the call running on this thread."""
        return self._contexts.get(get_ident())

    def set_host_context(self, value: Any) -> None:
        if value is None:
            self._contexts.pop(get_ident(), None)
        else:
            self._contexts[get_ident()] = value

    def close(self) -> None:
        slab.remove(self.c_key)


def context_of(c_key: Any) -> Optional[PluginContext]:
    """The context registered under a pointer from C, if any."""
    obj = slab.get(c_key)
    return obj if type(obj) is PluginContext else None
