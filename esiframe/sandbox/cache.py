"""The sandbox's own memory of generated content, so long walks are served quickly.

Generated pages are kept so that a whole walk of up to about 1,000 market pages (230 KB each)
is served without regenerating or re-encoding any page (as ESI serves from its own cache);
bounded by entries and encoded bytes. A smaller bound made a longer walk evict every page
before it was asked again, so each walk regenerated all of them.
This is the server's cache, independent of any client cache on purpose.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ContentCache"]

_T = TypeVar("_T")


class ContentCache:
    """A thread-safe LRU map from keys to generated values, bounded by count and bytes."""

    def __init__(self, entries: int = 1536, size: int = 320 << 20) -> None:
        self._entries = entries
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._bytes = 0

    def get(self, key: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """The value kept for ``key``, made (outside the lock) and kept when missing."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                cached: _T = self._values[key]
                return cached
        value = make()
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._bytes += _size(value)
            while len(self._values) > self._entries or self._bytes > self._size:
                self._bytes -= _size(self._values.popitem(last=False)[1])
        return value


def _size(value: Any) -> int:
    """Bytes an encoded entry holds (generated objects count as small)."""
    return len(value) if isinstance(value, bytes) else 1024
