"""PluginPool: a bounded set of instances of one compiled plugin, checked out one at a time.

>>> pool = PluginPool(CompiledPlugin(wasm_bytes), max_instances=4)   # doctest: +SKIP
>>> with pool.get() as plugin:                                       # doctest: +SKIP
...     plugin.call("count_vowels", "hello")
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import _pickling, errors
from .plugin import CompiledPlugin, Plugin, PluginSource


class PluginPool:
    """Up to ``max_instances`` instances of one plugin, created on demand, safe across threads.

    Each checkout gets an instance no other thread is using; when it comes back its kernel
    memory is reset (its globals and vars persist, as for any plugin between calls).

    Args:
        plugin: a :class:`CompiledPlugin`, or anything :class:`CompiledPlugin` accepts.
        max_instances: the bound (default: the number of CPUs).
        **plugin_kwargs: passed to every :class:`Plugin` (config, logger, ...).

    A pool pickles as a new, empty pool of the same compiled plugin, bound and keyword
    arguments (the instances stay behind); an instance checked out of it pickles as any
    :class:`Plugin` made from a :class:`CompiledPlugin`.
    """

    def __init__(self, plugin: "CompiledPlugin | PluginSource", max_instances: Optional[int] = None,
                 **plugin_kwargs: Any) -> None:
        self.compiled = plugin if isinstance(plugin, CompiledPlugin) else CompiledPlugin(plugin)
        self.max_instances = max_instances or os.cpu_count() or 1
        if self.max_instances < 1:
            raise ValueError("max_instances must be at least 1")
        self._kwargs = plugin_kwargs
        self._idle: List[Plugin] = []
        self._count = 0
        self._closed = False
        self._cond = threading.Condition()

    def _checkout(self, timeout: Optional[float]) -> Plugin:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed:
                    raise errors.UsageError("the pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.max_instances:
                    self._count += 1
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no plugin instance became free within {timeout} s")
                self._cond.wait(left)
        try:
            return Plugin(self.compiled, **self._kwargs)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _checkin(self, plugin: Plugin) -> None:
        with self._cond:
            if self._closed or plugin.closed:
                self._count -= 1
                plugin.close()
            else:
                plugin.reset()
                self._idle.append(plugin)
            self._cond.notify()

    @contextmanager
    def get(self, timeout: Optional[float] = None) -> Iterator[Plugin]:
        """Check out an instance for the ``with`` block.

        Raises:
            TimeoutError: none became free within ``timeout`` seconds.
            UsageError: the pool is closed.
        """
        plugin = self._checkout(timeout)
        try:
            yield plugin
        finally:
            self._checkin(plugin)

    def call(self, function_name: str, data: Any = b"", **kwargs: Any) -> Any:
        """Call a function on any free instance (see :meth:`Plugin.call`)."""
        with self.get() as plugin:
            return plugin.call(function_name, data, **kwargs)

    async def call_async(self, function_name: str, data: Any = b"", **kwargs: Any) -> Any:
        """:meth:`call` without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.call(function_name, data, **kwargs))

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle as an empty pool made the same way (see the class docstring).

        Raises:
            pickle.PicklingError: a keyword argument for the instances cannot be pickled.
            UsageError: the pool is closed.
        """
        if self._closed:
            raise errors.UsageError("cannot pickle a closed pool")
        for key, value in self._kwargs.items():
            _pickling.check(f"the {key} of the pool's plugins", value)
        return (_pool, (self.compiled, self.max_instances, dict(self._kwargs)))

    @property
    def count(self) -> int:
        """Instances created so far (idle or in use)."""
        return self._count

    def close(self) -> None:
        """Close idle instances now and the others when they come back."""
        with self._cond:
            self._closed = True
            for plugin in self._idle:
                plugin.close()
                self._count -= 1
            self._idle.clear()
            self._cond.notify_all()

    def __enter__(self) -> "PluginPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _pool(compiled: CompiledPlugin, max_instances: int, kwargs: Dict[str, Any]) -> PluginPool:
    """Unpickle a PluginPool."""
    return PluginPool(compiled, max_instances, **kwargs)
