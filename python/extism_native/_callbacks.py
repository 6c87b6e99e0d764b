"""Bookkeeping for C -> Python callbacks (log sinks, host functions).

While a callback of a plugin runs, the plugin is marked on the current thread, so that a call
back into the same plugin is reported as a re-entrant call instead of deadlocking on the
plugin's lock.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

_local = threading.local()


def in_callback(plugin: Any) -> bool:
    """True if the current thread is running a callback of ``plugin``."""
    return id(plugin) in getattr(_local, "plugins", ())


@contextmanager
def callback_of(plugin_id: int) -> Iterator[None]:
    """Mark the current thread as running a callback of the plugin whose ``id()`` is given."""
    plugins = getattr(_local, "plugins", None)
    if plugins is None:
        plugins = _local.plugins = []
    plugins.append(plugin_id)
    try:
        yield
    finally:
        plugins.pop()
